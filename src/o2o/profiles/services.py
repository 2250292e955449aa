"""Profile services: compute and store every member's tags; save segments.

``tags_compute`` reads all purchase histories, behaviour events (views, cart adds, searches, sign-ins of the
last 30 days) and behaviour counts (``profiles.history``), runs the core engine
once over the whole population (RFM quintiles and the CLV fit need everyone) and upserts one
``MemberTag`` per member and tag (``UNIQUE (member, name)``), a batch of members per
transaction, so a reader sees each member's tags all old or all new.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from o2o.common.errors import Conflict, InvalidInput
from o2o.core.profile import ProfileConfig, RuleError, compute_tags, parse_rule
from o2o.profiles.history import member_behaviour, member_events, member_histories
from o2o.profiles.models import MemberTag, Segment

__all__ = ["segment_create", "tags_compute"]

WRITE_BATCH = 500  # members per transaction


def tags_compute(*, as_of: datetime | None = None, member_ids: Iterable[int] | None = None,
                 config: ProfileConfig | None = None) -> dict:
    """Compute and store the tags of every member (or of ``member_ids``, ranked against each other only)."""
    as_of = as_of or timezone.now()
    if timezone.is_naive(as_of):
        raise InvalidInput("as_of 必须带时区 as_of must be aware", code="invalid_as_of")
    started = time.perf_counter()
    purchases = member_histories(member_ids)
    events = member_events(purchases.members, as_of)
    behaviour = member_behaviour(purchases.members, as_of)
    loaded = time.perf_counter()
    table = compute_tags(purchases, timezone.localtime(as_of), config, events=events, behaviour=behaviour)
    computed = time.perf_counter()
    now = timezone.now()
    fields = ["value", "version", "explanation", "visible", "as_of", "computed_at"]
    written = 0
    members = list(table.members)
    for start in range(0, len(members), WRITE_BATCH):
        rows = [MemberTag(member_id=members[i], name=t.name, value=t.value, version=t.version,
                          explanation=t.explanation, visible=t.visible, as_of=as_of, computed_at=now)
                for i in range(start, min(start + WRITE_BATCH, len(members))) for t in table.tags_of(i)]
        with transaction.atomic():
            MemberTag.objects.bulk_create(rows, update_conflicts=True, unique_fields=["member", "name"],
                                          update_fields=fields, batch_size=2000)
        written += len(rows)
    bg, gg = table.clv_models
    return {
        "members": len(members), "tags": written, "lines": len(purchases.member), "events": len(events.member),
        "load_s": round(loaded - started, 3), "compute_s": round(computed - loaded, 3),
        "write_s": round(time.perf_counter() - computed, 3), "bgnbd": table.glob["bgnbd"],
        "gamma_gamma": table.glob["gamma_gamma"], "as_of": as_of.isoformat(),
        "clv_fitted": bg.source == "fit" and gg.source == "fit",
    }


def segment_create(*, name: str, rule: dict, description: str = "", user: AbstractBaseUser | None = None,
                   now: datetime | None = None) -> Segment:
    """Save a segment after the core has checked its rule (422 ``invalid_segment_rule`` with the path)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("人群名称不能为空 The segment needs a name", code="invalid_segment",
                           details={"field": "name"})
    try:
        parse_rule(rule)
    except RuleError as exc:
        raise InvalidInput(f"人群规则有误 Invalid segment rule: {exc.message}", code="invalid_segment_rule",
                           details={"path": exc.path, "problem": exc.message}) from exc
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return Segment.objects.create(name=name, rule=rule, description=description,
                                          created_by=user if getattr(user, "pk", None) else None,
                                          created_at=now, updated_at=now)
    except IntegrityError as exc:
        raise Conflict("人群名称已存在 A segment with this name exists", code="segment_exists",
                       details={"name": name}) from exc
