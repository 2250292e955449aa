"""Stock as a table: export the figures, import a count. Stock rows are never written directly.

Export: one row per (location, SKU) with its totals over the stock buckets (``on_hand``,
``reserved``, ``available``) and two empty columns, ``counted`` and ``reason``, to fill in.

Import (a stock count): each row with a ``counted`` quantity becomes an adjustment of
``counted - on_hand`` through ``o2o.inventory.stock.stock_adjust`` -- the ledger records it
with the reason ("盘点导入 count import: ..."), who, and the file's name. Rows with an empty
``counted`` and rows that already match are skipped, so importing the same file twice changes
nothing the second time. The importer needs ``stock.adjust`` at each row's location (the same
permission as ``POST /api/v1/inventory/adjustments``); a count below the reserved quantity is
refused (the service's rule), and one bad row rolls the whole file back.
"""

from __future__ import annotations

import tablib
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext as _
from import_export.fields import Field
from import_export.results import RowResult

from o2o.accounts.permissions import actor_for_user, location_target
from o2o.catalog.models import Sku
from o2o.common.errors import ApiError
from o2o.common.resources import O2OResource, WholeWidget
from o2o.core.access import Perm, allows
from o2o.inventory import buckets
from o2o.inventory.errors import InsufficientStock
from o2o.inventory.ledger import Who
from o2o.inventory.models import Stock
from o2o.inventory.stock import stock_adjust
from o2o.stores.models import Location

EXPORT_HEADERS = ["location_code", "location_name", "sku_code", "sku_name", "on_hand", "reserved", "available",
                  "counted", "reason"]
COUNT_REASON = "盘点导入 count import"


def _text(value) -> str:  # noqa: ANN001
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


class StockCountResource(O2OResource):
    location_code = Field(attribute="location__code", column_name="location_code")
    sku_code = Field(attribute="sku__code", column_name="sku_code")
    counted = Field(column_name="counted")
    reason = Field(column_name="reason")

    class Meta:
        model = Stock
        name = "库存盘点 stock count（导出库存，填写 counted 后导入）"
        import_id_fields = ("location_code", "sku_code", "counted")
        fields = ("location_code", "sku_code", "counted", "reason")
        skip_diff = True

    # --- export ---------------------------------------------------------------------------

    def export(self, queryset=None, **kwargs):  # noqa: ANN001, ANN201
        qs = Stock.objects.all() if queryset is None else queryset
        rows = (qs.order_by().values("location__code", "location__name", "sku__code", "sku__name")
                .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
                .order_by("location__code", "sku__code"))
        data = tablib.Dataset(headers=EXPORT_HEADERS)
        for r in rows.iterator(chunk_size=2000):
            data.append([r["location__code"], r["location__name"], r["sku__code"], r["sku__name"], r["on_hand"],
                         r["reserved"], r["on_hand"] - r["reserved"], "", ""])
        return data

    # --- import (a count) -----------------------------------------------------------------

    def get_diff_headers(self):  # noqa: ANN201
        # The file's own column names, so an invalid row's values line up under them.
        return ["location_code", "sku_code", "on_hand", "counted", "delta", "reason"]

    def before_import(self, dataset, **kwargs):  # noqa: ANN001
        codes = {h: {_text(v) for v in dataset[h]} for h in ("location_code", "sku_code") if h in dataset.headers}
        self._locations = {loc.code: loc for loc in Location.objects.filter(code__in=codes.get("location_code", ()))}
        self._skus = {s.code: s for s in Sku.objects.filter(code__in=codes.get("sku_code", ()))}
        self._allowed: dict[int, bool] = {}

    def _may_adjust(self, user, location: Location) -> bool:  # noqa: ANN001
        """``stock.adjust`` at the location, the API's rule for adjustments (cached per location)."""
        if location.pk not in self._allowed:
            staff = user is not None and user.is_authenticated and user.is_active and bool(getattr(user, "role", ""))
            self._allowed[location.pk] = staff and allows(actor_for_user(user), Perm.STOCK_ADJUST,
                                                          location_target(location))
        return self._allowed[location.pk]

    def import_row(self, row, instance_loader, **kwargs):  # noqa: ANN001, ANN201
        result = self.get_row_result_class()()
        try:
            self._count(row, result, **kwargs)
        except ValidationError as exc:
            result.import_type = RowResult.IMPORT_TYPE_INVALID
            result.validation_error = exc
        return result

    def _count(self, row, result: RowResult, **kwargs) -> None:  # noqa: ANN001
        loc_code, sku_code = _text(row.get("location_code")), _text(row.get("sku_code"))
        raw_counted, note = row.get("counted"), _text(row.get("reason"))
        if _text(raw_counted) == "":
            result.import_type = RowResult.IMPORT_TYPE_SKIP
            result.diff = [loc_code, sku_code, "", "", "", _("未填写盘点数量，跳过")]
            return
        errors: dict[str, str] = {}
        location, sku = self._locations.get(loc_code), self._skus.get(sku_code)
        if location is None:
            errors["location_code"] = _("找不到网点编码：%(value)s") % {"value": loc_code}
        if sku is None:
            errors["sku_code"] = _("找不到SKU编码：%(value)s") % {"value": sku_code}
        try:
            counted = WholeWidget(minimum=0).clean(raw_counted)
        except ValueError as exc:
            errors["counted"] = str(exc)
        if errors:
            raise ValidationError(errors)
        user = kwargs.get("user")
        if not self._may_adjust(user, location):
            raise ValidationError({"location_code": _("无权调整该网点的库存：%(value)s") % {"value": loc_code}})
        figures = buckets.totals(location.pk, sku.pk)
        delta = counted - figures.on_hand
        reason = f"{COUNT_REASON}: {note}"[:200] if note else COUNT_REASON
        result.diff = [f"{location.name} ({loc_code})", f"{sku.name} ({sku_code})", str(figures.on_hand),
                       str(counted), f"{delta:+d}" if delta else "0", reason]
        if delta == 0:
            result.import_type = RowResult.IMPORT_TYPE_SKIP
            return
        who = Who(user_id=user.pk, label=f"admin-import:{user.get_username()}"[:100])
        try:
            stock_adjust(location_id=location.pk, sku_id=sku.pk, delta=delta, reason=reason, who=who,
                         reference=_text(kwargs.get("file_name"))[:100])
        except InsufficientStock:
            raise ValidationError({"counted": _("盘点数量 %(counted)s 少于已预占的 %(reserved)s，请先处理预占的订单")
                                   % {"counted": counted, "reserved": figures.reserved}}) from None
        except ApiError as exc:
            raise ValidationError({"counted": exc.message}) from None
        result.import_type = RowResult.IMPORT_TYPE_UPDATE
        result.object_repr = f"{loc_code}/{sku_code}"
