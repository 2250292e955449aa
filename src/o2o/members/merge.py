"""Linking an identity, merging two members into one, and undoing a merge (HQ).

:func:`member_link` gives an identifier to a member; when another member owns it, that member (the
*merged* one) is merged into the linking member (the *survivor*, whose id the caller keeps) in the
same transaction. :func:`member_merge` moves, with the ids of every moved row recorded in a
``MemberMerge`` row (``moved``):

* orders, API tokens, identities, personal-data access log rows: their ``member`` becomes the survivor;
* carts: the merged member's carts move (their ids recorded); if both have an open cart (one open cart
  per member, a partial UNIQUE), its lines are added into the survivor's (capped at 999, at most 100
  lines) and it is closed as ``merged``; the survivor's line ids created or increased, by how much, are
  recorded, so the undo takes back exactly that and leaves what the survivor added since;
* channels seen: rows move, or widen the survivor's row for the same channel (old values recorded);
* points: the lots and every ledger entry move to the survivor's account and its ``balance`` and
  ``debt`` grow by the merged account's (which become 0): nothing re-earned, nothing lost, net =
  the sum of both, and ``points_check`` holds on both. Lot numbers are renumbered after the
  survivor's; a lot ref, an operation key or a spend ref that the survivor already uses gets the
  suffix ``@merge<id>`` (old values recorded), so ``UNIQUE (account, ref)`` / ``(account, op, seq)``
  hold and two spends never read as one;
* coupons and places (the marketing app, through :data:`member_merging`): every coupon moves (its slot
  renumbered after the survivor's, the per-member limit widened on the moved row only: both were issued
  legitimately); the home and latest place move if the survivor has none;
* the contact phone: if the survivor has none, the merged member's moves to it (else it stays only
  as the survivor's phone identity); the merged member's is cleared;
* the tier (``members.tiers.tier_after_merge``): the survivor gets the higher of its tier and the merged
  member's (with that tier's protection), then, with the orders moved, the upgrade the combined figures
  earn (up only; the monthly review does downgrades), history ``merge``; the merged member's tier state
  and history stay with it for the record.

The merged member is deactivated with ``merged_into`` = the survivor. Locks: both members' rows
(in id order; merges of a member serialise) and both points accounts (in id order, the lock every
points operation takes), so a spend on the merged member's points either runs before the merge
(and the merge moves what is left) or after it (and finds nothing to spend): never lost, never twice.

:func:`member_merge_undo` moves exactly the recorded rows back and reactivates the merged member.
It refuses (409) when that can no longer be exact: the survivor was itself merged since (undo that
first), a moved row is no longer the survivor's, a moved points lot was spent, expired or reversed
since (or has new entries), the survivor's debt fell below what was moved, or a moved order earned
points on the survivor after the merge. Orders placed and tokens issued after the merge stay. The
survivor's tier goes back to what it was before the merge unless its tier changed again since (that
change stands, without a protection a merge gave), then its own figures are re-evaluated (history
``merge``, ref ``merge:<id>:undo``; what happened is kept in ``moved["tier"]["undo"]``:
``members.tiers.tier_undo_merge``); the merged member is re-evaluated on its own orders too.

:func:`member_link` treats a phone that is another member's pre-OneID contact phone (no identity row) as
owned by that member: HQ merges it, a channel backend gets 409 ``merge_needs_hq`` like for an identity. A
channel backend's link never merges, and links only to a member already holding an identity it may vouch
for (403 ``member_not_of_channel``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Least
from django.dispatch import Signal

from o2o.accounts import member_moves as rows
from o2o.accounts.identities import (
    holds_identity_of,
    identity_attach,
    identity_key,
    identity_owned,
    identity_touch,
    legacy_phone_member,
)
from o2o.accounts.identity_rules import BACKEND_KINDS, IdentityKey, IdentityKind, check_channel
from o2o.accounts.models import ApiToken, Member, MemberIdentity, MemberMerge, PiiAccessLog, User
from o2o.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from o2o.core.loyalty import EntryKind
from o2o.members.handlers import order_ref
from o2o.members.models import PointsAccount, PointsEntry, PointsLot
from o2o.members.points import account_lock
from o2o.members.tiers import tier_after_merge, tier_undo_merge
from o2o.orders.carts import MAX_LINES, MAX_QTY
from o2o.orders.models import Cart, CartLine, CartStatus, Order
from o2o.outbox.services import event_emit

# Rows that simply change owner: name in ``MemberMerge.moved`` -> model with a ``member`` foreign key.
SIMPLE: dict[str, type[models.Model]] = {
    "orders": Order, "tokens": ApiToken, "identities": MemberIdentity, "pii_access": PiiAccessLog,
}


@dataclass(frozen=True)
class Linked:
    member: Member
    identity: MemberIdentity
    merge: MemberMerge | None


class _OwnerChanged(Exception):
    """The identifier changed hands between the unlocked read and the locks: roll back and read again."""


def member_link(*, member_id: int, kind: str, value: str, app_id: str = "", channel: str, now: datetime,
                by_user: User | None = None, by_member: Member | None = None,
                proof_member_id: int | None = None, may_merge: bool = True,
                backend: tuple[str, Sequence[str]] | None = None) -> Linked:
    """Give the identifier to ``member_id``; when another member owns it, merge that member into this one.

    The owner is the member of its identity row or, for a phone nobody holds as an identity, the member whose
    contact phone it is from before OneID (``legacy_phone_member``: signing in with it would adopt them).
    ``proof_member_id`` (member self-service): the member who proved they own the identifier (by
    signing in with it); the identifier must already be theirs, else 403 ``identity_not_proven``.
    ``may_merge`` False (a channel backend): an identifier owned by another member is 409 ``merge_needs_hq``
    (HQ, or the member in their own session, merges), nothing changes. ``backend`` (a channel backend's
    bound channel and app ids; merging is then never allowed): ``member_id`` must already hold an identity
    that backend may vouch for (one it could sign them in with), else 403 ``member_not_of_channel``.

    Locks (the order of a merge, its undo and an erasure: members, then identities): the owner is read
    without a lock, both members are locked in id order, then the identity row, and the owner checked
    again (changed meanwhile: rolled back and read again)."""
    key, index = identity_key(kind, value, app_id)
    check_channel(channel)
    for _ in range(3):
        try:
            with transaction.atomic():
                return _link_once(member_id=member_id, key=key, index=index, channel=channel, now=now,
                                  by_user=by_user, by_member=by_member, proof_member_id=proof_member_id,
                                  may_merge=may_merge and backend is None, backend=backend)
        except _OwnerChanged:
            continue
    raise Conflict("并发冲突，请重试 Concurrent update; send the request again", code="retry")


def _owner_id(key: IdentityKey, index: str, identity: MemberIdentity | None) -> int | None:
    if identity is not None:
        return identity.member_id
    legacy = legacy_phone_member(index) if key.kind is IdentityKind.PHONE else None
    return legacy.pk if legacy else None


def _link_once(*, member_id: int, key: IdentityKey, index: str, channel: str, now: datetime,
               by_user: User | None, by_member: Member | None, proof_member_id: int | None, may_merge: bool,
               backend: tuple[str, Sequence[str]] | None) -> Linked:
    owner_id = _owner_id(key, index, identity_owned(key, index))
    members = _lock_members(*sorted({member_id} | ({owner_id} if owner_id else set())))
    member = members[member_id]
    if not member.is_active:
        raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": member_id})
    if backend is not None and not holds_identity_of(member.pk, kinds=BACKEND_KINDS.get(backend[0], ()),
                                                     app_ids=backend[1]):
        raise Forbidden("该会员不是本渠道登录的会员 This member has no identity this channel backend vouches for",
                        code="member_not_of_channel", details={"member_id": member.pk, "channel": backend[0]})
    identity = identity_owned(key, index, lock=True)
    if _owner_id(key, index, identity) != owner_id:
        raise _OwnerChanged
    if identity is None and owner_id not in (None, member.pk):  # another member's pre-OneID contact phone
        if proof_member_id is None and may_merge:
            rows.ensure_phone_identity(members[owner_id])  # the phone becomes their identity; merged below
            identity = identity_owned(key, index, lock=True)
            if identity is None or identity.member_id != owner_id:
                raise _OwnerChanged
        elif proof_member_id is None:
            raise _needs_hq(member, key)
    if identity is None:
        if proof_member_id is not None:
            raise Forbidden("请先用该身份登录 Sign in with this identity first", code="identity_not_proven",
                            details={"kind": key.kind.value})
        identity = identity_attach(member=member, key=key, index=index, channel=channel, now=now)
        if identity is None:  # a concurrent attach won the insert: read it again (and merge)
            raise _OwnerChanged
        return Linked(member, identity, None)
    if proof_member_id is not None and identity.member_id != proof_member_id:
        raise Forbidden("无法证明拥有该身份 This identity is not proven to be yours", code="identity_not_proven",
                        details={"kind": key.kind.value})
    merge = None
    if identity.member_id != member.pk:
        if not may_merge:
            raise _needs_hq(member, key)
        merge = member_merge(survivor_id=member.pk, merged_id=identity.member_id, now=now, by_user=by_user,
                             by_member=by_member, identity=identity, reason=f"link {key.kind.value} on {channel}")
        identity.member_id = member.pk
    identity_touch(identity, channel=channel, now=now)
    return Linked(member, identity, merge)


def _needs_hq(member: Member, key: IdentityKey) -> Conflict:
    return Conflict("该身份属于另一会员，合并需由总部或会员本人操作 This identity belongs to another member; only HQ "
                    "or the member themselves may merge the two", code="merge_needs_hq",
                    details={"member_id": member.pk, "kind": key.kind.value})


def _lock_members(*ids: int) -> dict[int, Member]:
    # FOR NO KEY UPDATE (merges change only non-key columns): a sign-in that holds an identity row and
    # inserts a row referencing the member (FK check: KEY SHARE) is not blocked by it, so the two cannot deadlock.
    members = {m.pk: m for m in Member.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")}
    for pk in ids:
        if pk not in members:
            raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": pk})
    return members


# The apps above members (marketing: coupons, places) move their rows through these, inside the merge's
# transaction. ``member_merging``: sent with ``survivor``, ``merged``, ``merge``; a receiver returns
# (name, what it moved) and that is recorded in ``merge.moved[name]``. ``member_merge_undoing``: sent with
# ``survivor``, ``merged``, ``moved`` (the whole record); a receiver moves its part back or raises 409.
member_merging = Signal()
member_merge_undoing = Signal()


def member_merge(*, survivor_id: int, merged_id: int, now: datetime, by_user: User | None = None,
                 by_member: Member | None = None, identity: MemberIdentity | None = None,
                 reason: str = "") -> MemberMerge:
    """Merge member ``merged_id`` into ``survivor_id`` (see the module doc); the recorded ``MemberMerge``."""
    if survivor_id == merged_id:
        raise InvalidInput("不能与自己合并 A member cannot be merged into itself", code="same_member",
                           details={"member_id": survivor_id})
    with transaction.atomic():
        members = _lock_members(survivor_id, merged_id)
        survivor, loser = members[survivor_id], members[merged_id]
        for m in (survivor, loser):
            if not m.is_active or m.merged_into_id is not None:
                raise Conflict("会员已停用或已合并 The member is deactivated or merged", code="member_inactive",
                               details={"member_id": m.pk})
        merge = MemberMerge.objects.create(survivor=survivor, merged=loser, identity=identity, reason=reason[:200],
                                           by_user=by_user, by_member=by_member, at=now)
        rows.ensure_phone_identity(loser)
        moved: dict[str, Any] = {}
        for name, model in SIMPLE.items():
            moved[name] = rows.move_fk(model, loser.pk, survivor.pk)
        moved["carts"] = _move_carts(loser.pk, survivor.pk, now)
        moved["channels"] = rows.move_channels(loser.pk, survivor.pk)
        moved["points"] = _move_points(loser.pk, survivor.pk, suffix=f"@merge{merge.pk}", now=now)
        moved["phone"] = rows.move_phone(loser, survivor)
        moved["tier"] = tier_after_merge(survivor_id=survivor.pk, merged_id=loser.pk, merge_id=merge.pk, now=now)
        for _receiver, part in member_merging.send(sender=Member, survivor=survivor, merged=loser, merge=merge):
            if part:
                moved[part[0]] = part[1]
        Member.objects.filter(pk=loser.pk).update(is_active=False, merged_into=survivor)
        merge.moved = moved
        merge.save(update_fields=["moved"])
        event_emit(topic="member.merged", aggregate="member", aggregate_id=survivor.pk, now=now,
                   payload={"merge_id": merge.pk, "survivor_id": survivor.pk, "merged_id": loser.pk},
                   key=f"member.merged:{merge.pk}")
    return merge


def member_merge_undo(*, merge_id: int, user: User, now: datetime) -> MemberMerge:
    """Move back exactly what ``merge_id`` moved and reactivate the merged member; 409 when no longer exact."""
    with transaction.atomic():
        merge = MemberMerge.objects.select_for_update().filter(pk=merge_id).first()
        if merge is None:
            raise NotFound("合并记录不存在 Unknown merge", code="unknown_merge", details={"merge_id": merge_id})
        if merge.undone_at is not None:
            raise Conflict("该合并已撤销 This merge was undone already", code="merge_undone",
                           details={"merge_id": merge_id})
        members = _lock_members(merge.survivor_id, merge.merged_id)
        survivor, loser = members[merge.survivor_id], members[merge.merged_id]
        if survivor.deleted_at is not None or loser.deleted_at is not None:
            raise Conflict("会员已注销，合并不能撤销 A member of this merge was deleted; the merge cannot be undone",
                           code="member_deleted", details={"merge_id": merge_id})
        if not survivor.is_active or survivor.merged_into_id is not None:
            raise Conflict("保留会员已再次合并，请先撤销后一次合并 The surviving member was merged since; undo that first",
                           code="survivor_merged", details={"member_id": survivor.pk})
        if loser.merged_into_id != survivor.pk:
            raise Conflict("合并状态已变化 The merged member changed since", code="merge_changed",
                           details={"member_id": loser.pk})
        moved = merge.moved
        member_merge_undoing.send(sender=Member, survivor=survivor, merged=loser, moved=moved)
        _undo_points(moved.get("points") or {}, moved.get("orders") or [], now)
        for name, model in SIMPLE.items():
            rows.back_fk(model, name, moved.get(name) or [], survivor.pk, loser.pk)
        _undo_carts(moved.get("carts") or {}, survivor.pk, loser.pk)
        tier_undone = tier_undo_merge(survivor_id=survivor.pk, merge_id=merge.pk, record=moved.get("tier") or {},
                                      now=now, merged_id=loser.pk)
        rows.undo_channels(moved.get("channels") or {}, survivor.pk, loser.pk)
        Member.objects.filter(pk=loser.pk).update(is_active=True, merged_into=None)
        rows.undo_phone(moved.get("phone") or {}, survivor.pk, loser.pk)
        merge.undone_at, merge.undone_by = now, user
        merge.moved = {**moved, "tier": {**(moved.get("tier") or {}), "undo": tier_undone}}
        merge.save(update_fields=["undone_at", "undone_by", "moved"])
        event_emit(topic="member.merge_undone", aggregate="member", aggregate_id=survivor.pk, now=now,
                   payload={"merge_id": merge.pk, "survivor_id": survivor.pk, "merged_id": loser.pk},
                   key=f"member.merge_undone:{merge.pk}")
    return merge


def moved_counts(merge: MemberMerge) -> dict[str, int]:
    """How many rows of each kind the merge moved (for the API)."""
    moved = merge.moved or {}
    points = moved.get("points") or {}
    carts = moved.get("carts") or {}
    return {**{name: len(moved.get(name) or []) for name in SIMPLE},
            "carts": len(carts.get("ids") or []),
            "points_lots": len(points.get("lots") or []),
            "points_entries": len(points.get("entries") or []) + len(points.get("entries_renamed") or []),
            "points_net": (points.get("balance") or 0) - (points.get("debt") or 0)}



# -- carts --------------------------------------------------------------------------------------------------------

def _move_carts(from_id: int, to_id: int, now: datetime) -> dict[str, Any]:
    """The merged member's carts move; both open: its lines are added into the survivor's and it closes.

    Recorded: the moved cart ids, and (both open) ``lines``: ``[line id, sku id, qty added, qty before]`` of
    each line of the survivor's cart the merge created (qty before 0) or increased."""
    ids = list(Cart.objects.select_for_update().filter(member_id=from_id).order_by("pk").values_list("pk", flat=True))
    theirs = Cart.objects.filter(pk__in=ids, status=CartStatus.OPEN).first()
    mine = Cart.objects.select_for_update().filter(member_id=to_id, status=CartStatus.OPEN).first()
    merged = None
    if theirs is not None and mine is not None:
        added: list[list[int]] = []
        count = CartLine.objects.filter(cart=mine).count()
        for line in CartLine.objects.filter(cart=theirs).order_by("pk"):
            own = CartLine.objects.select_for_update().filter(cart=mine, sku_id=line.sku_id).first()
            if own is not None:
                more = min(MAX_QTY, own.qty + line.qty) - own.qty
                if more:
                    CartLine.objects.filter(pk=own.pk).update(qty=F("qty") + more)
                    added.append([own.pk, line.sku_id, more, own.qty])
            elif count < MAX_LINES:  # beyond the cart's size the line stays in the merged member's closed cart
                new = CartLine.objects.create(cart=mine, sku_id=line.sku_id, qty=line.qty, added_at=line.added_at)
                added.append([new.pk, line.sku_id, line.qty, 0])
                count += 1
        Cart.objects.filter(pk=theirs.pk).update(status=CartStatus.MERGED, merged_into=mine, updated_at=now)
        Cart.objects.filter(pk=mine.pk).update(updated_at=now)
        merged = {"cart": theirs.pk, "into": mine.pk, "lines": added, "by": "id"}
    Cart.objects.filter(pk__in=ids).update(member_id=to_id)  # after closing theirs: one open cart per member
    return {"ids": ids, "merged": merged}


