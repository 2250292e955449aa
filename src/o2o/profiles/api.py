"""Profiles API: member tags and marketing segments.

* ``GET /members/me/tags`` (the member): the tags visible to members (no RFM, churn risk, CLV,
  price sensitivity or value segment).
* ``GET /members/{member_id}/tags`` (staff with ``order.view``): every tag; HQ sees every
  member, store and region staff only members with an order at one of their locations (404
  otherwise, as for points); members get 403.
* ``POST /segments``, ``GET /segments`` (``segment.edit`` / ``segment.view``: marketing and HQ
  admin, chain-wide so HQ scope), ``GET /segments/{id}``, ``GET /segments/{id}/members``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field as NField
from ninja import Query, Router, Schema

from o2o.accounts.permissions import require
from o2o.core.access import Perm
from o2o.fulfilment.schemas import with_errors
from o2o.members.selectors import member_for_staff
from o2o.orders.api.common import Status, member_of
from o2o.profiles import selectors, services
from o2o.profiles.schemas import MemberTagsOut, SegmentIn, SegmentMembersOut, SegmentOut

router = Router(tags=["profiles"])
segments_router = Router(tags=["segments"])


@router.get("/me/tags", response=with_errors({200: MemberTagsOut}), summary="My tags (the ones shown to members)")
def my_tags(request: HttpRequest):
    return selectors.member_tags(member_of(request).pk, visible_only=True)


@router.get("/{int:member_id}/tags", response=with_errors({200: MemberTagsOut}),
            summary="A member's tags with explanations (staff with order.view; store staff: their members)")
def member_tags(request: HttpRequest, member_id: int):
    member = member_for_staff(request, member_id)
    return selectors.member_tags(member.pk, visible_only=False)


@segments_router.post("", response=with_errors({201: SegmentOut}, 409), summary="Save a segment (rule over tags)")
def segment_create(request: HttpRequest, body: SegmentIn):
    require(request, Perm.SEGMENT_EDIT)
    seg = services.segment_create(name=body.name, rule=body.rule, description=body.description,
                                  user=getattr(request, "user", None))
    return Status(201, seg)


@segments_router.get("", response=with_errors({200: list[SegmentOut]}), summary="Saved segments")
def segment_list(request: HttpRequest):
    require(request, Perm.SEGMENT_VIEW)
    return selectors.segments_list()


@segments_router.get("/{int:segment_id}", response=with_errors({200: SegmentOut}), summary="One segment")
def segment_detail(request: HttpRequest, segment_id: int):
    require(request, Perm.SEGMENT_VIEW)
    return selectors.segment_get(segment_id)


class PageIn(Schema):
    limit: int = NField(100, ge=1, le=1000)
    offset: int = NField(0, ge=0, le=10_000_000)


@segments_router.get("/{int:segment_id}/members", response=with_errors({200: SegmentMembersOut}),
                     summary="Members matching a segment's rule now (from the stored tags)")
def segment_members(request: HttpRequest, segment_id: int, page: Query[PageIn]):
    require(request, Perm.SEGMENT_VIEW)
    return selectors.segment_members(selectors.segment_get(segment_id), limit=page.limit, offset=page.offset)
