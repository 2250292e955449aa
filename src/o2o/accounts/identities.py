"""One identity (OneID): a member's identifiers, signing in by any of them, channels seen.

* :func:`member_identify` — sign in by an identifier: the member who owns it, or a new member that
  does. Race-safe: the identity row is the arbiter (``UNIQUE (kind, value_index)``): two first
  sign-ins with one openid at once both try to insert it; the loser's savepoint (with the member it
  had just created) rolls back and it reads the winner's row, so one member comes out.
* :func:`identity_attach` — give an identifier to a member if nobody owns it (``members.merge.member_link``
  builds linking, and merging when someone else owns it, on top of it).
* A phone stays on ``Member`` as the contact phone (``accounts.pii_services``: reveal, rotate and
  ``members_by_phone`` keep working) and is also the member's ``phone`` identity, with the same blind
  index and ciphertext format. A member created before identities existed is found by its
  ``Member.phone_index`` and adopted (its phone identity is created on first sign-in).
* Channels: ``Member.registered_channel`` (the first sign-in's), ``MemberIdentity.channel`` (where an
  identifier was first seen) and ``MemberChannel`` (first/last seen per member and channel).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Greatest, Least

from o2o.accounts import pii
from o2o.accounts.identity_rules import PER_APP, IdentityKey, IdentityKind, check_channel, normalize
from o2o.accounts.models import Member, MemberChannel, MemberIdentity
from o2o.accounts.pii_services import PHONE, member_set_phone
from o2o.common.errors import Forbidden


def value_field(kind: IdentityKind) -> str:
    """The associated data of a kind's ciphertext (a phone identity's is the member phone's)."""
    return PHONE if kind is IdentityKind.PHONE else f"identity.{kind.value}"


@dataclass(frozen=True)
class Identified:
    member: Member
    identity: MemberIdentity
    created: bool  # a new member was made for this identifier


def identity_key(kind: str, value: str, app_id: str = "") -> tuple[IdentityKey, str]:
    """The normalised identifier and its blind index (422 ``invalid_identity`` when malformed)."""
    key = normalize(kind, value, app_id)
    return key, pii.blind_index(key.index_input)


def identity_owned(key: IdentityKey, index: str, *, lock: bool = False) -> MemberIdentity | None:
    qs = MemberIdentity.objects.select_related("member").filter(kind=key.kind.value, value_index=index)
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.first()


def identities_of(member_id: int) -> list[MemberIdentity]:
    return list(MemberIdentity.objects.filter(member_id=member_id).order_by("kind", "app_id", "pk"))


def channels_of(member_id: int) -> list[MemberChannel]:
    return list(MemberChannel.objects.filter(member_id=member_id).order_by("first_seen_at", "channel"))


def channel_touch(*, member_id: int, channel: str, now: datetime) -> None:
    """Widen the member's first/last seen on ``channel`` to include ``now`` (the row made on first sight)."""
    at = Value(now, output_field=DateTimeField())
    widen = {"first_seen_at": Least(F("first_seen_at"), at), "last_seen_at": Greatest(F("last_seen_at"), at)}
    if MemberChannel.objects.filter(member_id=member_id, channel=channel).update(**widen):
        return
    try:
        with transaction.atomic():
            MemberChannel.objects.create(member_id=member_id, channel=channel, first_seen_at=now, last_seen_at=now)
    except IntegrityError:  # made meanwhile by a concurrent sign-in
        MemberChannel.objects.filter(member_id=member_id, channel=channel).update(**widen)


def identity_touch(identity: MemberIdentity, *, channel: str, now: datetime) -> None:
    MemberIdentity.objects.filter(pk=identity.pk, last_seen_at__lt=now).update(last_seen_at=now)
    channel_touch(member_id=identity.member_id, channel=channel, now=now)


