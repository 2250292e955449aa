"""Moving a member's rows of the accounts app to another member and back (the pieces of ``members.merge``).

Each ``move_*`` returns what it moved as JSON (row ids, and the old values of what it changed), and the
matching ``undo_*`` / :func:`back_fk` puts exactly that back, or raises 409 when a recorded row is no
longer where the move left it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, models, transaction

from o2o.accounts.identity_rules import IdentityKind
from o2o.accounts.models import Member, MemberChannel, MemberIdentity
from o2o.common.errors import Conflict


def changed(what: str, **details: Any) -> Conflict:
    return Conflict("合并后数据已变化，无法撤销 Rows changed since the merge; it cannot be undone", code="merge_changed",
                    details={"what": what, **details})


def move_fk(model: type[models.Model], from_id: int, to_id: int, field: str = "member") -> list[int]:
    """Every row of ``model`` whose ``field`` is ``from_id`` now points at ``to_id``; their ids."""
    ids = list(model.objects.select_for_update().filter(**{f"{field}_id": from_id}).order_by("pk")
               .values_list("pk", flat=True))
    model.objects.filter(pk__in=ids).update(**{f"{field}_id": to_id})
    return ids


def back_fk(model: type[models.Model], name: str, ids: list[int], from_id: int, to_id: int,
            field: str = "member") -> None:
    """Undo :func:`move_fk`: every recorded row must still be ``from_id``'s (else 409)."""
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        n = model.objects.filter(pk__in=chunk, **{f"{field}_id": from_id}).update(**{f"{field}_id": to_id})
        if n != len(chunk):
            raise changed(name, moved=len(chunk), still_there=n)


def _iso(at: datetime) -> str:
    return at.isoformat()


def move_channels(from_id: int, to_id: int) -> dict[str, list]:
    """Channel rows move; where the survivor has the channel, its first/last seen widen (old values kept)."""
    mine = {c.channel: c for c in MemberChannel.objects.select_for_update().filter(member_id=to_id)}
    moved: list[int] = []
    widened: list[list] = []
    for row in MemberChannel.objects.select_for_update().filter(member_id=from_id).order_by("pk"):
        own = mine.get(row.channel)
        if own is None:
            moved.append(row.pk)
            continue
        first, last = min(own.first_seen_at, row.first_seen_at), max(own.last_seen_at, row.last_seen_at)
        MemberChannel.objects.filter(pk=own.pk).update(first_seen_at=first, last_seen_at=last)
        widened.append([own.pk, _iso(own.first_seen_at), _iso(own.last_seen_at), _iso(first), _iso(last)])
    MemberChannel.objects.filter(pk__in=moved).update(member_id=to_id)
    return {"ids": moved, "widened": widened}


def undo_channels(record: dict[str, list], from_id: int, to_id: int) -> None:
    back_fk(MemberChannel, "channels", record.get("ids") or [], from_id, to_id)
    for pk, old_first, old_last, first, last in record.get("widened") or []:
        # Put back what the merge widened unless a later sign-in moved it on (then it is the survivor's own).
        MemberChannel.objects.filter(pk=pk, first_seen_at=datetime.fromisoformat(first)).update(
            first_seen_at=datetime.fromisoformat(old_first))
        MemberChannel.objects.filter(pk=pk, last_seen_at=datetime.fromisoformat(last)).update(
            last_seen_at=datetime.fromisoformat(old_last))


def ensure_phone_identity(member: Member) -> None:
    """A pre-OneID member's contact phone as their phone identity, so it moves (and comes back) with them."""
    if not member.phone_index or MemberIdentity.objects.filter(kind=IdentityKind.PHONE,
                                                               value_index=member.phone_index).exists():
        return
    try:
        with transaction.atomic():
            MemberIdentity.objects.create(
                member=member, kind=IdentityKind.PHONE, value_enc=member.phone_enc, value_index=member.phone_index,
                value_masked=member.phone_masked, channel=member.registered_channel or "h5",
                first_seen_at=member.created_at, last_seen_at=member.created_at)
    except IntegrityError:  # someone else's identity already: the contact phone alone was stale
        pass


def move_phone(loser: Member, survivor: Member) -> dict[str, Any]:
    """The merged member's contact phone goes to the survivor if it has none; the merged member's is cleared.
    Only the blind index is recorded: the phone itself travels as the (moved) phone identity."""
    if not loser.phone_index:
        return {}
    to_survivor = not survivor.phone_index
    if to_survivor:
        Member.objects.filter(pk=survivor.pk).update(phone_enc=loser.phone_enc, phone_index=loser.phone_index,
                                                     phone_masked=loser.phone_masked)
    Member.objects.filter(pk=loser.pk).update(phone_enc="", phone_index="", phone_masked="")
    return {"index": loser.phone_index, "to_survivor": to_survivor}


def undo_phone(record: dict[str, Any], survivor_id: int, loser_id: int) -> None:
    index = record.get("index")
    if not index:
        return
    if record.get("to_survivor"):
        Member.objects.filter(pk=survivor_id, phone_index=index).update(phone_enc="", phone_index="",
                                                                        phone_masked="")
    identity = MemberIdentity.objects.filter(kind=IdentityKind.PHONE, value_index=index, member_id=loser_id).first()
    if identity is not None:  # same ciphertext format and field as Member.phone_enc
        Member.objects.filter(pk=loser_id).update(phone_enc=identity.value_enc, phone_index=index,
                                                  phone_masked=identity.value_masked)
