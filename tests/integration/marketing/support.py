"""Making coupon campaigns for the marketing tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from o2o.marketing.models import CouponTemplate, TemplateStatus

_n = [0]


def template(**kw) -> CouponTemplate:  # noqa: ANN003
    _n[0] += 1
    stores = kw.pop("stores", ())
    fields = {"code": f"t{_n[0]}", "name": f"满50减10 #{_n[0]}", "kind": "amount_off", "amount_fen": 1000,
              "threshold_fen": 5000, "status": TemplateStatus.ACTIVE, "valid_days": 30, "member_limit": 1,
              "staff_issuable": True, **kw}
    t = CouponTemplate.objects.create(**fields)
    if stores:
        t.stores.set(stores)
    return t


def fixed_window(days: int = 10) -> dict:
    now = timezone.now()
    return {"valid_days": None, "valid_from": now - timedelta(days=1), "valid_until": now + timedelta(days=days)}
