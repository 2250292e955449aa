"""Staff sign-in and sign-out of the console (Django's own views, with the console's page and wording)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _


class ConsoleAuthForm(AuthenticationForm):
    username = forms.CharField(label=_("用户名"), max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username",
                                                             "autocapitalize": "none"}),
                               error_messages={"required": _("请输入用户名。")})
    password = forms.CharField(label=_("密码"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               error_messages={"required": _("请输入密码。")})
    error_messages = {
        "invalid_login": _("用户名或密码不正确，请重新输入（区分大小写）。"),
        "inactive": _("该账号已停用，请联系店长或总部。"),
    }


class ConsoleLogin(LoginView):
    template_name = "web/console/login.html"
    form_class = ConsoleAuthForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return "/console/"

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


login = ConsoleLogin.as_view()
logout = LogoutView.as_view(next_page="/console/login")
