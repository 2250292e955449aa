"""Tier services (会员等级): configuration, upgrade on an order, the monthly review, HQ's manual set.

The pure core (``o2o.core.loyalty.tiers``) decides; these functions load a member's state,
call it and store the result with the history row, one transaction each, the member's
``TierState`` row created if needed and locked (``SELECT ... FOR UPDATE``), so two completions
of one member's orders at once upgrade once, and a review never races an upgrade.

The figures (every channel, POS included): ``spend_12m_fen`` = sum of ``paid_fen -
refunded_fen`` of the member's orders **completed** in ``(now - 12 calendar months, now]``
(China time, the core's window); ``growth`` = ``spend_12m_fen x GROWTH_PER_YUAN // 100``
(成长值 from orders; growth from actions has no ledger yet). The policy's basis picks one.

Settings: ``O2O["TIERS"]`` (all optional, see :data:`DEFAULTS` and :func:`tier_policy`); HQ's ``TierRule``
rows (edited in the admin) override the thresholds and benefits of their tiers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from o2o.accounts.models import Member, MemberMerge
from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core import loyalty as core
from o2o.core.loyalty import TIER_ORDER, Basis, Benefits, Tier, TierMetrics, TierPolicy
from o2o.core.loyalty.dates import require_aware
from o2o.members.models_tiers import TierHistory, TierReason, TierRule, TierState
from o2o.orders.models import Order

BENEFIT_KEYS = ("discount_percent", "free_delivery", "free_installation", "dedicated_service")
DEFAULTS: dict[str, Any] = {
    "BASIS": "spend_12m",  # or "growth" (成长值)
    # Reached at value >= threshold: fen of 12-month spend, or growth points. normal must be 0.
    "THRESHOLDS": {"normal": 0, "silver": 100_000, "gold": 500_000, "diamond": 2_000_000},
    # Per tier; a tier or key left out keeps its default.
    "BENEFITS": {
        "normal": {},
        "silver": {"discount_percent": 2},
        "gold": {"discount_percent": 5, "free_delivery": True},
        "diamond": {"discount_percent": 8, "free_delivery": True, "free_installation": True,
                    "dedicated_service": True},
    },
    "PROTECTION_MONTHS": 12,  # a tier reached by an upgrade is kept at least this long
    "GROWTH_PER_YUAN": 1,  # growth value per yuan of net spend (basis "growth")
}
LABEL_EN = {Tier.NORMAL: "Standard member", Tier.SILVER: "Silver member", Tier.GOLD: "Gold member",
            Tier.DIAMOND: "Diamond member"}
RECENT_HISTORY = 50


def _bad(message: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"O2O['TIERS'] 配置错误 misconfigured: {message}")


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def tier_settings() -> dict[str, Any]:
    raw = settings.O2O.get("TIERS", {})
    if not isinstance(raw, dict):
        raise _bad(f"需要 dict expected a dict, got {raw!r}")
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        raise _bad(f"未知配置项 unknown keys {sorted(unknown)!r}")
    return {**DEFAULTS, **raw}


def _tier_table(table: object, name: str) -> dict[Tier, Any]:
    if not isinstance(table, dict):
        raise _bad(f"{name} 需要 dict expected a dict: {table!r}")
    try:
        return {Tier(k): v for k, v in table.items()}
    except ValueError:
        raise _bad(f"{name} 未知等级 unknown tier in {sorted(table)!r}; tiers: {[t.value for t in TIER_ORDER]}") \
            from None


def _benefits(given: dict[Tier, Any]) -> dict[Tier, Benefits]:
    defaults = _tier_table(DEFAULTS["BENEFITS"], "BENEFITS")
    out = {}
    for t in TIER_ORDER:
        item = given.get(t, {})
        if not isinstance(item, dict) or set(item) - set(BENEFIT_KEYS):
            raise _bad(f"BENEFITS[{t.value!r}]: 可用 allowed keys {BENEFIT_KEYS}: {item!r}")
        merged = {**defaults[t], **item}
        for key in BENEFIT_KEYS[1:]:
            if not isinstance(merged.get(key, False), bool):
                raise _bad(f"BENEFITS[{t.value!r}][{key!r}] 需要 true/false must be a bool: {merged[key]!r}")
        try:
            out[t] = Benefits(**merged)
        except ValueError as exc:
            raise _bad(f"BENEFITS[{t.value!r}]: {exc}") from None
    return out


def tier_policy(rules: list[TierRule] | None = None) -> TierPolicy:
    """The core policy: ``O2O["TIERS"]``, with HQ's ``TierRule`` rows (admin) overriding their tiers
    (ImproperlyConfigured, bilingual, when it is wrong). ``rules``: check a candidate set instead of the rows."""
    s = tier_settings()
    thresholds = {**_tier_table(DEFAULTS["THRESHOLDS"], "THRESHOLDS"), **_tier_table(s["THRESHOLDS"], "THRESHOLDS")}
    benefits = _benefits(_tier_table(s["BENEFITS"], "BENEFITS"))
    for rule in (list(TierRule.objects.all()) if rules is None else rules):
        tier = Tier(rule.tier)
        thresholds[tier] = rule.threshold
        benefits[tier] = Benefits(discount_percent=rule.discount_percent, free_delivery=rule.free_delivery,
                                  free_installation=rule.free_installation, dedicated_service=rule.dedicated_service)
    try:
        return TierPolicy(thresholds=thresholds, benefits=benefits, basis=Basis(s["BASIS"]),
                          protection_months=s["PROTECTION_MONTHS"])
    except ValueError as exc:
        raise _bad(str(exc)) from None


def growth_per_yuan() -> int:
    rate = tier_settings()["GROWTH_PER_YUAN"]
    if not _is_int(rate) or rate < 0:
        raise _bad(f"GROWTH_PER_YUAN 需要非负整数 must be a non-negative integer: {rate!r}")
    return rate


# -- figures ------------------------------------------------------------------------------------------------------

def spend_12m_of(member_id: int, now: datetime) -> int:
    """Net paid fen of the member's orders completed in ``(now - 12 months, now]``, every channel."""
    return spend_by_member([member_id], now).get(member_id, 0)


