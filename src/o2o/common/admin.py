"""Admin helpers shared by the apps: read-only records, Chinese labels, CSV/Excel import and export.

Every app's admin uses django-unfold's ``ModelAdmin`` (the HQ theme). The mixins here sit in
front of it:

* ``ReadOnlyMixin``: no add, change or delete (ledgers and records change only through services);
* ``ChineseLabels``: Chinese column, filter and form labels for the models' plain field names
  (the models' own ``verbose_name`` s are English-derived; a read-only detail page still shows them);
* ``TableIO``: django-import-export with unfold's forms, CSV always and Excel when ``openpyxl`` is
  installed, import only for whoever may add and change the model, a confirmed import that is
  safe to submit twice, and a failed import that says so instead of "finished".
"""

from __future__ import annotations

import functools
import os
import tempfile

from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from import_export.formats import base_formats
from import_export.tmp_storages import TempFolderStorage
from unfold.contrib.import_export.forms import ExportForm, ImportForm

# The admin's front page shows the HQ groups of the sidebar (商品/门店/库存/订单/会员/系统) in Chinese
# (a template of the HQ pages, found by name; the groups are in o2o/web/hq/unfold_settings.py).
admin.site.index_template = "web/hq/admin_index.html"

# Chinese labels of the field names the models share (a model admin may add its own in ``labels``).
FIELD_LABELS: dict[str, str] = {
    "code": "编码", "name": "名称", "parent": "上级", "category": "品类", "brand": "品牌", "unit": "单位",
    "description": "描述", "active": "启用", "product": "商品", "barcode": "条码", "spec": "规格",
    "weight_g": "重量（克）", "list_price_fen": "标价（分）", "sku": "SKU", "location": "网点",
    "channel": "渠道", "price_fen": "价格（分）", "starts_at": "开始时间", "ends_at": "结束时间",
    "kind": "类型", "region": "区域", "address": "地址", "lat": "纬度（GCJ-02）", "lng": "经度（GCJ-02）",
    "opening_hours": "营业时间", "can_pickup": "可自提", "can_same_city": "可同城配送", "can_express": "可快递",
    "delivery_radius_m": "配送半径（米）", "pick_capacity_per_hour": "拣货能力（单/小时）",
    "created_at": "创建时间", "updated_at": "更新时间", "status": "状态", "reference": "单号",
    "bucket": "分桶", "on_hand": "在库", "reserved": "已预占", "occurred_at": "发生时间", "qty": "数量",
    "delta_on_hand": "在库变化", "delta_reserved": "预占变化", "reason": "原因", "actor_label": "操作人",
    "expires_at": "到期时间", "closed_at": "关闭时间", "source": "调出网点", "destination": "调入网点",
    "shipped_at": "发出时间", "received_at": "收到时间", "device_id": "设备号", "last_seq": "最后序号",
    "last_seen_at": "最后上报", "counted_at": "盘点时间", "number": "订单号", "choice": "履约选择",
    "member": "会员", "store": "门店", "total_fen": "应付（分）", "order": "订单", "mode": "履约方式",
    "eta_latest": "最晚送达", "pickup_deadline": "自提截止", "out_trade_no": "商户单号", "provider": "渠道商",
    "amount_fen": "金额（分）", "refunded_fen": "已退（分）", "paid_at": "支付时间",
    "outcome": "结果", "detail": "详情", "out_refund_no": "退款单号", "method": "方式", "refund_fen": "退款（分）",
    "shipment_ref": "发货单", "fee_fen": "费用（分）", "rider_name": "骑手", "message": "内容",
    "resolved_at": "处理时间", "at": "时间", "shipment": "发货单", "code_tail": "码尾号", "result": "结果",
    "user": "员工", "order_ref": "订单号", "trigger": "触发", "cash_fen": "现金成本（分）", "policy": "策略",
    "cost_fen": "成本（分）", "courier": "配送商", "decision": "路由决策", "balance": "积分余额", "debt": "积分欠款",
    "account": "积分账户", "no": "批次", "ref": "来源", "points": "积分", "remaining": "剩余",
    "reversed": "已冲回", "earned_at": "获得时间", "op": "操作", "topic": "主题", "aggregate": "聚合",
    "aggregate_id": "聚合ID", "dispatched_at": "投递时间", "attempts": "尝试次数", "role": "角色",
    "scope": "范围", "display_name": "昵称", "phone_masked": "手机号（脱敏）", "label": "标签",
    "revoked": "已吊销", "key_hash": "密钥摘要", "location__kind": "网点类型", "discount_fen": "优惠（分）",
    "payable_fen": "实付（分）", "returned_qty": "已退数量", "unit_price_fen": "单价（分）", "tracking_no": "运单号",
    "from_status": "原状态", "to_status": "新状态", "received_qty": "实收数量", "missing_seqs": "缺失序号",
}


@functools.cache
def _titled_filter(title: str) -> type[admin.FieldListFilter]:
    """A list filter that is Django's usual one for the field, with a Chinese title."""

    class Titled(admin.FieldListFilter):
        def __new__(cls, field, request, params, model, model_admin, field_path):  # noqa: ANN001, ANN204
            spec = admin.FieldListFilter.create(field, request, params, model, model_admin, field_path)
            spec.title = title
            return spec

    return Titled


