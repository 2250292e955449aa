"""The dashboard's filter: region, store and a date range, limited to what the viewer may see."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from o2o.stores.models import Location, Region

MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)  # no figures before it; far dates would overflow the zone arithmetic
DEFAULT_DAYS = 7


def region_tree() -> dict[int, int | None]:
    """Every region's parent (a few dozen rows)."""
    return dict(Region.objects.values_list("pk", "parent_id"))


def subtree(root_id: int, parents: dict[int, int | None]) -> set[int]:
    """The region and every region under it."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in parents.items():
        children.setdefault(parent, []).append(pk)
    found, todo = set(), [root_id]
    while todo:
        pk = todo.pop()
        if pk not in found:
            found.add(pk)
            todo.extend(children.get(pk, ()))
    return found


class DashboardFilter(forms.Form):
    region = forms.TypedChoiceField(label=_("区域"), required=False, coerce=int, empty_value=None)
    store = forms.TypedChoiceField(label=_("门店"), required=False, coerce=int, empty_value=None)
    start = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, *, today: date, region_ids: set[int] | None, location_ids: list[int] | None,
                 parents: dict[int, int | None]) -> None:  # noqa: ANN001
        """``region_ids`` / ``location_ids``: what the viewer may choose (None: everything)."""
        data = data.copy()  # the effective period shows in the date inputs
        data.setdefault("start", (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat())
        data.setdefault("end", today.isoformat())
        super().__init__(data)
        self.today, self.parents = today, parents
        regions = Region.objects.exclude(parent=None).order_by("code")
        if region_ids is not None:
            regions = Region.objects.filter(pk__in=region_ids).order_by("code")
        stores = Location.objects.order_by("code")
        if location_ids is not None:
            stores = stores.filter(pk__in=location_ids)
        self.store_regions = dict(stores.values_list("pk", "region_id"))
        self.fields["region"].choices = [("", _("全部区域"))] + [(r.pk, r.name) for r in regions]
        self.fields["store"].choices = [("", _("全部门店"))] + [
            (pk, f"{name}（{code}）") for pk, name, code in stores.values_list("pk", "name", "code")]
        self.fields["start"].widget.attrs["max"] = today.isoformat()
        self.fields["end"].widget.attrs["max"] = today.isoformat()

    def clean(self) -> dict:
        data = super().clean()
        first = data.get("start") or self.today - timedelta(days=DEFAULT_DAYS - 1)
        last = data.get("end") or self.today
        for name in ("start", "end"):
            day = data.get(name)
            if day is not None and not (EARLIEST <= day <= self.today):
                self.add_error(name, _("日期须在 2000-01-01 到今天之间。"))
                return data
        if "start" in data and "end" in data:
            if first > last:
                self.add_error("end", _("结束日期不能早于开始日期。"))
            elif (last - first).days >= MAX_DAYS:
                self.add_error("start", _("时间范围最长一年。"))
        region, store = data.get("region"), data.get("store")
        if region and store and self.store_regions.get(store) not in subtree(region, self.parents):
            self.add_error("store", _("这个门店不在所选区域内。"))
        data["first"], data["last"] = first, last
        return data
