"""Experiments: checking the variants, exposing members (logged once), and the report per variant.

The report, per variant, over the members exposed (each measured from their own exposure to
``window_days`` after it, or now if sooner):

* conversion: the share who paid for at least one order (any channel, the POS included);
* store visits: the share who came to a store: a POS purchase, or an online order collected at a store
  (pickup, completed);
* revenue per member: what they paid minus refunds, in fen, averaged over every exposed member (0 for those
  who bought nothing).

Each variant is compared with the control (the first variant) by ``o2o.core.experiments.compare``:
Wilson intervals and a two-proportion z test for the rates, a t interval and Welch's test for revenue,
and "not enough data" when an arm is too small for the test to mean anything.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.common.errors import ApiError, Conflict, InvalidInput, NotFound
from o2o.core import experiments as core
from o2o.experiments.models import Experiment, ExperimentStatus, Exposure
from o2o.marketing.claims import coupon_issue
from o2o.marketing.models import CouponSource
from o2o.marketing.nearby import members_near
from o2o.orders.models import Order
from o2o.stores.models import Location

CHUNK = 500
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def variants_checked(raw: object) -> list[dict[str, Any]]:
    """The variants JSON, checked: 2..10 of {key, weight, config}, unique keys, weights adding up to > 0."""
    if not isinstance(raw, list) or not 2 <= len(raw) <= 10:
        raise InvalidInput("需要 2 到 10 个变体 An experiment needs 2 to 10 variants", code="invalid_variants",
                           details={"variants": "2..10"})
    out = []
    for i, v in enumerate(raw):
        if not isinstance(v, dict) or set(v) - {"key", "weight", "config"}:
            raise InvalidInput("变体格式不正确 Each variant is {key, weight, config}", code="invalid_variants",
                               details={"index": i})
        key, weight, config = v.get("key"), v.get("weight", 1), v.get("config", {})
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidInput("变体名只能用小写字母、数字、-、_ Variant keys are lowercase letters, digits, - and _",
                               code="invalid_variants", details={"index": i, "key": key})
        if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 1000:
            raise InvalidInput("权重应为 0-1000 的整数 Weights are integers 0-1000", code="invalid_variants",
                               details={"index": i, "weight": weight})
        if not isinstance(config, dict):
            raise InvalidInput("config 必须是对象 config must be an object", code="invalid_variants",
                               details={"index": i})
        out.append({"key": key, "weight": weight, "config": config})
    keys = [v["key"] for v in out]
    if len(set(keys)) != len(keys):
        raise InvalidInput("变体名重复 Duplicate variant keys", code="invalid_variants", details={"keys": keys})
    if sum(v["weight"] for v in out) == 0:
        raise InvalidInput("权重之和必须大于 0 The weights must add up to more than 0", code="invalid_variants")
    return out


def experiment_get(key: str) -> Experiment:
    exp = Experiment.objects.filter(key=key).first() if isinstance(key, str) else None
    if exp is None:
        raise NotFound("实验不存在 Unknown experiment", code="unknown_experiment", details={"key": key})
    return exp


def _running(exp: Experiment, now: datetime) -> None:
    if exp.status != ExperimentStatus.RUNNING or now < exp.starts_at or (exp.ends_at and now >= exp.ends_at):
        raise Conflict("实验未在进行 The experiment is not running", code="experiment_not_running",
                       details={"key": exp.key, "status": exp.status})


def expose(*, key: str, member: Member, channel: str = "", now: datetime | None = None) -> tuple[Experiment, str, dict]:
    """The member's variant (and its config), logging the first exposure; the same answer every time."""
    now = now or timezone.now()
    exp = experiment_get(key)
    _running(exp, now)
    variants = variants_checked(exp.variants)
    seen = Exposure.objects.filter(experiment=exp, member=member).first()
    if seen is None:
        chosen = core.assign(exp.key, member.pk, [core.Variant(v["key"], v["weight"]) for v in variants])
        try:
            with transaction.atomic():
                seen = Exposure.objects.create(experiment=exp, member=member, variant=chosen, channel=channel[:16],
                                               at=now)
        except IntegrityError:  # shown twice at once: the first exposure counts
            seen = Exposure.objects.get(experiment=exp, member=member)
    config = next((v["config"] for v in variants if v["key"] == seen.variant), {})
    return exp, seen.variant, config


def _outcomes(exposures: list[tuple[int, str, datetime]], window: timedelta, now: datetime
              ) -> dict[int, dict[str, float]]:
    """Per exposed member: converted (0/1), visited a store (0/1), revenue (fen) within their window."""
    at = {m: t for m, _, t in exposures}
    out = {m: {"converted": 0, "visited": 0, "revenue": 0} for m in at}
    if not at:
        return out
    first = min(at.values())
    ids = sorted(at)
    rows = (row for k in range(0, len(ids), CHUNK)  # bounded IN lists (SQLite allows ~32k variables)
            for row in Order.objects.filter(member_id__in=ids[k:k + CHUNK], created_at__gte=first,
                                            paid_at__isnull=False).values_list(
                "member_id", "created_at", "paid_fen", "refunded_fen", "channel", "choice", "status").iterator())
    for member_id, created, paid, refunded, channel, choice, status in rows:
        start = at[member_id]
        if not (start <= created < min(start + window, now)):
            continue
        o = out[member_id]
        o["converted"] = 1
        o["revenue"] += paid - refunded
        if channel == "pos" or (choice == "pickup" and status in {"completed", "refunded"}):
            o["visited"] = 1
    return out


