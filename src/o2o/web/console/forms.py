"""The console's forms: Chinese labels and errors beside each field; the services decide the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from o2o.accounts import pii
from o2o.common.errors import InvalidInput
from o2o.marketing import codes
from o2o.members import codes as member_codes

MAX_QTY = 1_000_000  # as the inventory and returns services allow


def _int(label: str, *, min_value: int, max_value: int = MAX_QTY, **kw) -> forms.IntegerField:  # noqa: ANN003
    return forms.IntegerField(
        label=label, min_value=min_value, max_value=max_value,
        error_messages={"required": _("请填写数量。"), "invalid": _("请输入整数。"),
                        "min_value": _("不能小于 %(limit_value)s。"), "max_value": _("不能大于 %(limit_value)s。")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}), **kw)


class ReadyForm(forms.Form):
    tracking_no = forms.CharField(label=_("快递运单号"), max_length=64, required=False,
                                  error_messages={"max_length": _("运单号最多 %(limit_value)d 个字符。")})


class ShortForm(forms.Form):
    # The API's RejectIn: a reason of 1-160 characters.
    reason = forms.CharField(label=_("缺货原因"), max_length=160,
                             widget=forms.TextInput(attrs={"list": "short-reasons", "autocomplete": "off"}),
                             error_messages={"required": _("请填写缺货原因。"),
                                             "max_length": _("原因最多 %(limit_value)d 个字。")})


class VerifyForm(forms.Form):
    code = forms.CharField(label=_("取货码或二维码内容"), max_length=512,
                           help_text=_("输入顾客的 10 位取货码，或用扫码枪扫描顾客的取货二维码，按回车核销。"),
                           widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True,
                                                         "data-testid": "pickup-code-input", "enterkeyhint": "go"}),
                           error_messages={"required": _("请输入取货码或扫描二维码。"),
                                           "max_length": _("内容过长，请重新扫描。")})

    def payload(self) -> dict[str, str]:
        """A scanned QR (``o2o1.`` payload) or a typed code, as the service takes it."""
        text = self.cleaned_data["code"].strip()
        return {"qr": text} if text.lower().startswith("o2o1.") else {"code": text}


class CouponCodeForm(forms.Form):
    """A coupon's 16 digits, typed (spaces, dashes and full-width digits are fine) or scanned from its QR code."""

    coupon_code = forms.CharField(label=_("优惠券券码"), max_length=64,
                                  help_text=_("输入顾客出示的 16 位券码，或用扫码枪扫描券上的二维码。"),
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric",
                                                                "data-testid": "coupon-code-input",
                                                                "enterkeyhint": "search"}),
                                  error_messages={"required": _("请输入券码或扫描二维码。"),
                                                  "max_length": _("内容过长，请重新扫描。")})

    def clean_coupon_code(self) -> str:
        code = codes.normalize(self.cleaned_data["coupon_code"])
        if code is None:
            raise forms.ValidationError(_("券码格式不正确（应为 16 位数字），请核对后重新输入。"))
        return code


class MemberLookupForm(forms.Form):
    """A phone number typed, or a member code (会员码) typed or scanned: 18 digits starting 88 (a phone starts 1)."""

    phone = forms.CharField(label=_("会员手机号或会员码"), max_length=64,
                            help_text=_("输入 11 位手机号，或用扫码枪扫描顾客出示的会员码。"),
                            widget=forms.TextInput(attrs={"autocomplete": "off", "data-testid": "member-query",
                                                          "enterkeyhint": "search"}),
                            error_messages={"required": _("请输入手机号或扫描会员码。"),
                                            "max_length": _("内容过长，请重新扫描。")})

    def clean_phone(self) -> str:
        text = self.cleaned_data["phone"]
        if member_codes.looks_like_code(text):
            code = member_codes.normalize(text)
            if code is None:
                raise forms.ValidationError(_("会员码不正确，请让顾客刷新会员码后重新扫描。"))
            self.way = "code"
            return code
        try:
            digits = pii.normalize_phone(text)
        except InvalidInput:
            raise forms.ValidationError(_("手机号格式不正确，请输入 11 位手机号。")) from None
        self.way = "phone"
        return digits

    def lookup(self) -> dict[str, str]:
        """What ``members.lookup.member_lookup`` takes: ``{"phone": ...}`` or ``{"code": ...}``."""
        return {self.way: self.cleaned_data["phone"]}


class ReturnFindForm(forms.Form):
    order = forms.CharField(label=_("订单号"), max_length=32, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                            error_messages={"required": _("请输入订单号。"), "max_length": _("订单号最多 32 位。")})


class ReturnReasonForm(forms.Form):
    reason = forms.CharField(label=_("退货原因"), max_length=200, required=False,
                             widget=forms.TextInput(attrs={"list": "return-reasons", "autocomplete": "off"}),
                             error_messages={"max_length": _("原因最多 %(limit_value)d 个字。")})


class SkuSearchForm(forms.Form):
    q = forms.CharField(label=_("商品编码、条码或名称"), max_length=100, required=False,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}))


class AdjustForm(forms.Form):
    sku_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    delta = _int(_("调整数量（增加为正，减少为负）"), min_value=-MAX_QTY)
    reason = forms.CharField(label=_("调整原因"), max_length=200,
                             widget=forms.TextInput(attrs={"list": "adjust-reasons", "autocomplete": "off"}),
                             error_messages={"required": _("请填写调整原因。"),
                                             "max_length": _("原因最多 %(limit_value)d 个字。")})

    def clean_delta(self) -> int:
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError(_("调整数量不能为 0。"))
        return delta

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写调整原因。"))
        return reason


class CountForm(forms.Form):
    sku_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    counted = _int(_("实盘数量"), min_value=0)


class TransferForm(forms.Form):
    sku_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    destination = forms.TypedChoiceField(label=_("调入网点"), coerce=int, choices=(),
                                         error_messages={"required": _("请选择调入网点。"),
                                                         "invalid_choice": _("请选择列表中的网点。")})
    qty = _int(_("调出数量"), min_value=1)
    reference = forms.CharField(label=_("备注 / 单号（选填）"), max_length=100, required=False)

    def __init__(self, *args, destinations: list[tuple[int, str]] = (), **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["destination"].choices = [("", _("请选择")), *destinations]
