"""CSV/Excel columns of the store network: locations (stores, warehouses, dark stores).

Coordinates are GCJ-02 degrees (what AMap, Tencent Maps and WeChat give), in the columns
``lat_gcj02`` / ``lng_gcj02``, stored exactly as given: convert WGS-84 (GPS) or BD-09 (Baidu)
first. ``kind`` is ``store`` / ``warehouse`` / ``dark_store``; the region is named by its code.
Locations are matched by ``code``. Saving a row moves ``updated_at``, which refreshes the
spatial index of every process.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from import_export.fields import Field

from o2o.common.resources import (
    CodeWidget,
    CoordWidget,
    JsonWidget,
    O2OResource,
    TextWidget,
    WholeWidget,
    YesNoWidget,
)
from o2o.stores.hours import validate_opening_hours
from o2o.stores.models import Location, Region


class OpeningHoursWidget(JsonWidget):
    """Opening hours as JSON, checked for their shape (``o2o.stores.hours``): a bad cell is a row error."""

    def clean(self, value, row=None, **kwargs):  # noqa: ANN001, ANN201
        hours = super().clean(value, row, **kwargs)
        try:
            validate_opening_hours(hours)
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None
        return hours


class LocationResource(O2OResource):
    code = Field(attribute="code", column_name="code", widget=TextWidget())
    name = Field(attribute="name", column_name="name", widget=TextWidget())
    kind = Field(attribute="kind", column_name="kind", widget=TextWidget())
    region = Field(attribute="region", column_name="region_code", widget=CodeWidget(Region, what="区域编码"))
    address = Field(attribute="address", column_name="address", widget=TextWidget())
    lat = Field(attribute="lat", column_name="lat_gcj02", widget=CoordWidget())
    lng = Field(attribute="lng", column_name="lng_gcj02", widget=CoordWidget())
    opening_hours = Field(attribute="opening_hours", column_name="opening_hours", widget=OpeningHoursWidget())
    can_pickup = Field(attribute="can_pickup", column_name="can_pickup", widget=YesNoWidget())
    can_same_city = Field(attribute="can_same_city", column_name="can_same_city", widget=YesNoWidget())
    can_express = Field(attribute="can_express", column_name="can_express", widget=YesNoWidget())
    delivery_radius_m = Field(attribute="delivery_radius_m", column_name="delivery_radius_m",
                              widget=WholeWidget(minimum=1))
    pick_capacity_per_hour = Field(attribute="pick_capacity_per_hour", column_name="pick_capacity_per_hour",
                                   widget=WholeWidget())
    active = Field(attribute="active", column_name="active", widget=YesNoWidget())

    constraint_messages = {
        "location_coords_in_china": "坐标不在中国境内：lat_gcj02 是纬度、lng_gcj02 是经度（GCJ-02，单位：度）",
        "location_radius_positive": "配送半径必须大于 0",
    }

    class Meta:
        model = Location
        name = "网点 locations（坐标 GCJ-02）"
        import_id_fields = ("code",)
        fields = ("code", "name", "kind", "region", "address", "lat", "lng", "opening_hours", "can_pickup",
                  "can_same_city", "can_express", "delivery_radius_m", "pick_capacity_per_hour", "active")

    def get_queryset(self):  # noqa: ANN201
        return Location.objects.select_related("region").order_by("code")
