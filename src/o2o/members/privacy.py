"""Personal data (PIPL): a member's export (a copy of everything we hold about them) and deletion (注销).

* :func:`member_export` — one JSON-ready document: profile, identities, channels seen, orders (lines,
  payments, the contact and address given), points (account, lots, ledger), tier and its history, carts,
  the personal-data access log and what apps above ``members`` add through :data:`member_exporting`
  (the visible tags, ``o2o.profiles.privacy``). The member's own identifiers are decrypted: it is a copy of
  their own data (PIPL art. 45). Written to ``PiiAccessLog`` (action ``export``) in the same transaction.
* :func:`member_erase` — anonymisation in one transaction: the member's name and phone, identities,
  channels, carts, tokens, the contact and address of their orders, the free text about them on those
  orders (cancel and return reasons people typed, courier payloads and reasons, payers' identifiers in
  payment payloads: ``o2o.orders.privacy``; routing destinations coarsened: ``o2o.fulfilment.privacy``)
  and what apps above add through :data:`member_erasing` (tags) go; orders, payments, refunds, returns
  (amounts, statuses, times), the points ledger and the tier history stay (bookkeeping and tax law keep
  them; they now point at an anonymous member). Refused with 409 ``open_orders`` while an order is not
  closed. A second call changes nothing and answers the same.

Apps above ``members`` (profiles) cannot be imported here (import layers): they join through the two
signals, whose receivers run inside the export's / deletion's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from o2o.accounts import pii
from o2o.accounts.identities import value_field
from o2o.accounts.identity_rules import IdentityKind
from o2o.accounts.models import ApiToken, Member, MemberChannel, MemberIdentity, PiiAccessLog, User
from o2o.accounts.pii_services import PHONE
from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core.orders import CLOSED_ORDER
from o2o.fulfilment.privacy import erase_routing_text
from o2o.members.models import PointsAccount, PointsEntry, PointsLot
from o2o.members.models_tiers import TierHistory, TierState
from o2o.orders.models import Cart, CartLine, Order, OrderLine, Payment, Refund, Return
from o2o.orders.placement import CONTACT_PHONE
from o2o.orders.privacy import erase_order_text, typed_texts
from o2o.outbox.services import event_emit

#: ``send(sender=Member, member=...)``: each receiver returns ``(section name, JSON-ready data)``.
member_exporting = Signal()
#: ``send(sender=Member, member=..., now=...)`` inside the deletion's transaction: each receiver erases
#: its rows of the member and returns ``(what, rows erased)``.
member_erasing = Signal()

ALL_FIELDS = "member.all"
ANONYMISED = "已注销"
ERASED_TEXT = "（已删除 erased）"  # in place of free text about an erased member
EXPORT_FORMAT = "o2o.member-export/1"
OPEN_RETURN = ["requested", "received"]  # a refund still to pay out


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput("请说明原因（2-200字） Give a reason (2-200 characters)", code="reason_required")
    return reason[:200]


def _member(member_id: int, *, lock: bool = False) -> Member:
    qs = Member.objects.filter(pk=member_id)
    member = (qs.select_for_update() if lock else qs).first()
    if member is None:
        raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": member_id})
    return member


def _t(at: datetime | None) -> str | None:
    return timezone.localtime(at).isoformat() if at else None


def _clear(token: str, field: str) -> str | None:
    """The value in clear; None when its key is gone (rotated out): the export says so, it does not fail."""
    if not token:
        return ""
    try:
        return pii.decrypt(token, field=field)
    except (KeyError, ValueError):
        return None


# --------------------------------------------------------------------------------------------- export


def _orders(member_id: int) -> list[dict[str, Any]]:
    orders = list(Order.objects.filter(member_id=member_id).order_by("created_at", "pk"))
    ids = [o.pk for o in orders]
    lines: dict[int, list] = {}
    for ln in OrderLine.objects.filter(order_id__in=ids).order_by("pk"):
        lines.setdefault(ln.order_id, []).append(
            {"sku_id": ln.sku_id, "name": ln.name, "qty": ln.qty, "unit_price_fen": ln.unit_price_fen,
             "discount_fen": ln.discount_fen, "payable_fen": ln.payable_fen, "returned_qty": ln.returned_qty,
             "refunded_fen": ln.refunded_fen})
    payments: dict[int, list] = {}
    for p in Payment.objects.filter(order_id__in=ids).order_by("pk"):
        payments.setdefault(p.order_id, []).append(
            {"provider": p.provider, "amount_fen": p.amount_fen, "status": p.status, "refunded_fen": p.refunded_fen,
             "paid_at": _t(p.paid_at)})
    refunds: dict[int, list] = {}
    for r in Refund.objects.filter(order_id__in=ids).order_by("pk"):
        refunds.setdefault(r.order_id, []).append(
            {"amount_fen": r.amount_fen, "status": r.status, "reason": r.reason, "created_at": _t(r.created_at)})
    returns: dict[int, list] = {}
    for r in Return.objects.filter(order_id__in=ids).order_by("pk"):
        returns.setdefault(r.order_id, []).append(
            {"number": r.number, "method": r.method, "status": r.status, "reason": r.reason,
             "refund_fen": r.refund_fen, "created_at": _t(r.created_at)})
    return [{
        "number": o.number, "channel": o.channel, "status": o.status, "fulfilment": o.choice, "store_id": o.store_id,
        "created_at": _t(o.created_at), "paid_at": _t(o.paid_at), "completed_at": _t(o.completed_at),
        "cancelled_at": _t(o.cancelled_at), "goods_fen": o.goods_fen, "discount_fen": o.discount_fen,
        "delivery_fee_fen": o.delivery_fee_fen, "total_fen": o.total_fen, "paid_fen": o.paid_fen,
        "refunded_fen": o.refunded_fen,
        "contact": {"name": o.contact_name, "phone": _clear(o.contact_phone_enc, CONTACT_PHONE),
                    "address": o.address, "lat": o.dest_lat, "lng": o.dest_lng},
        "lines": lines.get(o.pk, []), "payments": payments.get(o.pk, []), "refunds": refunds.get(o.pk, []),
        "returns": returns.get(o.pk, []),
    } for o in orders]


def _points(member_id: int) -> dict[str, Any] | None:
    account = PointsAccount.objects.filter(member_id=member_id).first()
    if account is None:
        return None
    return {
        "balance": account.balance, "debt": account.debt, "net": account.net,
        "lots": [{"ref": lot.ref, "points": lot.points, "remaining": lot.remaining, "reversed": lot.reversed,
                  "earned_at": _t(lot.earned_at), "expires_at": _t(lot.expires_at)}
                 for lot in PointsLot.objects.filter(account=account).order_by("no")],
        "entries": [{"kind": e.kind, "points": e.points, "ref": e.ref, "at": _t(e.at)}
                    for e in PointsEntry.objects.filter(account=account).order_by("pk")],
    }


def _tier(member_id: int) -> dict[str, Any]:
    state = TierState.objects.filter(member_id=member_id).first()
    return {
        "tier": state.tier if state else "normal", "since": _t(state.since) if state else None,
        "protected_until": _t(state.protected_until) if state else None,
        "spend_12m_fen": state.spend_12m_fen if state else 0, "growth": state.growth if state else 0,
        "history": [{"from": h.from_tier, "to": h.to_tier, "reason": h.reason, "note": h.note, "at": _t(h.at)}
                    for h in TierHistory.objects.filter(member_id=member_id).order_by("at", "pk")],
    }


def _carts(member_id: int) -> list[dict[str, Any]]:
    carts = list(Cart.objects.filter(member_id=member_id).order_by("pk"))
    lines: dict[int, list] = {}
    for ln in CartLine.objects.filter(cart__in=carts).order_by("pk"):
        lines.setdefault(ln.cart_id, []).append({"sku_id": ln.sku_id, "qty": ln.qty, "added_at": _t(ln.added_at)})
    return [{"status": c.status, "channel": c.channel, "location_id": c.location_id, "created_at": _t(c.created_at),
             "lines": lines.get(c.pk, [])} for c in carts]


def export_document(member: Member, *, now: datetime) -> dict[str, Any]:
    """Everything held about the member, JSON-ready (no logging: :func:`member_export` logs)."""
    identities = [{"kind": i.kind, "app_id": i.app_id, "value": _clear(i.value_enc, value_field(IdentityKind(i.kind))),
                   "channel": i.channel, "first_seen_at": _t(i.first_seen_at), "last_seen_at": _t(i.last_seen_at)}
                  for i in MemberIdentity.objects.filter(member=member).order_by("kind", "app_id", "pk")]
    doc: dict[str, Any] = {
        "format": EXPORT_FORMAT, "exported_at": _t(now),
        "member": {"id": member.pk, "display_name": member.display_name, "phone": _clear(member.phone_enc, PHONE),
                   "created_at": _t(member.created_at), "registered_channel": member.registered_channel,
                   "is_active": member.is_active, "merged_into": member.merged_into_id,
                   "deleted_at": _t(member.deleted_at)},
        "identities": identities,
        "channels": [{"channel": c.channel, "first_seen_at": _t(c.first_seen_at), "last_seen_at": _t(c.last_seen_at)}
                     for c in MemberChannel.objects.filter(member=member).order_by("channel")],
        "orders": _orders(member.pk),
        "points": _points(member.pk),
        "tier": _tier(member.pk),
        "carts": _carts(member.pk),
        "access_log": [{"action": a.action, "field": a.field, "by": "staff" if a.user_id else "member",
                        "at": _t(a.at)} for a in PiiAccessLog.objects.filter(member=member).order_by("at", "pk")],
    }
    for _receiver, section in member_exporting.send(sender=Member, member=member):
        if section:
            name, data = section
            doc[name] = data
    return doc


def member_export(*, member_id: int, reason: str, user: User | None = None, now: datetime | None = None
                  ) -> dict[str, Any]:
    """The member's data as one document, logged (``PiiAccessLog`` action ``export``) in the same transaction.
    ``user`` is the staff member exporting on the member's request (reason required); None: the member."""
    now = now or timezone.now()
    reason = _reason(reason) if user is not None else (reason or "会员本人导出 own export")[:200]
    with transaction.atomic():
        member = _member(member_id)
        doc = export_document(member, now=now)
        PiiAccessLog.objects.create(user=user, member=member, field=ALL_FIELDS, action="export", reason=reason)
    return doc


