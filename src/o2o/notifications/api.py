"""Notifications API (mounted at ``/notifications``), for members only (staff get 403 ``members_only``).

* ``GET /notifications/preferences``: per channel (sms, wechat, push, outbox) whether the member is
  subscribed and whether we can reach them there.
* ``PUT /notifications/preferences`` ``{"channels": {"sms": false}}``: subscribe / unsubscribe per
  channel (what is still queued on a channel turned off is not sent).
* ``POST /notifications/devices`` ``{registration_id, platform}``: this app install (a JPush registration
  id) receives the member's push messages; 201 when new, 200 when it was known (it moves to this member).
* ``GET /notifications/mine`` (``?limit=``): the in-app inbox, newest first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from o2o.fulfilment.schemas import with_errors
from o2o.notifications import selectors, services
from o2o.orders.api.common import Status, member_of

router = Router(tags=["notifications"])

ChannelName = Literal["sms", "wechat", "push", "outbox"]


class PreferenceOut(Schema):
    channel: ChannelName
    label: str
    subscribed: bool
    reachable: bool = Field(description="we hold an address for the member on this channel")


class PreferencesOut(Schema):
    channels: list[PreferenceOut]


class PreferencesIn(Schema):
    channels: dict[ChannelName, bool] = Field(min_length=1, description='e.g. {"sms": false, "push": true}')


class DeviceIn(Schema):
    registration_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{6,64}$", description="the JPush registration id")
    platform: Literal["android", "ios"]


class DeviceOut(Schema):
    registration_id: str
    platform: str
    created: bool


class InboxItem(Schema):
    id: int
    kind: str
    category: Literal["service", "marketing"]
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None
    channels: dict[str, str] = Field(description="how each channel of this message went: sent, suppressed...")


class MineQuery(Schema):
    limit: int = Field(50, ge=1, le=200)


@router.get("/preferences", response=with_errors({200: PreferencesOut}), summary="My notification channels")
def preferences(request: HttpRequest):
    return {"channels": services.preferences_of(member_of(request))}


@router.put("/preferences", response=with_errors({200: PreferencesOut}),
            summary="Subscribe or unsubscribe notification channels")
def preferences_put(request: HttpRequest, body: PreferencesIn):
    return {"channels": services.preferences_set(member_of(request), dict(body.channels))}


@router.post("/devices", response=with_errors({200: DeviceOut, 201: DeviceOut}),
             summary="Register this app install for push")
def device_register(request: HttpRequest, body: DeviceIn):
    device, created = services.device_register(member_of(request), registration_id=body.registration_id,
                                               platform=body.platform)
    return Status(201 if created else 200, {"registration_id": device.registration_id,
                                            "platform": device.platform, "created": created})


@router.get("/mine", response=with_errors({200: list[InboxItem]}), summary="My messages (in-app inbox)")
def mine(request: HttpRequest, q: Query[MineQuery]):
    return selectors.inbox(member_of(request).pk, limit=q.limit)