def report(exp: Experiment, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    variants = variants_checked(exp.variants)
    exposures = list(Exposure.objects.filter(experiment=exp).values_list("member_id", "variant", "at"))
    outcomes = _outcomes(exposures, timedelta(days=exp.window_days), now)
    by_variant: dict[str, list[int]] = defaultdict(list)
    for member_id, variant, _ in exposures:
        by_variant[variant].append(member_id)
    arms = []
    for v in variants:
        members = by_variant.get(v["key"], [])
        res = [outcomes[m] for m in members]
        arms.append({"key": v["key"], "weight": v["weight"], "config": v["config"], "members": len(members),
                     "conversions": sum(r["converted"] for r in res), "store_visits": sum(r["visited"] for r in res),
                     "revenue_fen": sum(r["revenue"] for r in res), "_revenue": [r["revenue"] for r in res]})
    control = arms[0]
    for arm in arms:
        n = arm["members"]
        conv = core.proportion_ci(arm["conversions"], n)
        visit = core.proportion_ci(arm["store_visits"], n)
        rev = core.mean_ci(arm["_revenue"])
        arm["conversion"] = _iv(conv)
        arm["store_visit_rate"] = _iv(visit)
        arm["revenue_per_member_fen"] = _iv(rev)
        if arm is control:
            arm["vs_control"] = None
            continue
        kw = {"min_n": exp.min_per_variant}
        arm["vs_control"] = {
            "conversion": _cmp(core.compare("conversion", control=(control["conversions"], control["members"]),
                                            variant=(arm["conversions"], n), kind="rate", **kw)),
            "store_visit_rate": _cmp(core.compare("store_visit_rate", control=(control["store_visits"],
                                                                                control["members"]),
                                                  variant=(arm["store_visits"], n), kind="rate", **kw)),
            "revenue_per_member": _cmp(core.compare("revenue_per_member", control=control["_revenue"],
                                                    variant=arm["_revenue"], kind="mean", **kw)),
        }
    for arm in arms:
        del arm["_revenue"]
    enough = all(arm["members"] >= exp.min_per_variant for arm in arms)
    return {"key": exp.key, "name": exp.name, "status": exp.status, "window_days": exp.window_days,
            "min_per_variant": exp.min_per_variant, "as_of": timezone.localtime(now).isoformat(),
            "exposed": len(exposures), "enough_data": enough, "variants": arms}


def _iv(i: core.Interval) -> dict[str, float | None]:
    def fin(x: float) -> float | None:
        return None if x in (float("inf"), float("-inf")) else round(x, 6)
    return {"estimate": round(i.estimate, 6), "low": fin(i.low), "high": fin(i.high)}


def _cmp(c: core.Comparison) -> dict[str, Any]:
    return {"lift": None if c.lift is None else round(c.lift, 6), "p_value": round(c.p_value, 6),
            "verdict": c.verdict, "reason": c.reason}


def claim_variant_coupon(*, key: str, member: Member, now: datetime | None = None):  # noqa: ANN201
    """A coupon experiment: the member claims the campaign of their variant (``config.coupon_template_id``)."""
    exp, variant, config = expose(key=key, member=member, now=now)
    template_id = config.get("coupon_template_id")
    if exp.target != "coupon" or not isinstance(template_id, int):
        raise Conflict("该实验没有优惠券 This experiment gives no coupon", code="experiment_no_coupon",
                       details={"key": key, "variant": variant})
    return variant, coupon_issue(template_id=template_id, member=member, source=CouponSource.CAMPAIGN, now=now)


def issue_nearby_experiment(*, key: str, location_id: int, radius_m: int, by_user_id: int | None,
                            now: datetime | None = None) -> dict[str, Any]:
    """A campaign experiment: the members within ``radius_m`` of the store are split by the experiment; each is
    exposed and gets their variant's campaign (``config.coupon_template_id``), or nothing for a variant without
    one (a hold-out control). One transaction per member, the campaign's own limits apply."""
    now = now or timezone.now()
    exp = experiment_get(key)
    _running(exp, now)
    if exp.target != "campaign":
        raise Conflict("该实验不是活动实验 This is not a campaign experiment", code="experiment_not_campaign",
                       details={"key": key, "target": exp.target})
    location = Location.objects.filter(pk=location_id).first()
    if location is None:
        raise NotFound("网点不存在 Unknown location", code="unknown_location", details={"location_id": location_id})
    near = members_near(location, radius_m, now)
    members = Member.objects.in_bulk([m for m, _ in near])
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"exposed": 0, "issued": 0, "skipped": 0})
    for member_id, _ in near:
        _, variant, config = expose(key=key, member=members[member_id], channel="campaign", now=now)
        row = counts[variant]
        row["exposed"] += 1
        template_id = config.get("coupon_template_id")
        if not isinstance(template_id, int):
            continue  # hold-out
        try:
            coupon_issue(template_id=template_id, member=members[member_id], source=CouponSource.NEARBY, now=now,
                         by_user_id=by_user_id, store_id=location_id)
            row["issued"] += 1
        except ApiError:
            row["skipped"] += 1
    return {"key": key, "location_id": location_id, "radius_m": radius_m, "reached": len(near),
            "variants": dict(counts)}