def _insert(member: Member, key: IdentityKey, index: str, *, channel: str, now: datetime) -> MemberIdentity:
    return MemberIdentity.objects.create(
        member=member, kind=key.kind.value, app_id=key.app_id, value_index=index, value_masked=key.masked,
        value_enc=pii.encrypt(key.value, field=value_field(key.kind)), channel=channel, first_seen_at=now,
        last_seen_at=now)


def identity_attach(*, member: Member, key: IdentityKey, index: str, channel: str,
                    now: datetime) -> MemberIdentity | None:
    """Give the identifier to ``member``; None when someone owns it already (nothing changed). A phone
    becomes the member's contact phone too when they have none."""
    try:
        with transaction.atomic():
            identity = _insert(member, key, index, channel=channel, now=now)
            if key.kind is IdentityKind.PHONE and not member.phone_index:
                member_set_phone(member=member, phone=key.value)
    except IntegrityError:
        return None
    channel_touch(member_id=member.pk, channel=channel, now=now)
    return identity


def legacy_phone_member(index: str) -> Member | None:
    """A member whose contact phone has this index but no phone identity yet (made before OneID): signing in
    with the phone adopts them, so they own the phone as much as an identity row would (``members.merge``)."""
    return Member.objects.filter(phone_index=index, is_active=True).order_by("pk").first()


def holds_identity_of(member_id: int, *, kinds: Iterable[IdentityKind], app_ids: Iterable[str]) -> bool:
    """The member holds an identity of one of ``kinds`` (of a per-app kind: under one of ``app_ids``): one a
    channel backend that vouches for those kinds could sign them in with."""
    kinds = set(kinds)
    plain = [k.value for k in kinds if k not in PER_APP]
    per_app = [k.value for k in kinds if k in PER_APP]
    return MemberIdentity.objects.filter(Q(kind__in=plain) | Q(kind__in=per_app, app_id__in=list(app_ids)),
                                         member_id=member_id).exists()


def member_identify(*, kind: str, value: str, app_id: str = "", channel: str, now: datetime) -> Identified:
    """The member signing in with this identifier on ``channel``: found, or created with it. Updates last seen."""
    key, index = identity_key(kind, value, app_id)
    check_channel(channel)
    with transaction.atomic():
        identity = identity_owned(key, index, lock=True)
        created = False
        if identity is None:
            try:
                with transaction.atomic():
                    member = legacy_phone_member(index) if key.kind is IdentityKind.PHONE else None
                    if member is None:
                        member = Member.objects.create(registered_channel=channel)
                        created = True
                    identity = _insert(member, key, index, channel=channel, now=now)
                    if created and key.kind is IdentityKind.PHONE:
                        member_set_phone(member=member, phone=key.value)
            except IntegrityError:  # a concurrent first sign-in inserted it: theirs is the one
                created = False
                identity = identity_owned(key, index, lock=True)
                if identity is None:
                    raise
        member = identity.member
        if not member.is_active:
            raise Forbidden("该会员已停用 This member is deactivated", code="member_inactive",
                            details={"member_id": member.pk})
        identity_touch(identity, channel=channel, now=now)
        if not member.registered_channel:
            Member.objects.filter(pk=member.pk, registered_channel="").update(registered_channel=channel)
            member.registered_channel = channel
        identity.refresh_from_db(fields=["last_seen_at"])
        return Identified(member=member, identity=identity, created=created)


def rotate_identities(*, batch: int = 500) -> int:
    """Re-encrypt every identity under the current key (after adding a new first key); the count changed."""
    changed = 0
    current = pii.provider().current()[0]
    for ident in MemberIdentity.objects.order_by("pk").iterator(chunk_size=batch):
        if pii.key_id_of(ident.value_enc) == current:
            continue
        field = value_field(IdentityKind(ident.kind))
        MemberIdentity.objects.filter(pk=ident.pk, value_enc=ident.value_enc).update(
            value_enc=pii.rotate(ident.value_enc, field=field))
        changed += 1
    return changed