# ------------------------------------------------------------------------------------------- deletion


def _answer(member: Member) -> dict[str, Any]:
    kept = {
        "orders": Order.objects.filter(member=member).count(),
        "points_entries": PointsEntry.objects.filter(account__member=member).count(),
        "tier_changes": TierHistory.objects.filter(member=member).count(),
    }
    return {"member_id": member.pk, "deleted_at": timezone.localtime(member.deleted_at), "kept": kept}


def _cart_ids(member_id: int) -> list[int]:
    """The member's carts and the visitor carts merged into them (the same person before signing in)."""
    ids = set(Cart.objects.filter(member_id=member_id).values_list("pk", flat=True))
    frontier = set(ids)
    while frontier:
        frontier = set(Cart.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)) - ids
        ids |= frontier
    return sorted(ids)


#: how deep the chain of members merged into members merged into ... the erased one is followed
MERGE_CHAIN_DEPTH = 10


class _ChainChanged(Exception):
    """A merge or an undo of the chain committed between the read and the lock: roll back, read again."""


def _merged_chain(member_id: int) -> set[int]:
    """The member and every member merged into it, directly or through members merged into it (bounded)."""
    ids, frontier = {member_id}, {member_id}
    for _ in range(MERGE_CHAIN_DEPTH):
        frontier = set(Member.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)) - ids
        if not frontier:
            break
        ids |= frontier
    return ids