def _take_back(cart_id: int, line_id: int, added: int, before: int) -> None:
    """Take ``added`` back off the survivor's line ``line_id``: what the survivor added since stays; a line
    the survivor lowered since keeps at most what it had before the merge (nothing when the merge made it)."""
    line = CartLine.objects.select_for_update().filter(pk=line_id, cart_id=cart_id).first()
    if line is None:  # the survivor removed it since
        return
    left = line.qty - added
    if left < 1:
        left = min(line.qty, before)
    if left < 1:
        line.delete()
    elif left != line.qty:
        CartLine.objects.filter(pk=line.pk).update(qty=min(left, MAX_QTY))


def _undo_carts(record: dict[str, Any], survivor_id: int, loser_id: int) -> None:
    """The moved carts go back by id; the merged member's cart reopens with its own lines (never copied
    away); the survivor's cart loses exactly what the merge added to it, line by line id."""
    rows.back_fk(Cart, "carts", record.get("ids") or [], survivor_id, loser_id)
    merged = record.get("merged")
    if not merged:
        return
    Cart.objects.filter(pk=merged["cart"], status=CartStatus.MERGED, member_id=loser_id).update(
        status=CartStatus.OPEN, merged_into=None)
    if not Cart.objects.filter(pk=merged["into"], member_id=survivor_id, status=CartStatus.OPEN).exists():
        return  # the survivor ordered that cart meanwhile: its lines are history now
    if merged.get("by") == "id":
        for line_id, _sku_id, added, before in merged["lines"]:
            _take_back(merged["into"], line_id, added, before)
        return
    for sku_id, qty, _created in merged["lines"]:  # a merge recorded before line ids were kept: by SKU
        line = CartLine.objects.select_for_update().filter(cart_id=merged["into"], sku_id=sku_id).first()
        if line is None:
            continue
        if line.qty <= qty:
            line.delete()
        else:
            CartLine.objects.filter(pk=line.pk).update(qty=Least(F("qty") - qty, Value(MAX_QTY)))


