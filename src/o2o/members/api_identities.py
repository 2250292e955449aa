"""Members API: one identity (OneID). Identifiers are only ever shown masked.

* ``POST /members/identify`` (a trusted channel backend: staff token with ``member.identify``, HQ
  scope): sign a member in by any identifier, creating the member on first sight; returns the member
  id and a new member API token. The channel has verified the identifier (WeChat code2session, an
  SMS code, a card swipe) before calling.
* ``POST /members/{member_id}/identities`` (same trusted callers): link an identifier the channel
  verified; if another member owns it (an identity, or a pre-OneID contact phone), that member is merged
  into this one (HQ only: a channel backend gets 409 ``merge_needs_hq``; the member can still link it in
  their own session with ``POST /members/me/identities``, or HQ merges). A channel backend links only to a
  member it could sign in itself: one already holding an identity of its channel's kinds (openids: of its
  app ids), else 403 ``member_not_of_channel`` (it could otherwise attach its own identifier to anyone and
  sign in as them).
* A ``channel_backend`` account acts only for the channel it is bound to (``accounts.ChannelBackend``,
  set by ``o2o channel-backend-token --channel``), only for the identity kinds that channel verifies
  (``identity_rules.BACKEND_KINDS``) and, for openids, only its app ids: else 403
  ``channel_not_allowed`` / ``identity_kind_not_allowed`` / ``app_not_allowed``. Other holders of
  ``member.identify`` (HQ admins) are not limited.
* ``GET /members/me/identities`` (the member): identifiers, registration channel, channels seen.
* ``POST /members/me/identities`` (the member): link an identifier the member proves is theirs with
  ``proof_token``, a member token obtained by signing in with that identifier (``/members/identify``
  through its channel); the member who owned it is merged into the caller. An identifier nobody
  owns yet cannot be claimed here (403 ``identity_not_proven``): there is no SMS in-process, so a
  phone is linked by a trusted channel call or by signing in with it first and presenting that token.
* ``GET /members/{member_id}/identities`` (staff with ``order.view``: HQ all, store/region staff only
  members with an order at their locations, 404 otherwise), like the points endpoint.
* ``POST /members/merges/{merge_id}/undo`` (HQ staff with ``member.merge_undo``): undo a merge; 409
  when rows changed since in a way that cannot be undone exactly (``members.merge``).
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from o2o.accounts.identities import channels_of, identities_of, member_identify
from o2o.accounts.identity_rules import backend_refusal
from o2o.accounts.models import ApiToken, ChannelBackend, Member, MemberIdentity, User, hash_token
from o2o.accounts.permissions import require
from o2o.common.errors import Forbidden
from o2o.core.access import Perm, Role
from o2o.fulfilment.schemas import with_errors
from o2o.members import selectors
from o2o.members.merge import member_link, member_merge_undo, moved_counts
from o2o.orders.api.common import member_of

router = Router(tags=["members"])


class IdentityOut(Schema):
    id: int
    kind: str = Field(description="phone / wechat_openid / wechat_unionid / app_account / pos_card / douyin_openid")
    app_id: str = Field(description="the WeChat / Douyin app of an openid; empty for other kinds")
    value_masked: str = Field(description="masked, e.g. 138****5678")
    channel: str = Field(description="the channel it was first seen on")
    first_seen_at: datetime
    last_seen_at: datetime


class ChannelSeenOut(Schema):
    channel: str
    first_seen_at: datetime
    last_seen_at: datetime


class IdentitiesOut(Schema):
    member_id: int
    registered_channel: str
    merged_into: int | None = Field(description="set when this member was merged into another")
    identities: list[IdentityOut]
    channels: list[ChannelSeenOut]


class IdentifierIn(Schema):
    kind: str = Field(max_length=32)
    value: str = Field(max_length=128, description="the identifier in clear (never stored or shown so)")
    app_id: str = Field("", max_length=64, description="required for wechat_openid and douyin_openid")
    channel: str = Field(max_length=16, description="mini_program / app / h5 / pc / douyin / pos")


class IdentifyOut(Schema):
    member_id: int
    created: bool = Field(description="a new member was made for this identifier")
    token: str = Field(description="a member API token (Bearer); shown once")
    identity: IdentityOut


class LinkIn(IdentifierIn):
    proof_token: str = Field(max_length=200, description="a member token obtained by signing in with this identifier")


class MergeOut(Schema):
    id: int
    survivor_id: int
    merged_id: int
    at: datetime
    undone_at: datetime | None
    moved: dict[str, int] = Field(description="rows moved per kind; points_net: the points that moved")


class LinkOut(Schema):
    member_id: int
    identity: IdentityOut
    merge: MergeOut | None = Field(description="set when the identifier's owner was merged into this member")


def _identity(i: MemberIdentity) -> dict:
    return {"id": i.pk, "kind": i.kind, "app_id": i.app_id, "value_masked": i.value_masked, "channel": i.channel,
            "first_seen_at": timezone.localtime(i.first_seen_at), "last_seen_at": timezone.localtime(i.last_seen_at)}


def _identities(member: Member) -> dict:
    return {"member_id": member.pk, "registered_channel": member.registered_channel,
            "merged_into": member.merged_into_id,
            "identities": [_identity(i) for i in identities_of(member.pk)],
            "channels": [{"channel": c.channel, "first_seen_at": timezone.localtime(c.first_seen_at),
                          "last_seen_at": timezone.localtime(c.last_seen_at)} for c in channels_of(member.pk)]}


def _merge(merge) -> dict | None:  # noqa: ANN001 - MemberMerge
    if merge is None:
        return None
    return {"id": merge.pk, "survivor_id": merge.survivor_id, "merged_id": merge.merged_id,
            "at": timezone.localtime(merge.at),
            "undone_at": timezone.localtime(merge.undone_at) if merge.undone_at else None,
            "moved": moved_counts(merge)}


def _staff_user(request: HttpRequest, body: IdentifierIn) -> tuple[User, tuple[str, list[str]] | None]:
    """The caller (``member.identify``) and, for a channel backend, its binding (channel, app ids); a channel
    backend only for its channel, kinds and app ids (403)."""
    user = User.objects.get(pk=require(request, Perm.MEMBER_IDENTIFY).id)
    if user.role != Role.CHANNEL_BACKEND.value:
        return user, None
    bound = ChannelBackend.objects.filter(user=user).values_list("channel", "app_ids").first()
    binding = (bound[0], list(bound[1] or [])) if bound else ("", [])
    refusal = backend_refusal(bound_channel=binding[0], app_ids=binding[1], channel=body.channel, kind=body.kind,
                              app_id=body.app_id)
    if refusal is not None:
        code, message, details = refusal
        raise Forbidden(message, code=code, details=details)
    return user, binding


@router.post("/identify", response=with_errors({200: IdentifyOut}),
             summary="Sign a member in by any identity (trusted channel backends, member.identify)")
def identify(request: HttpRequest, body: IdentifierIn):
    _staff_user(request, body)
    found = member_identify(kind=body.kind, value=body.value, app_id=body.app_id, channel=body.channel,
                            now=timezone.now())
    _, raw = ApiToken.issue(member=found.member, label=f"identify:{body.channel}"[:64])
    return {"member_id": found.member.pk, "created": found.created, "token": raw,
            "identity": _identity(found.identity)}


@router.get("/me/identities", response=with_errors({200: IdentitiesOut}), summary="My identities (masked)")
def my_identities(request: HttpRequest):
    return _identities(member_of(request))


@router.post("/me/identities", response=with_errors({200: LinkOut}, 409),
             summary="Link an identity I signed in with elsewhere (merges that member into me)")
def link_mine(request: HttpRequest, body: LinkIn):
    member = member_of(request)
    proof = (ApiToken.objects.select_related("member")
             .filter(key_hash=hash_token(body.proof_token), revoked=False, member__isnull=False).first())
    if proof is None or not proof.member.is_active:
        raise Forbidden("登录凭证无效 The proof token is not valid", code="identity_not_proven")
    linked = member_link(member_id=member.pk, kind=body.kind, value=body.value, app_id=body.app_id,
                         channel=body.channel, now=timezone.now(), by_member=member, proof_member_id=proof.member_id)
    return {"member_id": member.pk, "identity": _identity(linked.identity), "merge": _merge(linked.merge)}


@router.post("/{int:member_id}/identities", response=with_errors({200: LinkOut}, 409),
             summary="Link a verified identity to a member (trusted channel backends, member.identify)")
def link_for_member(request: HttpRequest, member_id: int, body: IdentifierIn):
    user, backend = _staff_user(request, body)
    linked = member_link(member_id=member_id, kind=body.kind, value=body.value, app_id=body.app_id,
                         channel=body.channel, now=timezone.now(), by_user=user, may_merge=backend is None,
                         backend=backend)
    return {"member_id": member_id, "identity": _identity(linked.identity), "merge": _merge(linked.merge)}


@router.get("/{int:member_id}/identities", response=with_errors({200: IdentitiesOut}),
            summary="A member's identities, masked (staff with order.view; store staff: members of their stores)")
def member_identities(request: HttpRequest, member_id: int):
    return _identities(selectors.member_for_staff(request, member_id))


@router.post("/merges/{int:merge_id}/undo", response=with_errors({200: MergeOut}, 409),
             summary="Undo a merge of two members (HQ, member.merge_undo)")
def undo_merge(request: HttpRequest, merge_id: int):
    actor = require(request, Perm.MEMBER_MERGE_UNDO)
    merge = member_merge_undo(merge_id=merge_id, user=User.objects.get(pk=actor.id), now=timezone.now())
    return _merge(merge)