class ChineseLabels:
    """Chinese labels for plain field names in ``list_display``, ``list_filter`` and editable forms."""

    labels: dict[str, str] = {}

    def _label(self, name: str) -> str | None:
        return self.labels.get(name) or FIELD_LABELS.get(name)

    def _column(self, name: str):  # noqa: ANN202 - a list_display callable
        label = self._label(name)
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return name  # an admin method or a property: it carries its own description
        if label is None or field.many_to_many or field.one_to_many:
            return name
        has_choices = bool(field.choices)

        def column(obj):  # noqa: ANN001, ANN202
            return getattr(obj, f"get_{name}_display")() if has_choices else getattr(obj, name)

        column.__name__ = name
        column.short_description = label
        column.admin_order_field = name
        column.boolean = isinstance(field, models.BooleanField)
        return column

    def get_list_display(self, request):  # noqa: ANN001, ANN201
        cache = self.__dict__.setdefault("_o2o_columns", {})
        out = []
        for item in super().get_list_display(request):
            if isinstance(item, str):
                if item not in cache:
                    cache[item] = self._column(item)
                out.append(cache[item])
            else:
                out.append(item)
        return out

    def get_list_filter(self, request):  # noqa: ANN001, ANN201
        out = []
        for item in super().get_list_filter(request):
            label = self._label(item) if isinstance(item, str) else None
            out.append((item, _titled_filter(label)) if label else item)
        return out

    def _relabel(self, form_class):  # noqa: ANN001, ANN202
        for name, form_field in form_class.base_fields.items():
            label = self._label(name)
            if label:
                form_field.label = label
        return form_class

    def get_form(self, request, obj=None, change=False, **kwargs):  # noqa: ANN001, ANN201
        return self._relabel(super().get_form(request, obj, change=change, **kwargs))


class ChineseInlineLabels(ChineseLabels):
    """The same for an inline's editable columns."""

    def get_formset(self, request, obj=None, **kwargs):  # noqa: ANN001, ANN201
        formset = super().get_formset(request, obj, **kwargs)
        self._relabel(formset.form)
        return formset


class ReadOnlyMixin:
    """No add, change or delete: the rows change only through the app's services (ledgers, records)."""

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


def table_formats() -> list[type[base_formats.Format]]:
    """CSV always; Excel (.xlsx) once ``openpyxl`` is installed (django-import-export's ``[xlsx]`` extra)."""
    return [fmt for fmt in (base_formats.CSV, base_formats.XLSX) if fmt.is_available()]


class TableIO:
    """django-import-export in the unfold theme. Mix in before ``ImportExportModelAdmin`` / ``ExportMixin``."""

    import_form_class = ImportForm
    export_form_class = ExportForm
    import_error_display = ("message",)
    # Excel opens a UTF-8 CSV with Chinese text correctly only with a byte-order mark.
    to_encoding = "utf-8-sig"
    # What the file's columns mean, shown under the file field of the import page.
    import_help = ""

    def create_import_form(self, request):  # noqa: ANN001, ANN201
        form = super().create_import_form(request)
        if self.import_help and "import_file" in form.fields:
            form.fields["import_file"].help_text = self.import_help
        return form

    @property
    def formats(self) -> list:
        return table_formats()

    @property
    def import_formats(self) -> list:
        return table_formats()

    @property
    def export_formats(self) -> list:
        return table_formats()

    def add_data_read_fail_error_to_form(self, form, e) -> None:  # noqa: ANN001
        if isinstance(e, UnicodeDecodeError):
            form.add_error("import_file", _("文件不是 UTF-8 编码：请在 Excel 中“另存为 CSV UTF-8（逗号分隔）”后再上传。"))
        else:
            form.add_error("import_file", _("读不出这个文件：请确认它是所选格式（如 CSV），第一行是列名。"))

    def has_import_permission(self, request) -> bool:  # noqa: ANN001
        return self.has_add_permission(request) and self.has_change_permission(request)

    def get_import_data_kwargs(self, **kwargs):  # noqa: ANN201
        # One bad row rolls the whole file back, in the preview and in the confirmed import alike.
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.setdefault("rollback_on_validation_errors", True)
        return kwargs

    def has_export_permission(self, request) -> bool:  # noqa: ANN001
        return self.has_view_permission(request)

    def _changelist(self) -> HttpResponseRedirect:
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist",
                                            current_app=self.admin_site.name))

    def process_import(self, request, **kwargs):  # noqa: ANN001, ANN201
        """The confirmed import, once: a second submit (double click, reload) is told so, never a 500."""
        claim = None
        name = os.path.basename(request.POST.get("import_file_name", ""))
        if name and issubclass(self.get_tmp_storage_class(), TempFolderStorage):
            claim = os.path.join(tempfile.gettempdir(), f"{name}.o2o-claim")
            try:
                os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                messages.warning(request, _("这个文件正在导入或已经导入，没有重复导入。"))
                return self._changelist()
        try:
            return super().process_import(request, **kwargs)
        except FileNotFoundError:
            messages.warning(request, _("这个文件已经导入过或已过期，没有重复导入。请重新上传。"))
            return self._changelist()
        finally:
            if claim:
                try:
                    os.remove(claim)
                except OSError:
                    pass

    def process_result(self, result, request):  # noqa: ANN001, ANN201
        if result.has_errors() or result.has_validation_errors():
            messages.error(request, _("导入失败，没有写入任何数据。请重新上传文件查看出错的行。"))
            return self._changelist()
        return super().process_result(result, request)
