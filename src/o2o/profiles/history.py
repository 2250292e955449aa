"""Reading every member's purchase history (and behaviour) from the database, for the tag engine.

A purchase is an order with a member and a ``paid_at`` (online orders once paid, POS sales
at once), of any channel; cancelled or expired orders never paid are left out, refunded
ones count with their refunded fen (their net spend falls to what was kept).

Per line: ``payable_fen`` (what the line paid), ``discount_fen``, ``refunded_fen``, ``qty``;
per order: ``paid_at``, ``channel``, the store (``Order.store``: the POS or pickup store, else
the location of the order's first live shipment), the fulfilment mode (the first live
shipment's mode, else the order's ``choice`` when it is a mode); the category is the SKU's
product category and the department its parent category (the category itself at the top).

Behaviour (:func:`member_behaviour`, the core's :class:`~o2o.core.profile.Behaviour`), four aggregate queries
per batch of members, everything up to ``as_of``: 90-day sign-in days (distinct China days of the points lots
with ref ``action:sign_in:...``, ``members.actions``; a sign-in that earned 0 points leaves no lot), reviews
(``o2o.reviews``: count, last 90 days, rating sum; hidden ones count, they were written), channels
(``accounts.MemberChannel`` first seen by ``as_of``; a last sighting after ``as_of`` counts as ``as_of``) and
identities (``accounts.MemberIdentity`` first seen by ``as_of``).

Events (:func:`member_events`, the core's :class:`~o2o.core.profile.Events`), four queries per batch: the
``BehaviourEvent`` rows (view, cart_add, search: one per member, kind, SKU and China day) and the sign-in lots
of the 30 days up to ``as_of`` (a sign-in is not stored twice: its lot is the event, at ``earned_at``), plus
each member's latest older event of each kind and latest older sign-in (two aggregates), so ``last_seen_days``
reaches back past the 30 days (as far as the events are kept: 90 days by default, sign-ins for ever).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncDate

from o2o.accounts.models import Member, MemberChannel, MemberIdentity
from o2o.catalog.models import Category, Channel
from o2o.core.loyalty import Action
from o2o.core.profile import EVENT_KINDS, MODES, Behaviour, Events, HistoryBuilder, Purchases
from o2o.members.actions import action_ref
from o2o.members.models import PointsLot
from o2o.orders.models import Order, OrderLine, Shipment, ShipmentStatus
from o2o.profiles.models import BehaviourEvent
from o2o.reviews.models import Review

__all__ = ["EVENTS_DAYS", "member_behaviour", "member_events", "member_histories"]

_BATCH = 5000
EVENTS_DAYS = 30  # the window of the clickstream tags (``o2o.core.profile.engine._events``)


def _chunks(ids: list[int], size: int = _BATCH) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def member_histories(member_ids: Iterable[int] | None = None) -> Purchases:
    """The purchases of the given members (all members not merged into another when None)."""
    members = Member.objects.filter(merged_into__isnull=True, deleted_at__isnull=True)
    if member_ids is not None:
        members = members.filter(pk__in=list(member_ids))
    builder = HistoryBuilder()
    for pk, created_at in members.order_by("pk").values_list("pk", "created_at"):
        builder.member(pk, registered_at=created_at)
    ids = list(builder.member_keys)
    cats = {pk: (name, parent) for pk, name, parent in Category.objects.values_list("pk", "name", "parent_id")}

    def department(cat_id: int | None) -> str | None:
        if cat_id is None:
            return None
        seen = set()
        while cats[cat_id][1] is not None and cat_id not in seen:
            seen.add(cat_id)
            cat_id = cats[cat_id][1]
        return cats[cat_id][0]

    for chunk in _chunks(ids):
        orders = {o[0]: o for o in Order.objects.filter(member_id__in=chunk, paid_at__isnull=False).values_list(
            "pk", "member_id", "paid_at", "channel", "store_id", "choice")}
        if not orders:
            continue
        ship: dict[int, tuple[str, int]] = {}
        live = Shipment.objects.filter(order_id__in=list(orders)).exclude(
            status__in=[ShipmentStatus.REROUTED, ShipmentStatus.CANCELLED]).order_by("pk")
        for order_id, mode, location_id in live.values_list("order_id", "mode", "location_id"):
            ship.setdefault(order_id, (mode, location_id))
        lines = OrderLine.objects.filter(order_id__in=list(orders)).values_list(
            "order_id", "payable_fen", "discount_fen", "refunded_fen", "qty", "sku__product__category_id")
        for order_id, payable, discount, refunded, qty, cat_id in lines:
            _, member_id, paid_at, channel, store_id, choice = orders[order_id]
            mode, location_id = ship.get(order_id, (choice if choice in MODES else None, None))
            store = store_id if store_id is not None else location_id
            builder.line(member_id, order_id, paid_at, payable, discount_fen=discount, refunded_fen=refunded,
                         qty=qty, channel=channel, store=store, mode=mode,
                         category=cats[cat_id][0] if cat_id in cats else None, department=department(cat_id))
    purchases, _ = builder.build()
    return purchases


def member_behaviour(members: Iterable[Hashable], as_of: datetime) -> Behaviour:
    """Sign-ins, reviews, channels and identities of ``members`` (member ids) up to ``as_of``."""
    ids = [int(m) for m in members]
    d90 = as_of - timedelta(days=90)
    rows: dict[Hashable, dict[str, int]] = {pk: {} for pk in ids}
    for chunk in _chunks(ids):
        signins = (PointsLot.objects.filter(account__member_id__in=chunk, earned_at__gt=d90, earned_at__lte=as_of,
                                            ref__startswith=action_ref(Action.SIGN_IN, ""))
                   .values("account__member_id")
                   .annotate(d90=Count(TruncDate("earned_at"), distinct=True)))
        for r in signins:
            rows[r["account__member_id"]]["signin_days_90d"] = r["d90"]
        reviews = (Review.objects.filter(member_id__in=chunk, created_at__lte=as_of).values("member_id")
                   .annotate(n=Count("id"), n90=Count("id", filter=Q(created_at__gt=d90)), s=Sum("rating")))
        for r in reviews:
            rows[r["member_id"]].update(reviews_written=r["n"], reviews_90d=r["n90"], review_rating_sum=r["s"])
        channels = (MemberChannel.objects.filter(member_id__in=chunk, first_seen_at__lte=as_of).values("member_id")
                    .annotate(n=Count("id"), pos=Count("id", filter=Q(channel=Channel.POS)),
                              last=Max("last_seen_at")))
        for r in channels:
            last = min(r["last"], as_of)
            rows[r["member_id"]].update(channels_seen=r["n"], online_channels_seen=r["n"] - r["pos"],
                                        pos_seen=min(r["pos"], 1), last_seen_at=int(last.timestamp()))
        identities = (MemberIdentity.objects.filter(member_id__in=chunk, first_seen_at__lte=as_of)
                      .values("member_id").annotate(n=Count("id")))
        for r in identities:
            rows[r["member_id"]]["identities_linked"] = r["n"]
    return Behaviour.from_rows(as_of, rows)


def member_events(members: Sequence[Hashable], as_of: datetime) -> Events:
    """The behaviour events of ``members`` (member ids; ``Events.member`` indexes this sequence, so pass the
    purchases' ``members``) of the 30 days up to ``as_of``, and each member's latest older one of each kind."""
    pos = {int(m): i for i, m in enumerate(members)}
    code = {k: i for i, k in enumerate(EVENT_KINDS)}
    sign_in = code["sign_in"]
    start = as_of - timedelta(days=EVENTS_DAYS)
    who: list[int] = []
    at: list[int] = []
    kind: list[int] = []

    def add(member_id: int, when: datetime, k: int) -> None:
        who.append(pos[member_id])
        at.append(int(when.timestamp()))
        kind.append(k)

    prefix = action_ref(Action.SIGN_IN, "")
    for chunk in _chunks(list(pos)):
        events = BehaviourEvent.objects.filter(member_id__in=chunk, at__lte=as_of)
        lots = PointsLot.objects.filter(account__member_id__in=chunk, earned_at__lte=as_of, ref__startswith=prefix)
        for member_id, k, when in events.filter(at__gt=start).values_list("member_id", "kind", "at"):
            add(member_id, when, code[k])
        for member_id, when in lots.filter(earned_at__gt=start).values_list("account__member_id", "earned_at"):
            add(member_id, when, sign_in)
        older = events.filter(at__lte=start).values("member_id", "kind").annotate(last=Max("at")).order_by()
        for r in older:
            add(r["member_id"], r["last"], code[r["kind"]])
        older_lots = (lots.filter(earned_at__lte=start).values("account__member_id").annotate(last=Max("earned_at"))
                      .order_by())
        for r in older_lots:
            add(r["account__member_id"], r["last"], sign_in)
    return Events(member=np.array(who, dtype=np.int64), at=np.array(at, dtype=np.int64),
                  kind=np.array(kind, dtype=np.int64), kinds=EVENT_KINDS)
