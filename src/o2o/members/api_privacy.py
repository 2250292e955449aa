"""Members API: personal data (PIPL): reveal a phone, export, deletion (注销). Every call is logged.

* ``POST /members/{member_id}/phone/reveal`` {reason} (staff with ``pii.reveal``: customer service, HQ
  admin; store/region-scoped ones only for members with an order at their locations, 404 otherwise):
  the phone in clear, written to ``PiiAccessLog`` in the same transaction.
* ``GET /members/me/export`` (the member): everything held about them, their own identifiers in clear.
* ``POST /members/{member_id}/export`` {reason} (HQ staff with ``pii.reveal``, on the member's request).
* ``POST /members/me/deletion`` {confirm: true, reason?} (the member) and ``POST /members/{member_id}/deletion``
  {reason} (HQ staff with ``pii.reveal``): anonymise the member, keep the financial records
  (``o2o.members.privacy``); 409 ``open_orders`` while orders or returns are open; repeatable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import BaseModel, ConfigDict

from o2o.accounts.models import User
from o2o.accounts.permissions import actor_of, require, visible_location_ids
from o2o.accounts.pii_services import member_reveal_phone
from o2o.common.errors import InvalidInput
from o2o.core.access import Perm
from o2o.fulfilment.schemas import with_errors
from o2o.members import selectors
from o2o.members.privacy import member_erase, member_export
from o2o.orders.api.common import member_of

router = Router(tags=["members"])

REASON = Field(max_length=200, description="why (2-200 characters); written to the personal-data access log")


class ReasonIn(Schema):
    reason: str = REASON


class RevealOut(Schema):
    member_id: int
    phone: str = Field(description="in clear: shown once, never stored by the client")


class ExportOut(BaseModel):  # a plain pydantic model: ninja's Schema reads the declared fields only
    # The sections the apps above members add (marketing, groupbuy, notifications, reviews, behaviour events...)
    # through ``member_exporting`` pass through as they are: a schema that dropped them would hide data.
    model_config = ConfigDict(extra="allow")

    format: str = Field(description="o2o.member-export/1")
    exported_at: datetime
    member: dict[str, Any] = Field(description="profile: name, phone (in clear), created, channel, deleted_at")
    identities: list[dict[str, Any]] = Field(description="identifiers in clear (the member's own data)")
    channels: list[dict[str, Any]]
    orders: list[dict[str, Any]] = Field(description="with lines, payments, refunds, returns, contact and address")
    points: dict[str, Any] | None = Field(description="balance, debt, lots and every ledger entry")
    tier: dict[str, Any] = Field(description="tier now and its history")
    carts: list[dict[str, Any]]
    access_log: list[dict[str, Any]] = Field(description="every reveal, export and deletion of their data")
    tags: list[dict[str, Any]] = Field(default_factory=list, description="the tags shown to the member")


class MyDeletionIn(Schema):
    confirm: bool = Field(description="must be true: 注销 cannot be undone")
    reason: str = Field("", max_length=200)


class DeletionOut(Schema):
    member_id: int
    deleted_at: datetime
    kept: dict[str, int] = Field(description="financial records kept (anonymous): orders, points_entries, "
                                             "tier_changes")


def _staff(request: HttpRequest) -> User:
    """HQ staff with ``pii.reveal`` (chain-wide: export and deletion are not a store's business)."""
    return User.objects.get(pk=require(request, Perm.PII_REVEAL).id)


def _reason(reason: str) -> str:
    if len(reason.strip()) < 2:
        raise InvalidInput("请说明原因（2-200字） Give a reason (2-200 characters)", code="reason_required")
    return reason.strip()


@router.post("/{int:member_id}/phone/reveal", response=with_errors({200: RevealOut}),
             summary="Reveal a member's phone (pii.reveal; logged with the reason)")
def reveal_phone(request: HttpRequest, member_id: int, body: ReasonIn):
    visible_location_ids(request, Perm.PII_REVEAL)  # 403 without the right
    reason = _reason(body.reason)
    member = selectors.member_for_staff(request, member_id)  # 404 outside the staff member's reach
    actor = User.objects.get(pk=actor_of(request).id)
    return {"member_id": member.pk, "phone": member_reveal_phone(member_id=member.pk, user=actor, reason=reason)}


@router.get("/me/export", response=with_errors({200: ExportOut}), summary="Export my data (PIPL; logged)")
def export_mine(request: HttpRequest):
    return member_export(member_id=member_of(request).pk, reason="会员本人导出 own export")


@router.post("/{int:member_id}/export", response=with_errors({200: ExportOut}),
             summary="Export a member's data on their request (HQ, pii.reveal; logged with the reason)")
def export_for_member(request: HttpRequest, member_id: int, body: ReasonIn):
    user = _staff(request)
    return member_export(member_id=member_id, reason=_reason(body.reason), user=user)


@router.post("/me/deletion", response=with_errors({200: DeletionOut}, 409),
             summary="Delete my account (注销): personal data erased, financial records kept")
def delete_mine(request: HttpRequest, body: MyDeletionIn):
    member = member_of(request)
    if body.confirm is not True:
        raise InvalidInput("请确认注销（confirm=true） Confirm the deletion with confirm=true",
                           code="confirmation_required")
    return member_erase(member_id=member.pk, reason=body.reason.strip() or "会员本人申请注销 own request")


@router.post("/{int:member_id}/deletion", response=with_errors({200: DeletionOut}, 409),
             summary="Delete a member's account on their request (HQ, pii.reveal; logged with the reason)")
def delete_for_member(request: HttpRequest, member_id: int, body: ReasonIn):
    user = _staff(request)
    return member_erase(member_id=member_id, reason=_reason(body.reason), user=user)