def _lock_with_merged(member_id: int) -> tuple[Member, set[int]]:
    """Lock the member and the members merged into it (:func:`_merged_chain`, whose rows the erasure updates),
    and return it with their ids. The chain is read without locks, then locked in ONE statement in id order
    (the order a merge, its undo, a link and a till sale lock members in: no deadlock with any of them) and
    read again; changed meanwhile: the locks are released (rolled back to a savepoint) and it starts over."""
    for _ in range(5):
        ids = _merged_chain(member_id)
        try:
            with transaction.atomic():
                # FOR NO KEY UPDATE: the rows change only in non-key columns; a sign-in inserting a row that
                # references the member (its FK check takes KEY SHARE) is not blocked, so it cannot deadlock with us.
                rows = list(Member.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk"))
                if member_id not in {m.pk for m in rows}:
                    raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": member_id})
                if _merged_chain(member_id) != ids:
                    raise _ChainChanged
        except _ChainChanged:
            continue
        return next(m for m in rows if m.pk == member_id), ids - {member_id}
    raise Conflict("会员合并中，请重试 The member is being merged; try again", code="retry",
                   details={"member_id": member_id})


def member_erase(*, member_id: int, reason: str, user: User | None = None, now: datetime | None = None
                 ) -> dict[str, Any]:
    """Erase (anonymise) the member's personal data in one transaction; keep the financial records.

    409 ``open_orders`` while an order of theirs is not completed / cancelled / expired / refunded,
    409 ``member_merged`` for a member merged into another (erase the survivor). Repeatable: a member
    already erased is answered as the first time, nothing changes and nothing more is logged."""
    now = now or timezone.now()
    reason = _reason(reason) if user is not None else (reason or "会员本人申请注销 own request").strip()[:200]
    with transaction.atomic():
        member, merged = _lock_with_merged(member_id)
        if member.deleted_at is not None:
            return _answer(member)
        if member.merged_into_id is not None:
            raise Conflict("该会员已合并到另一会员，请注销合并后的会员 Merged into another member: erase that one",
                           code="member_merged", details={"member_id": member.pk, "survivor": member.merged_into_id})
        open_orders = list(Order.objects.filter(member=member).exclude(status__in=[s.value for s in CLOSED_ORDER])
                           .order_by("created_at").values_list("number", flat=True)[:20])
        open_returns = list(Return.objects.filter(order__member=member, status__in=OPEN_RETURN)
                            .order_by("created_at").values_list("number", flat=True)[:20])
        if open_orders or open_returns:
            raise Conflict("还有未完成的订单或退货，请等待完成或取消后再注销 Orders or returns still open: "
                           "complete or cancel them first", code="open_orders",
                           details={"orders": open_orders, "returns": open_returns})
        anonymous = {"display_name": ANONYMISED, "phone_enc": "", "phone_index": "", "phone_masked": "",
                     "is_active": False, "deleted_at": now}
        Member.objects.filter(pk=member.pk).update(**anonymous)
        # members merged into this one (or into one merged into it) are the same person: no name kept either
        Member.objects.filter(pk__in=merged).update(**anonymous)
        counts = {
            "identities": MemberIdentity.objects.filter(member=member).delete()[0],
            "channels": MemberChannel.objects.filter(member=member).delete()[0],
            "tokens": ApiToken.objects.filter(member=member, revoked=False).update(revoked=True),
            "orders_anonymised": Order.objects.filter(member=member).update(
                contact_name=ANONYMISED, contact_phone_enc="", contact_phone_masked="", address=ANONYMISED,
                dest_lat=None, dest_lng=None),
        }
        orders = list(Order.objects.filter(member=member).values_list("pk", "number"))
        texts = typed_texts([pk for pk, _ in orders])
        counts.update(erase_order_text([pk for pk, _ in orders], texts=texts, mark=ERASED_TEXT))
        counts.update(erase_routing_text([number for _, number in orders], texts=texts, mark=ERASED_TEXT))
        carts = _cart_ids(member.pk)
        Cart.objects.filter(pk__in=carts).update(merged_into=None)
        CartLine.objects.filter(cart_id__in=carts).delete()
        counts["carts"] = Cart.objects.filter(pk__in=carts).delete()[0]
        for _receiver, erased in member_erasing.send(sender=Member, member=member, now=now):
            if erased:
                counts[erased[0]] = erased[1]
        PiiAccessLog.objects.create(user=user, member=member, field=ALL_FIELDS, action="deletion", reason=reason)
        event_emit(topic="member.deleted", aggregate="member", aggregate_id=member.pk, key=f"member:{member.pk}:deleted",
                   payload={"member_id": member.pk, "erased": counts, "by_user": user.pk if user else None}, now=now)
        member.refresh_from_db()
        return _answer(member)
