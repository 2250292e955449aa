"""Shared pieces of the CSV/Excel resources (django-import-export) of the apps.

Strict on units and types: money is integer fen ("12.30" is refused, never rounded to 12 fen),
counts are whole numbers, yes/no columns take 是/否/1/0/true/false and nothing else, and a code
that names nothing is a row error in Chinese. A file is all or nothing: one bad row, nothing written.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, FieldError, ValidationError
from django.utils.translation import gettext as _
from import_export import resources, widgets
from import_export.results import Error

_INT = re.compile(r"^[+-]?\d+$")


class QuietError(Error):
    """A row or file error shown by its message only: the import page never shows a traceback."""

    @property
    def traceback(self) -> str:  # type: ignore[override]
        return ""


def _whole(value, what: str) -> int:  # noqa: ANN001
    """A whole number from a cell: 12, "12", 12.0 (Excel) -- but not "12.3" or "1,2"."""
    if isinstance(value, bool):
        raise ValueError(_("%(what)s须为整数") % {"what": what})
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(_("%(what)s须为整数") % {"what": what})
        return int(value)
    text = str(value).strip()
    if not _INT.match(text):
        raise ValueError(_("%(what)s须为整数") % {"what": what})
    return int(text)


class FenWidget(widgets.IntegerWidget):
    """Money in integer fen (分), more than zero: 1230 is ¥12.30; "12.30" is refused, not rounded."""

    def clean(self, value, row=None, **kwargs):  # noqa: ANN001, ANN201
        if self.is_empty(value):
            return None
        try:
            fen = _whole(value, _("金额"))
        except ValueError:
            raise ValueError(_("金额以分为单位，须为整数（1230 表示 ¥12.30）：%(value)s") % {"value": value}) from None
        if fen <= 0:
            raise ValueError(_("金额必须大于 0"))
        return fen


class WholeWidget(widgets.IntegerWidget):
    """A whole number, at least ``minimum``."""

    def __init__(self, minimum: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum

    def clean(self, value, row=None, **kwargs):  # noqa: ANN001, ANN201
        if self.is_empty(value):
            return None
        n = _whole(value, _("数量"))
        if n < self.minimum:
            raise ValueError(_("不能小于 %(min)s") % {"min": self.minimum})
        return n


class CoordWidget(widgets.FloatWidget):
    """A coordinate in degrees, stored exactly as given (the column names its system: GCJ-02)."""

    def clean(self, value, row=None, **kwargs):  # noqa: ANN001, ANN201
        if self.is_empty(value):
            return None
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(_("坐标须为数字（度）：%(value)s") % {"value": value}) from None
        if not math.isfinite(number):
            raise ValueError(_("坐标须为数字（度）：%(value)s") % {"value": value})
        return number


class YesNoWidget(widgets.BooleanWidget):
    """是/否, 1/0, true/false, yes/no; anything else is a row error (never quietly "no")."""

    YES = {"1", "true", "yes", "y", "是", "启用", "√"}
    NO = {"0", "false", "no", "n", "否", "停用", "×"}

    def clean(self, value, row=None, **kwargs):  # noqa: ANN001, ANN201
        if isinstance(value, bool):
            return value
        text = "" if value is None else str(value).strip().lower()
        if isinstance(value, int | float) and value in (0, 1):
            text = str(int(value))
        if text in self.YES:
            return True
        if text in self.NO:
            return False
        raise ValueError(_("请填 是 或 否：%(value)s") % {"value": value})

    def render(self, value, obj=None, **kwargs):  # noqa: ANN001, ANN201
        if value is None:
            return ""
        return "是" if value else "否"


class NullableTextWidget(widgets.CharWidget):
    """Text where an empty cell means "none" (NULL), e.g. a barcode that must be unique when given."""

    def clean(self, value, row=None, **kwargs):  # noqa: ANN001, ANN201
        text = "" if value is None else str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))  # a barcode read from Excel as a number
        return text or None


class TextWidget(widgets.CharWidget):
    """Text, trimmed; an empty cell is an empty string."""

    def clean(self, value, row=None, **kwargs):  # noqa: ANN001, ANN201
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return "" if value is None else str(value).strip()


class CodeWidget(widgets.ForeignKeyWidget):
    """A related row named by its code; an unknown code is a row error in Chinese."""

    def __init__(self, model, field: str = "code", *, what: str, required: bool = True, **kwargs) -> None:  # noqa: ANN001
        super().__init__(model, field=field, **kwargs)
        self.what = what
        self.required = required

    def clean(self, value, row=None, **kwargs):  # noqa: ANN001, ANN201
        text = "" if value is None else str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if not text:
            if self.required:
                raise ValueError(_("请填写%(what)s") % {"what": self.what})
            return None
        try:
            return self.get_queryset(text, row, **kwargs).get(**{self.field: text})
        except self.model.DoesNotExist:
            raise ValueError(_("找不到%(what)s：%(value)s") % {"what": self.what, "value": text}) from None


class JsonWidget(widgets.JSONWidget):
    """JSON text (e.g. opening hours); an empty cell is ``{}``; Chinese stays readable on export."""

    def clean(self, value, row=None, **kwargs):  # noqa: ANN001, ANN201
        text = "" if value is None else str(value).strip()
        if not text:
            return {}
        try:
            return json.loads(text)
        except (ValueError, InvalidOperation):
            raise ValueError(_("不是有效的 JSON：%(value)s") % {"value": text[:60]}) from None

    def render(self, value, obj=None, **kwargs):  # noqa: ANN001, ANN201
        return "" if value in (None, {}, []) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class O2OResource(resources.ModelResource):
    """A model resource that validates like a form and writes a file all or nothing."""

    # The model's CHECK constraints, named in words (Django's default names only the constraint).
    constraint_messages: dict[str, str] = {}

    def get_error_result_class(self):  # noqa: ANN201
        return QuietError

    def import_data(self, dataset, *args, **kwargs):  # noqa: ANN001, ANN201
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, *args, **kwargs)

    def _check_import_id_fields(self, headers):  # noqa: ANN001 - import-export's header check, in Chinese
        if list(self.get_import_id_fields()) == ["id"]:
            return
        missing = [self.fields[name].column_name for name in self.get_import_id_fields()
                   if name in self.fields and self.fields[name].column_name not in (headers or ())]
        if missing:
            raise FieldError(_("文件缺少必需的列：%(columns)s（第一行须是列名）") % {"columns": "、".join(missing)})
        super()._check_import_id_fields(headers)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):  # noqa: ANN001, ANN201
        try:
            super().validate_instance(instance, import_validation_errors, validate_unique)
        except ValidationError as exc:
            errors = exc.message_dict
            for field, messages in errors.items():
                errors[field] = [self._constraint_message(m) if field == NON_FIELD_ERRORS else m for m in messages]
            raise ValidationError(errors) from None

    def _constraint_message(self, message: str) -> str:
        for name, words in self.constraint_messages.items():
            if name in message:
                return words
        return message

    def get_or_init_instance(self, instance_loader, row):  # noqa: ANN001, ANN201
        instance, new = super().get_or_init_instance(instance_loader, row)
        id_fields = self.get_import_id_fields()
        if new and list(id_fields) == ["id"] and str(row.get("id") or "").strip():
            # An id names an existing row to update; an unknown one is a mistake, not a new row.
            raise ValidationError({"id": _("没有这个 ID：%(value)s（新增的行请留空 ID）") % {"value": row.get("id")}})
        return instance, new

    class Meta:
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