def spend_by_member(member_ids: list[int], now: datetime) -> dict[int, int]:
    """:func:`spend_12m_of` of many members in one query (members without orders are left out)."""
    start = core.add_months(require_aware(now, "now"), -12)
    rows = (Order.objects.filter(member_id__in=member_ids, completed_at__gt=start, completed_at__lte=now)
            .values("member_id").annotate(s=Sum(F("paid_fen") - F("refunded_fen"))).values_list("member_id", "s"))
    return {m: max(int(total or 0), 0) for m, total in rows}


def metrics_of(member_id: int, now: datetime) -> TierMetrics:
    spend = spend_12m_of(member_id, now)
    return TierMetrics(growth=spend * growth_per_yuan() // 100, spend_12m_fen=spend)


def month_of(now: datetime) -> str:
    """The review month of ``now`` in China time: ``YYYY-MM``."""
    return core.local_day_start(now).strftime("%Y-%m")


# -- state --------------------------------------------------------------------------------------------------------

def _state_lock(member_id: int) -> TierState:
    """The member's state row, created if needed (normal), locked for this transaction."""
    if not _is_int(member_id) or not Member.objects.filter(pk=member_id).exists():
        raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": member_id})
    state, _ = TierState.objects.get_or_create(member_id=member_id)
    return TierState.objects.select_for_update().get(pk=state.pk)


def current_tier(member_id: int) -> Tier:
    tier = TierState.objects.filter(member_id=member_id).values_list("tier", flat=True).first()
    return Tier(tier) if tier else Tier.NORMAL


@dataclass(frozen=True)
class _Write:
    to: Tier
    reason: str
    ref: str
    note: str
    achieved_at: datetime | None
    protected_until: datetime | None
    by_user_id: int | None = None


def _store(state: TierState, metrics: TierMetrics, now: datetime, write: _Write | None,
           **extra: Any) -> TierHistory | None:
    """Write the figures (and the change with its history row) WHERE the tier is still what was read."""
    fields: dict[str, Any] = {"growth": metrics.growth, "spend_12m_fen": metrics.spend_12m_fen, "basis_at": now,
                              "updated_at": timezone.now(), **extra}
    if write is not None:
        fields.update(tier=write.to.value, since=now, achieved_at=write.achieved_at,
                      protected_until=write.protected_until)
    won = TierState.objects.filter(pk=state.pk, tier=state.tier).update(**fields)
    if not won:  # cannot happen under the lock; the guard makes a lost update loud instead of silent
        raise Conflict("会员等级已变化，请重试 The tier changed meanwhile; retry", code="tier_changed",
                       details={"member_id": state.member_id})
    if write is None:
        return None
    return TierHistory.objects.create(
        member_id=state.member_id, from_tier=state.tier, to_tier=write.to.value, reason=write.reason,
        ref=write.ref, note=write.note[:400], at=now, growth=metrics.growth, spend_12m_fen=metrics.spend_12m_fen,
        by_user_id=write.by_user_id)


def _from_change(change: core.TierChange, reason: str, ref: str, policy: TierPolicy) -> _Write:
    return _Write(change.to_tier, reason, ref, change.note, change.achieved_at,
                  core.protected_until(change.achieved_at, policy))


# -- operations ---------------------------------------------------------------------------------------------------

def tier_upgrade_for_order(*, member_id: int, order_id: int, now: datetime) -> TierHistory | None:
    """Upgrade at once if the member's figures (counting the completed order) qualify; never down.

    Idempotent per order (``ref`` ``order:<id>``); the figures are refreshed either way."""
    policy = tier_policy()
    ref = f"order:{order_id}"
    with transaction.atomic():
        state = _state_lock(member_id)
        if TierHistory.objects.filter(member_id=member_id, ref=ref).exists():
            return None
        metrics = metrics_of(member_id, now)
        change = core.tier_after_order(Tier(state.tier), state.achieved_at, metrics, policy, now)
        write = _from_change(change, TierReason.UPGRADE, ref, policy) if change else None
        return _store(state, metrics, now, write)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _snap(state: TierState) -> dict[str, Any]:
    return {"tier": state.tier, "since": _iso(state.since), "achieved_at": _iso(state.achieved_at),
            "protected_until": _iso(state.protected_until)}


def _same(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """The same tier change: every change stamps ``since`` (a cleared protection keeps it)."""
    return bool(a and b) and a["tier"] == b["tier"] and _when(a["since"]) == _when(b["since"])


def tier_after_merge(*, survivor_id: int, merged_id: int, merge_id: int, now: datetime) -> dict[str, Any]:
    """In a merge's transaction, after the merged member's orders moved to ``survivor_id``: the survivor
    gets the higher of its tier and the merged member's (that tier's ``achieved_at`` / protection come
    with it), then the upgrade the combined figures earn (the rule of :func:`tier_upgrade_for_order`;
    never down: downgrades are the monthly review's). History ``merge``, ``ref`` ``merge:<id>``. Returns
    what :func:`tier_undo_merge` needs: the state ``before`` and ``after``, the history row (if any) and
    ``protection``, where the tier after came from: ``survivor`` (unchanged), ``merged`` (the merged member's
    own) or ``upgrade`` (earned on the combined figures: resting on the merged member's orders too)."""
    policy = tier_policy()
    locked = {pk: _state_lock(pk) for pk in sorted({survivor_id, merged_id})}  # in member order
    state, theirs = locked[survivor_id], locked[merged_id]
    before = _snap(state)
    metrics = metrics_of(survivor_id, now)
    tier, achieved, until, notes = Tier(state.tier), state.achieved_at, state.protected_until, []
    source = "survivor"
    if Tier(theirs.tier).rank > tier.rank:
        tier, achieved, until = Tier(theirs.tier), theirs.achieved_at, theirs.protected_until
        notes.append(f"合并会员的等级 the merged member's tier ({theirs.tier})")
        source = "merged"
    change = core.tier_after_order(tier, achieved, metrics, policy, now)
    if change is not None:
        tier, achieved, until = change.to_tier, change.achieved_at, core.protected_until(change.achieved_at, policy)
        notes.append(change.note)
        source = "upgrade"
    write = None
    if tier.value != state.tier:
        write = _Write(tier, TierReason.MERGE, f"merge:{merge_id}",
                       f"会员合并 Members merged (#{merge_id}): " + "; ".join(notes), achieved, until)
    row = _store(state, metrics, now, write)
    state.refresh_from_db()
    return {"before": before, "after": _snap(state), "history_id": row.pk if row else None, "protection": source}


def _other_records(survivor_id: int, merge_id: int) -> list[tuple[dict[str, Any], bool]]:
    """(tier record, undone) of the survivor's other merges that changed its tier."""
    rows = (MemberMerge.objects.filter(survivor_id=survivor_id).exclude(pk=merge_id).order_by("pk")
            .values_list("moved", "undone_at"))
    return [((m or {})["tier"], undone is not None) for m, undone in rows
            if ((m or {}).get("tier") or {}).get("history_id") and m["tier"].get("after")]


def _earned_on_combined(record: dict[str, Any]) -> bool:
    """The tier a merge gave was earned on the combined figures (not the merged member's own tier). Records
    from before ``protection`` was kept: an upgrade is stamped ``achieved_at`` = the merge's time."""
    if "protection" in record:
        return record["protection"] == "upgrade"
    after = record.get("after") or {}
    return bool(after.get("achieved_at")) and _when(after["achieved_at"]) == _when(after.get("since"))


def _reevaluate_merged(state: TierState, merge_id: int, policy: TierPolicy, now: datetime) -> dict[str, Any]:
    """The merged member back on its own after an undo: its figures refreshed (its orders are back) and the
    upgrade they earn (history ``merge``, ref ``merge:<id>:undo``); downgrades stay the monthly review's."""
    metrics = metrics_of(state.member_id, now)
    change = core.tier_after_order(Tier(state.tier), state.achieved_at, metrics, policy, now)
    write = _from_change(change, TierReason.MERGE, f"merge:{merge_id}:undo", policy) if change else None
    _store(state, metrics, now, write)
    state.refresh_from_db()
    return {"to": _snap(state), **({"upgraded": change.to_tier.value} if change else {})}


def tier_undo_merge(*, survivor_id: int, merge_id: int, record: dict[str, Any], now: datetime,
                    merged_id: int | None = None) -> dict[str, Any]:
    """In a merge undo's transaction, after the orders went back; returns what happened (kept in the merge).

    * The survivor's tier is still the one the merge gave (no change since): it goes back to the state
      before the merge; when that state was itself given by another merge undone since, to the state
      before that one (and so on), so undoing two merges in either order ends where the member began.
    * A change since (an order, a review, HQ, another merge) stands, but a protection a later merge earned
      on the combined figures (which counted the orders now gone) is cleared, so the monthly review can
      correct the tier; a protection that came with a merged member's own tier (``protection`` ``merged``)
      does not rest on this merge's orders and stays.
    * Either way the survivor is then re-evaluated on its own figures after the undo by the order
      upgrade rule (its own spend may qualify it), history ``merge``, ``ref`` ``merge:<id>:undo``; so is
      the merged member (``merged_id``), whose orders are back (``done["merged"]``)."""
    policy = tier_policy()
    locked = {pk: _state_lock(pk) for pk in sorted({survivor_id, merged_id or survivor_id})}  # in member order
    state = locked[survivor_id]
    metrics = metrics_of(survivor_id, now)
    record = record or {}
    cur, before = _snap(state), record.get("before")
    others = _other_records(survivor_id, merge_id)
    undone = [r for r, gone in others if gone]
    after = record.get("after")
    if after is None and record.get("history_id"):  # recorded before ``after`` was kept: the history row
        last = TierHistory.objects.filter(member_id=survivor_id).order_by("-pk").values_list("pk", flat=True).first()
        after = cur if last == record["history_id"] else None
    done: dict[str, Any] = {"from": cur}
    if before is not None and after is not None and _same(cur, after):
        target, seen = dict(before), set()
        while True:
            older = next((i for i, o in enumerate(undone) if _same(o["after"], target) and i not in seen), None)
            if older is None:
                break
            seen.add(older)
            target = dict(undone[older]["before"])
        done["how"] = "restored"
    else:
        target = dict(cur)
        given = [r for r in [record, *(o for o, _ in others)] if r.get("history_id") and _same(r.get("after"), cur)
                 and _earned_on_combined(r)]
        if given and cur["protected_until"]:
            target.update(achieved_at=None, protected_until=None)
            done["how"] = "protection_cleared"
        else:
            done["how"] = "kept"
    tier, achieved = Tier(target["tier"]), _when(target["achieved_at"])
    since, until = _when(target["since"]) or now, _when(target["protected_until"])
    change = core.tier_after_order(tier, achieved, metrics, policy, now)
    notes = [f"撤销会员合并 Merge #{merge_id} undone: "
             + {"restored": "the tier before it", "protection_cleared": "a later change stands, the merge's "
                "protection is cleared", "kept": "a later change stands"}[done["how"]]]
    if change is not None:
        tier, achieved, since = change.to_tier, change.achieved_at, now
        until = core.protected_until(achieved, policy)
        notes.append(change.note)
        done["upgraded"] = tier.value
    won = TierState.objects.filter(pk=state.pk, tier=state.tier).update(
        tier=tier.value, since=since, achieved_at=achieved, protected_until=until, growth=metrics.growth,
        spend_12m_fen=metrics.spend_12m_fen, basis_at=now, updated_at=timezone.now())
    if not won:  # cannot happen under the lock
        raise Conflict("会员等级已变化，请重试 The tier changed meanwhile; retry", code="tier_changed",
                       details={"member_id": survivor_id})
    state.refresh_from_db()
    done["to"] = _snap(state)
    if tier.value != cur["tier"]:
        row = TierHistory.objects.create(
            member_id=survivor_id, from_tier=cur["tier"], to_tier=tier.value, reason=TierReason.MERGE,
            ref=f"merge:{merge_id}:undo", note="; ".join(notes)[:400], at=now, growth=metrics.growth,
            spend_12m_fen=metrics.spend_12m_fen)
        done["history_id"] = row.pk
    if merged_id is not None and merged_id != survivor_id:
        done["merged"] = _reevaluate_merged(locked[merged_id], merge_id, policy, now)
    return done


def _review_locked(state: TierState, metrics: TierMetrics, policy: TierPolicy, now: datetime,
                   month: str) -> TierHistory | None:
    change = core.monthly_review(Tier(state.tier), state.achieved_at, metrics, policy, now)
    write = _from_change(change, TierReason.REVIEW, f"review:{month}", policy) if change else None
    return _store(state, metrics, now, write, reviewed_month=month)


def _reviewable(member_id: int) -> bool:
    """Not merged into another member (its orders are the survivor's now) and not erased."""
    return Member.objects.filter(pk=member_id, merged_into__isnull=True, deleted_at__isnull=True).exists()


def tier_review(*, member_id: int, now: datetime) -> TierHistory | None:
    """The monthly review of one member (the core's rules: up to the qualified tier, or one step
    down unless protected). Once per month: a second call in the same month changes nothing. A member
    merged into another or erased is not reviewed (None)."""
    policy = tier_policy()
    month = month_of(now)
    with transaction.atomic():
        state = _state_lock(member_id)
        if state.reviewed_month >= month or not _reviewable(member_id):
            return None
        return _review_locked(state, metrics_of(member_id, now), policy, now, month)


def tiers_review_all(*, now: datetime, batch: int = 500) -> dict[str, int]:
    """Review every member (what :func:`tier_review` does, in batches); counts of reviewed, upgraded,
    downgraded, skipped (already reviewed this month). Members merged into another (their orders sit with
    the survivor: they would drift down a tier a month) and erased members are left out.

    Per batch, one transaction: the missing state rows are created, the batch's rows not yet
    reviewed this month are locked in member order (the order handler locks one member: no
    deadlock), their figures read in one query, then each member is decided and written."""
    policy, month, rate = tier_policy(), month_of(now), growth_per_yuan()
    counts = {"reviewed": 0, "upgraded": 0, "downgraded": 0, "skipped": 0}
    last = 0
    while True:
        page = list(Member.objects.filter(pk__gt=last).order_by("pk")
                    .values_list("pk", "merged_into_id", "deleted_at")[:batch])
        if not page:
            return counts
        last = page[-1][0]
        ids = [pk for pk, merged_into, deleted in page if merged_into is None and deleted is None]
        with transaction.atomic():
            TierState.objects.bulk_create([TierState(member_id=i) for i in ids], ignore_conflicts=True)
            states = list(TierState.objects.select_for_update().filter(member_id__in=ids)
                          .exclude(reviewed_month__gte=month).order_by("member_id"))
            counts["skipped"] += len(ids) - len(states)
            spend = spend_by_member([st.member_id for st in states], now)
            for st in states:
                fen = spend.get(st.member_id, 0)
                row = _review_locked(st, TierMetrics(growth=fen * rate // 100, spend_12m_fen=fen), policy, now, month)
                counts["reviewed"] += 1
                if row is not None:
                    up = Tier(row.to_tier).rank > Tier(row.from_tier).rank
                    counts["upgraded" if up else "downgraded"] += 1


def tier_set_manual(*, member_id: int, tier: str, reason: str, by_user_id: int | None,
                    now: datetime | None = None) -> TierHistory:
    """HQ sets a tier by hand (history ``manual`` with the reason). Raising it protects it like an
    upgrade; lowering it gives no protection. 409 ``tier_unchanged`` when it is the current tier."""
    now = now or timezone.now()
    try:
        target = Tier(tier)
    except ValueError:
        raise InvalidInput("等级无效 Unknown tier", code="invalid_tier",
                           details={"tier": tier, "allowed": [t.value for t in TIER_ORDER]}) from None
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写原因 A reason is required", code="reason_required", details={})
    policy = tier_policy()
    with transaction.atomic():
        state = _state_lock(member_id)
        if state.tier == target.value:
            raise Conflict("会员已是该等级 The member already has this tier", code="tier_unchanged",
                           details={"member_id": member_id, "tier": target.value})
        up = target.rank > Tier(state.tier).rank
        achieved = now if up else None
        note = f"总部调整 Set by HQ: {reason}"
        write = _Write(target, TierReason.MANUAL, f"manual:{uuid.uuid4().hex}", note, achieved,
                       core.protected_until(achieved, policy), by_user_id)
        row = _store(state, metrics_of(member_id, now), now, write)
        assert row is not None
        return row


# -- reading ------------------------------------------------------------------------------------------------------

def benefits_dict(benefits: Benefits) -> dict[str, Any]:
    return {k: getattr(benefits, k) for k in BENEFIT_KEYS}


def tier_view(member_id: int, now: datetime | None = None) -> dict[str, Any]:
    """The member's tier, benefits, the figures now, progress to the next tier and the recent history."""
    now = now or timezone.now()
    policy = tier_policy()
    state = TierState.objects.filter(member_id=member_id).first()
    tier = Tier(state.tier) if state else Tier.NORMAL
    metrics = metrics_of(member_id, now)
    value = policy.value(metrics)
    following = TIER_ORDER[tier.rank + 1] if tier.rank + 1 < len(TIER_ORDER) else None
    progress = None
    if following is not None:
        target = policy.thresholds[following]
        progress = {"next_tier": following.value, "next_label": following.label,
                    "next_label_en": LABEL_EN[following], "threshold": target,
                    "remaining": max(target - value, 0), "share": min(value / target, 1.0) if target else 1.0}
    rows = TierHistory.objects.filter(member_id=member_id).order_by("-at", "-pk")[:RECENT_HISTORY]
    local = timezone.localtime
    return {
        "member_id": member_id, "tier": tier.value, "label": tier.label, "label_en": LABEL_EN[tier],
        "since": local(state.since) if state else None,
        "protected_until": local(state.protected_until) if state and state.protected_until else None,
        "basis": policy.basis.value, "value": value, "growth": metrics.growth, "spend_12m_fen": metrics.spend_12m_fen,
        "benefits": benefits_dict(policy.benefits[tier]), "progress": progress,
        "tiers": [{"tier": t.value, "label": t.label, "label_en": LABEL_EN[t], "threshold": policy.thresholds[t],
                   "benefits": benefits_dict(policy.benefits[t]), "current": t is tier} for t in TIER_ORDER],
        "history": [{"from_tier": h.from_tier, "to_tier": h.to_tier, "reason": h.reason, "note": h.note,
                     "at": local(h.at), "growth": h.growth, "spend_12m_fen": h.spend_12m_fen} for h in rows],
    }
