"""Sign-in with a phone number and a one-time code; sign-out.

The member is found by phone (blind index) or created; the visitor's cart is merged into the
member's (``carts.cart_merge``). ``next`` is followed only when it is a path on this site.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from o2o.accounts.identities import member_identify
from o2o.accounts.models import Member
from o2o.common.errors import ApiError
from o2o.orders import carts
from o2o.web.auth import SESSION_CART, current_member, member_sign_in, member_sign_out
from o2o.web.shop import sms
from o2o.web.shop.forms import SignInForm
from o2o.web.shop.pages import page, safe_next

CHECK_ERRORS = {
    sms.Check.WRONG: gettext_lazy("验证码不正确，请重新输入。"),
    sms.Check.EXPIRED: gettext_lazy("验证码已过期，请重新获取。"),
    sms.Check.TOO_MANY: gettext_lazy("错误次数过多，请重新获取验证码。"),
    sms.Check.NONE: gettext_lazy("请先获取验证码。"),
}


def _member_for(phone: str) -> Member:
    """The member whose phone identity this is (OneID), or a new one registered on channel h5."""
    return member_identify(kind="phone", value=phone, channel="h5", now=timezone.now()).member


def _render(request: HttpRequest, form: SignInForm, *, status: int = 200, sent: bool = False,
            wait_s: int = 0) -> HttpResponse:
    phone = form.cleaned_data.get("phone") if form.is_bound and hasattr(form, "cleaned_data") else None
    return page(request, "web/shop/login.html", {
        "form": form, "next": safe_next(request), "sent": sent, "wait_s": wait_s,
        "sandbox": sms.sandbox(), "sandbox_code": sms.sandbox_code(request.session, phone) if phone else None,
    }, status=status)


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if current_member(request) is not None:
            return redirect(safe_next(request, "/shop/me"))
        return _render(request, SignInForm())
    form = SignInForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    phone = form.cleaned_data["phone"]
    if request.POST.get("action") == "send":
        ip = request.META.get("REMOTE_ADDR") or None
        code, wait_s = sms.issue(request.session, phone, ip=ip)
        if code is not None and not sms.sandbox() and not sms.deliver(phone, code):
            sms.forget(request.session, phone, ip)
            failed = _bound(phone)
            failed.add_error("phone", _("短信发送失败，请稍后再试。"))
            return _render(request, failed, status=503)
        return _render(request, _bound(phone), sent=code is not None, wait_s=wait_s)
    code = form.cleaned_data["code"]
    if not code:
        form.add_error("code", _("请输入 6 位验证码。"))
        return _render(request, form, status=400)
    result = sms.verify(request.session, phone, code)
    if result is not sms.Check.OK:
        form.add_error("code", str(CHECK_ERRORS[result]))
        return _render(request, form, status=400)
    try:
        member = _member_for(phone)
    except ApiError as exc:  # a deactivated member: say so beside the phone, sign nobody in
        form.add_error("phone", _("这个手机号的会员账号已停用，请联系客服。"))
        return _render(request, form, status=exc.status if 400 <= exc.status < 500 else 400)
    token = request.session.pop(SESSION_CART, "")
    member_sign_in(request, member)
    if token:
        try:
            carts.cart_merge(token=token, member=member)
        except ApiError:
            pass  # a cart that was not the visitor's to merge: the member keeps their own
    return redirect(safe_next(request, "/shop/me"))


def _bound(phone: str) -> SignInForm:
    form = SignInForm(data={"phone": phone})
    form.is_valid()
    return form


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    member_sign_out(request)
    return redirect("/shop/")