# -- points -------------------------------------------------------------------------------------------------------

_SPEND_REFS = (EntryKind.SPEND.value, EntryKind.RESTORE.value)


def _lock_accounts(*member_ids: int) -> dict[int, PointsAccount]:
    """Both members' points accounts (created if needed), locked in member id order like every points operation."""
    return {mid: account_lock(mid) for mid in sorted(member_ids)}


def _move_points(from_id: int, to_id: int, *, suffix: str, now: datetime) -> dict[str, Any]:
    if not PointsAccount.objects.filter(member_id=from_id).exists():
        return {}
    accounts = _lock_accounts(from_id, to_id)
    theirs, mine = accounts[from_id], accounts[to_id]
    my_refs = set(PointsLot.objects.filter(account=mine).values_list("ref", flat=True))
    my_ops = set(PointsEntry.objects.filter(account=mine).values_list("op", flat=True).distinct())
    my_spends = set(PointsEntry.objects.filter(account=mine, kind__in=_SPEND_REFS).values_list("ref", flat=True))
    top = PointsLot.objects.filter(account=mine).aggregate(m=Max("no"))["m"] or 0
    lots, renamed_lots = [], {}
    for i, lot in enumerate(PointsLot.objects.filter(account=theirs).order_by("no"), start=1):
        ref = lot.ref + suffix if lot.ref in my_refs else lot.ref
        PointsLot.objects.filter(pk=lot.pk).update(account=mine, no=top + i, ref=ref)
        lots.append([lot.pk, lot.no, top + i, lot.ref, ref, lot.remaining, lot.reversed])
        if ref != lot.ref:
            renamed_lots[lot.pk] = (lot.ref, ref)
    plain, renamed = [], []
    for pk, kind, op, ref, lot_id in (PointsEntry.objects.filter(account=theirs).order_by("pk")
                                      .values_list("pk", "kind", "op", "ref", "lot_id")):
        new_op = op + suffix if op in my_ops else op
        if kind in _SPEND_REFS and ref in my_spends:
            new_ref = ref + suffix
        elif lot_id in renamed_lots and ref == renamed_lots[lot_id][0]:
            new_ref = renamed_lots[lot_id][1]
        else:
            new_ref = ref
        if (new_op, new_ref) == (op, ref):
            plain.append(pk)
        else:
            renamed.append([pk, op, ref, new_op, new_ref])
    PointsEntry.objects.filter(pk__in=plain).update(account=mine)
    for pk, _op, _ref, new_op, new_ref in renamed:
        PointsEntry.objects.filter(pk=pk).update(account=mine, op=new_op, ref=new_ref)
    _shift(mine, theirs, theirs.balance, theirs.debt, now)
    return {"from": theirs.pk, "to": mine.pk, "balance": theirs.balance, "debt": theirs.debt, "lots": lots,
            "entries": plain, "entries_renamed": renamed}


