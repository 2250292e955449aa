"""A/B experiments API (mounted at ``/experiments``).

* ``GET /experiments/{key}/variant`` (member): the member's variant and its config; the first call logs the
  exposure. 409 ``experiment_not_running``.
* ``POST /experiments/{key}/claim`` (member): a coupon experiment: claim the campaign of my variant.
* ``POST /experiments/{key}/issue-nearby`` (``campaign.edit``): a campaign experiment near a store: every
  member within the radius is exposed and gets their variant's campaign (none for a hold-out variant).
* ``POST /experiments`` (``campaign.edit``): create (variants checked); ``GET /experiments/{key}/report``
  (``campaign.edit``): per variant conversion, store-visit rate, revenue per member, intervals and tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from o2o.accounts.permissions import require
from o2o.common.errors import Conflict, InvalidInput
from o2o.core.access import Perm
from o2o.experiments import services
from o2o.experiments.models import Experiment
from o2o.fulfilment.schemas import with_errors
from o2o.marketing.selectors import coupon_json
from o2o.orders.api.common import Status, member_of

router = Router(tags=["experiments"])


class VariantIn(Schema):
    key: str = Field(min_length=1, max_length=40)
    weight: int = Field(1, ge=0, le=1000)
    config: dict[str, Any] = Field(default_factory=dict)


class ExperimentIn(Schema):
    key: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=100)
    hypothesis: str = Field("", max_length=300)
    target: Literal["coupon", "campaign", "page"]
    variants: list[VariantIn] = Field(min_length=2, max_length=10)
    window_days: int = Field(14, ge=1, le=365)
    min_per_variant: int = Field(100, ge=1, le=1_000_000)
    status: Literal["draft", "running", "stopped"] = "draft"
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class ExperimentOut(Schema):
    id: int
    key: str
    name: str
    target: str
    status: str
    variants: list[dict[str, Any]]
    window_days: int
    min_per_variant: int


class AssignmentOut(Schema):
    experiment: str
    variant: str
    config: dict[str, Any]


class ClaimOut(Schema):
    experiment: str
    variant: str
    coupon: dict[str, Any]


class ReportOut(Schema):
    key: str
    name: str
    status: str
    window_days: int
    min_per_variant: int
    as_of: str
    exposed: int
    enough_data: bool = Field(description="every variant has min_per_variant members")
    variants: list[dict[str, Any]] = Field(description=(
        "per variant: members, conversions, store_visits, revenue_fen, conversion/store_visit_rate/"
        "revenue_per_member_fen {estimate, low, high} (95 %), vs_control {metric: {lift, p_value, verdict, reason}}; "
        "verdict is not_enough_data | better | worse | no_difference"))


@router.post("", response=with_errors({201: ExperimentOut}, 409), summary="Create an A/B experiment")
def create(request: HttpRequest, body: ExperimentIn):
    actor = require(request, Perm.CAMPAIGN_EDIT)
    variants = services.variants_checked([v.dict() for v in body.variants])
    for name in ("starts_at", "ends_at"):
        value = getattr(body, name)
        if value is not None and timezone.is_naive(value):
            raise InvalidInput("时间需带时区，如 2026-12-01T00:00:00+08:00 Times need a UTC offset", code="naive_datetime",
                               details={"field": name})
    start = body.starts_at or timezone.now()
    if body.ends_at is not None and body.ends_at <= start:
        raise InvalidInput("结束时间须晚于开始时间 ends_at must be after starts_at", code="invalid_period",
                           details={"starts_at": start.isoformat(), "ends_at": body.ends_at.isoformat()})
    if Experiment.objects.filter(key=body.key).exists():
        raise Conflict("实验标识已存在 An experiment with this key exists", code="experiment_exists",
                       details={"key": body.key})
    fields = body.dict(exclude={"variants", "starts_at"})
    exp = Experiment.objects.create(**fields, variants=variants, created_by_id=actor.id,
                                    **({"starts_at": body.starts_at} if body.starts_at else {}))
    return Status(201, exp)


@router.get("/{key}/variant", response=with_errors({200: AssignmentOut}, 409), summary="My variant (logs exposure)")
def variant(request: HttpRequest, key: str, channel: str = ""):
    exp, chosen, config = services.expose(key=key, member=member_of(request), channel=channel)
    return {"experiment": exp.key, "variant": chosen, "config": config}


@router.post("/{key}/claim", response=with_errors({201: ClaimOut}, 409), summary="Claim my variant's coupon")
def claim(request: HttpRequest, key: str):
    chosen, coupon = services.claim_variant_coupon(key=key, member=member_of(request))
    return Status(201, {"experiment": key, "variant": chosen, "coupon": coupon_json(coupon, timezone.now())})


class NearbyIn(Schema):
    location_id: int = Field(gt=0, le=2**63 - 1)
    radius_m: int = Field(3000, ge=1, le=50_000)


@router.post("/{key}/issue-nearby", response=with_errors({200: dict[str, Any]}, 409),
             summary="A campaign experiment: split the members near a store, issue each variant's campaign")
def issue_nearby(request: HttpRequest, key: str, body: NearbyIn):
    actor = require(request, Perm.CAMPAIGN_EDIT)
    return services.issue_nearby_experiment(key=key, location_id=body.location_id, radius_m=body.radius_m,
                                            by_user_id=actor.id)


@router.get("/{key}/report", response=with_errors({200: ReportOut}), summary="Results per variant")
def report(request: HttpRequest, key: str):
    require(request, Perm.CAMPAIGN_EDIT)
    return services.report(services.experiment_get(key))
