"""Members' phone numbers: set (encrypted + blind index + masked), find by phone, reveal (logged), rotate keys."""

from __future__ import annotations

from django.db import transaction

from o2o.accounts import pii
from o2o.accounts.models import Member, PiiAccessLog, User
from o2o.common.errors import InvalidInput, NotFound

PHONE = "member.phone"


def member_set_phone(*, member: Member, phone: str) -> Member:
    digits = pii.normalize_phone(phone)
    member.phone_enc = pii.encrypt(digits, field=PHONE)
    member.phone_index = pii.blind_index(digits)
    member.phone_masked = pii.mask_phone(digits)
    Member.objects.filter(pk=member.pk).update(phone_enc=member.phone_enc, phone_index=member.phone_index,
                                               phone_masked=member.phone_masked)
    return member


def members_by_phone(phone: str) -> list[Member]:
    """Active members with this phone: the owner of the phone identity (OneID) and any member whose
    contact phone it is (exact match through the blind index; nothing is decrypted). A member merged
    into another is inactive and not found: the survivor is."""
    from django.db.models import Q

    from o2o.accounts.models import MemberIdentity

    index = pii.blind_index(pii.normalize_phone(phone))
    owners = MemberIdentity.objects.filter(kind="phone", value_index=index).values("member_id")
    return list(Member.objects.filter(Q(pk__in=owners) | Q(phone_index=index), is_active=True).order_by("pk"))


def member_reveal_phone(*, member_id: int, user: User, reason: str) -> str:
    """The member's phone in clear, for a staff user whose role may reveal it; the reveal is logged
    in the same transaction (no log, no reveal). The caller checks ``Perm.PII_REVEAL``."""
    if not reason.strip():
        raise InvalidInput("请说明查看原因 Give a reason for revealing personal data", code="reason_required")
    with transaction.atomic():
        member = Member.objects.filter(pk=member_id).first()
        if member is None or not member.phone_enc:
            raise NotFound("会员或手机号不存在 Unknown member or no phone", code="unknown_member",
                           details={"member_id": member_id})
        PiiAccessLog.objects.create(user=user, member=member, field=PHONE, action="reveal", reason=reason[:200])
        return pii.decrypt(member.phone_enc, field=PHONE)


def rotate_member_phones(*, batch: int = 500) -> int:
    """Re-encrypt every phone under the current key (after adding a new first key); the count changed."""
    changed = 0
    current = pii.provider().current()[0]
    qs = Member.objects.exclude(phone_enc="").order_by("pk")
    for member in qs.iterator(chunk_size=batch):
        if pii.key_id_of(member.phone_enc) == current:
            continue
        Member.objects.filter(pk=member.pk, phone_enc=member.phone_enc).update(
            phone_enc=pii.rotate(member.phone_enc, field=PHONE))
        changed += 1
    return changed