def _shift(to: PointsAccount, src: PointsAccount, balance: int, debt: int, now: datetime) -> None:
    """Move ``balance``/``debt`` from ``src`` to ``to`` (both locked): conditional UPDATEs, CHECKs as backstop."""
    for acc, sign in ((to, 1), (src, -1)):
        won = PointsAccount.objects.filter(pk=acc.pk, balance=acc.balance, debt=acc.debt).update(
            balance=acc.balance + sign * balance, debt=acc.debt + sign * debt, updated_at=now)
        if not won:
            raise Conflict("积分账户已变化，请重试 The points account changed meanwhile; retry", code="points_changed",
                           details={"member_id": acc.member_id})


def _undo_points(record: dict[str, Any], order_ids: list[int], now: datetime) -> None:
    if not record:
        return
    src = PointsAccount.objects.get(pk=record["to"])  # the survivor's: points go back from it
    dst = PointsAccount.objects.get(pk=record["from"])
    accounts = _lock_accounts(src.member_id, dst.member_id)
    src, dst = accounts[src.member_id], accounts[dst.member_id]
    lot_ids = [lot[0] for lot in record["lots"]]
    entry_ids = record["entries"] + [e[0] for e in record["entries_renamed"]]
    for pk, _no, new_no, _ref, new_ref, remaining, reversed_ in record["lots"]:
        if not PointsLot.objects.filter(pk=pk, account=src, no=new_no, ref=new_ref, remaining=remaining,
                                        reversed=reversed_).exists():
            raise rows.changed("points_lot", lot=new_ref)
    if PointsEntry.objects.filter(lot_id__in=lot_ids).exclude(pk__in=entry_ids).exists():
        raise rows.changed("points_entries")
    if src.debt < record["debt"]:
        raise rows.changed("points_debt", debt=src.debt, moved=record["debt"])
    if PointsLot.objects.filter(account=dst).exists() or PointsEntry.objects.filter(account=dst).exists():
        raise rows.changed("points_of_merged_member")
    earned = [order_ref(pk) for pk in order_ids]
    if PointsLot.objects.filter(account=src, ref__in=earned).exclude(pk__in=lot_ids).exists():
        raise rows.changed("points_earned_by_moved_orders")
    if PointsEntry.objects.filter(pk__in=entry_ids).exclude(account=src).exists():
        raise rows.changed("points_entries")
    for pk, no, _new_no, ref, _new_ref, _rem, _rev in record["lots"]:
        PointsLot.objects.filter(pk=pk).update(account=dst, no=no, ref=ref)
    PointsEntry.objects.filter(pk__in=record["entries"]).update(account=dst)
    for pk, op, ref, _new_op, _new_ref in record["entries_renamed"]:
        PointsEntry.objects.filter(pk=pk).update(account=dst, op=op, ref=ref)
    _shift(dst, src, record["balance"], record["debt"], now)
