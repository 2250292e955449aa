"""The storefront's forms: errors in Chinese, shown beside their field (``web/field.html``)."""

from __future__ import annotations

import math

from django import forms
from django.utils.translation import gettext_lazy as _

from o2o.accounts import pii
from o2o.common.errors import ApiError
from o2o.core.geo import in_china_bbox
from o2o.web.shop import districts
from o2o.web.shop.districts import DISTRICTS, QUERY_MAX

NUMBER_ERRORS = {"required": _("请填写这一项。"), "invalid": _("请输入数字。"),
                 "min_value": _("数值太小。"), "max_value": _("数值太大。")}


def clean_phone(value: str) -> str:
    try:
        return pii.normalize_phone(value)
    except ApiError:
        raise forms.ValidationError(_("请输入正确的 11 位手机号，例如 13812345678。")) from None


class SignInForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20, error_messages={"required": _("请输入手机号。")},
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel",
                                                          "placeholder": "13812345678"}))
    code = forms.CharField(label=_("验证码"), max_length=6, required=False,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                                         "placeholder": _("6 位数字")}))

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_code(self) -> str:
        code = (self.cleaned_data.get("code") or "").strip()
        if code and not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise forms.ValidationError(_("验证码是 6 位数字。"))
        return code


class LocationForm(forms.Form):
    district = forms.ChoiceField(label=_("选择区"), required=False,
                                 choices=[("", _("— 选择上海的区 —"))] + [(d.code, _(d.name)) for d in DISTRICTS])
    lat = forms.FloatField(label=_("纬度"), required=False, error_messages=NUMBER_ERRORS,
                           widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "31.1885"}))
    lng = forms.FloatField(label=_("经度"), required=False, error_messages=NUMBER_ERRORS,
                           widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "121.4365"}))
    coord = forms.ChoiceField(choices=[("gcj02", "GCJ-02"), ("wgs84", "WGS-84")], required=False,
                              widget=forms.HiddenInput)
    place = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)  # a search result's key

    def clean_place(self) -> districts.Place | None:
        key = (self.cleaned_data.get("place") or "").strip()
        if not key:
            return None
        found = districts.place(key)
        if found is None:
            raise forms.ValidationError(_("这个地点已不在列表中，请重新搜索。"))
        return found

    def clean(self) -> dict:
        data = super().clean()
        lat, lng = data.get("lat"), data.get("lng")
        if self.errors or data.get("place") is not None:
            return data
        if lat is None and lng is None:
            if not data.get("district"):
                raise forms.ValidationError(_("请选择一个区，或者填写经纬度，或者使用定位。"))
            return data
        if lat is None:
            self.add_error("lat", _("请同时填写纬度和经度。"))
        if lng is None:
            self.add_error("lng", _("请同时填写纬度和经度。"))
        if lat is not None and lng is not None and not (
                math.isfinite(lat) and math.isfinite(lng) and in_china_bbox(lat, lng)):
            self.add_error("lat", _("这个位置不在中国境内。"))
        return data


class PlaceSearchForm(forms.Form):
    """Search a place by name ("徐家汇", "大宁商圈", "家乐福"): the words a customer types, checked for sense."""

    q = forms.CharField(label=_("输入小区/地址"), max_length=QUERY_MAX, strip=True,
                        error_messages={"required": _("请输入小区、商圈、道路或商场的名字。"),
                                        "max_length": _("请输入 %(limit_value)d 个字以内的地名。")},
                        widget=forms.TextInput(attrs={
                            "type": "search", "autocomplete": "off", "enterkeyhint": "search",
                            "placeholder": _("例如：漕河泾、大宁商圈、家乐福"), "aria-controls": "place-results",
                            # suggestions as the customer types (the form's submit asks the same)
                            "hx-get": "/shop/location", "hx-trigger": "input changed delay:400ms, search",
                            "hx-target": "#place-results", "hx-swap": "outerHTML", "hx-include": "closest form"}))

    def clean_q(self) -> str:
        value = " ".join(self.cleaned_data["q"].replace("\x00", "").split())
        if not any(ch.isalnum() for ch in value):  # only punctuation or symbols: nothing to look for
            raise forms.ValidationError(_("请输入小区、商圈、道路或商场的名字。"))
        return value


class AddForm(forms.Form):
    sku_id = forms.IntegerField(min_value=1, max_value=2**63 - 1, error_messages=NUMBER_ERRORS)
    qty = forms.IntegerField(min_value=1, max_value=999, required=False, error_messages=NUMBER_ERRORS)


class LineForm(forms.Form):
    sku_id = forms.IntegerField(min_value=1, max_value=2**63 - 1, error_messages=NUMBER_ERRORS)
    qty = forms.IntegerField(min_value=0, max_value=999, error_messages=NUMBER_ERRORS)


class CheckoutForm(forms.Form):
    """The option is ``kind:location_id:total_fen`` as rendered (total = what the customer saw). ``coupon`` is one
    of the member's coupons usable online (``coupons``: (id, label) pairs, given by the view); ``use_points``
    asks for as many points as allowed."""

    option = forms.CharField(max_length=60, error_messages={"required": _("请选择一种配送方式。")})
    contact_name = forms.CharField(label=_("收货人"), max_length=64, required=False,
                                   widget=forms.TextInput(attrs={"autocomplete": "name"}))
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                                    widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "street-address",
                                                            "placeholder": _("例如：漕溪北路 336 号 5 楼")}))
    coupon = forms.TypedChoiceField(label=_("优惠券"), required=False, coerce=int, empty_value=None,
                                    error_messages={"invalid_choice": _("这张优惠券已不可用，请重新选择。")})
    use_points = forms.BooleanField(label=_("使用积分抵扣"), required=False)
    idem = forms.CharField(max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args, coupons: list[tuple[int, str]] | tuple = (), **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["coupon"].choices = [("", _("不使用优惠券")), *coupons]

    def clean_option(self) -> tuple[str, int | None, int]:
        raw = self.cleaned_data["option"]
        parts = raw.split(":")
        try:
            kind, loc, total = parts
            location_id = int(loc) if loc else None
            total_fen = int(total)
        except ValueError:
            raise forms.ValidationError(_("请选择一种配送方式。")) from None
        if kind not in ("pickup", "same_city", "express") or (kind == "pickup") != (location_id is not None) \
                or total_fen < 0 or (location_id is not None and location_id <= 0):
            raise forms.ValidationError(_("请选择一种配送方式。"))
        return kind, location_id, total_fen

    def clean_contact_phone(self) -> str:
        value = (self.cleaned_data.get("contact_phone") or "").strip()
        return clean_phone(value) if value else ""

    def clean(self) -> dict:
        data = super().clean()
        option = data.get("option")
        if option and option[0] != "pickup":
            for name, message in (("contact_name", _("请填写收货人。")), ("contact_phone", _("请填写联系电话。")),
                                  ("address", _("请填写详细地址。"))):
                if not (data.get(name) or "").strip() and name not in self.errors:
                    self.add_error(name, message)
        return data


class PayForm(forms.Form):
    provider = forms.ChoiceField(choices=[("wechat", _("微信支付")), ("alipay", _("支付宝"))],
                                 error_messages={"required": _("请选择支付方式。"),
                                                 "invalid_choice": _("请选择支付方式。")})
