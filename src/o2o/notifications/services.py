"""Queueing notifications (``notify``), the member's channel choices and push devices.

:func:`notify` runs inside the caller's transaction (a trigger's, an outbox handler's) and queues one
row per channel the member can be reached on:

* ``outbox`` always: the member's in-app inbox (站内信, ``GET /notifications/mine``; the HQ page shows every
  row). It is inserted first and is the arbiter of "once per cause": when the cause already has its outbox
  row, nothing is added (``UNIQUE (cause_key, channel)`` settles a race).
* ``sms`` when the member has a phone, ``wechat`` when they have a WeChat openid (of the configured
  mini-program), ``push`` when they registered a device; each only when its backend is not ``off`` (and,
  in production, configured) and the kind has a template for it.
* A channel the member unsubscribed is recorded as ``suppressed`` (reason ``unsubscribed``), so the HQ page
  can say why nothing went out.

Nothing is sent here: :mod:`o2o.notifications.sending` sends what is due, after the commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.common.errors import InvalidInput
from o2o.notifications import backends
from o2o.notifications.models import (
    PROVIDER_CHANNELS,
    Category,
    Channel,
    ChannelPreference,
    Notification,
    PushDevice,
    Status,
)

MAX_DEVICES = 10
UNSUBSCRIBED = "unsubscribed"


def unsubscribed(member_id: int) -> set[str]:
    return set(ChannelPreference.objects.filter(member_id=member_id, subscribed=False)
               .values_list("channel", flat=True))


def _insert(row: Notification) -> bool:
    """Insert unless the cause already has this channel (savepoint, so the caller's transaction lives on)."""
    try:
        with transaction.atomic():
            row.save(force_insert=True)
        return True
    except IntegrityError:
        if Notification.objects.filter(cause_key=row.cause_key, channel=row.channel).exists():
            return False
        raise


def notify(*, member_id: int, kind: str, cause_key: str, title: str, body: str, category: str,
           data: dict[str, Any] | None = None, now: datetime | None = None, expires_at: datetime | None = None,
           send_at: datetime | None = None) -> list[Notification]:
    """Queue a notification for every channel that reaches the member; [] when the cause already fired
    or the member is gone. ``data`` fills the templates (no secrets: it is stored and shown to HQ)."""
    if not connection.in_atomic_block:
        raise RuntimeError("notify runs inside the transaction of its cause")
    if category not in Category.values:
        raise ValueError(f"未知的消息类别 unknown category {category!r}")
    if not kind or len(kind) > 32 or not cause_key or len(cause_key) > 160:
        raise ValueError("kind (1-32) 与 cause_key (1-160) 必填 kind and cause_key are required")
    now = now or timezone.now()
    member = Member.objects.filter(pk=member_id, is_active=True).first()
    if member is None:
        return []
    off = unsubscribed(member.pk)
    base = {"member_id": member.pk, "kind": kind, "category": category, "cause_key": cause_key,
            "title": title.strip()[:100], "body": body.strip()[:500], "payload": dict(data or {}),
            "created_at": now, "updated_at": now, "scheduled_for": send_at or now, "expires_at": expires_at}
    channels = [Channel.OUTBOX] + [c for c in PROVIDER_CHANNELS if backends.available(c)
                                   and backends.has_template(kind, c) and backends.reachable(member, c)]
    made: list[Notification] = []
    for channel in channels:
        row = Notification(channel=channel.value, **base)
        if channel.value in off:
            row.status, row.reason = Status.SUPPRESSED, UNSUBSCRIBED
        if not _insert(row):
            if channel == Channel.OUTBOX:
                return []  # the cause fired before: nothing new on any channel
            continue
        made.append(row)
    return made


def fired(cause_keys: list[str]) -> set[str]:
    """Which of these causes already have their notification (read before the work, as a filter)."""
    found: set[str] = set()
    for i in range(0, len(cause_keys), 500):
        found.update(Notification.objects.filter(cause_key__in=cause_keys[i:i + 500], channel=Channel.OUTBOX)
                     .values_list("cause_key", flat=True))
    return found


# --- preferences ------------------------------------------------------------------------------

def preferences_of(member: Member) -> list[dict[str, Any]]:
    off = unsubscribed(member.pk)
    return [{"channel": c.value, "label": c.label, "subscribed": c.value not in off,
             "reachable": backends.reachable(member, c.value)} for c in Channel]


def preferences_set(member: Member, choices: dict[str, bool], now: datetime | None = None) -> list[dict[str, Any]]:
    """Subscribe / unsubscribe per channel; rows still queued on a channel turned off are suppressed."""
    now = now or timezone.now()
    bad = sorted(set(choices) - set(Channel.values))
    if bad:
        raise InvalidInput("未知的通知渠道 Unknown channel", code="unknown_channel", details={"channels": bad})
    with transaction.atomic():
        for channel, subscribed in choices.items():
            ChannelPreference.objects.update_or_create(member_id=member.pk, channel=channel,
                                                       defaults={"subscribed": bool(subscribed), "updated_at": now})
        off = [c for c, s in choices.items() if not s]
        if off:
            Notification.objects.filter(member_id=member.pk, channel__in=off,
                                        status__in=[Status.QUEUED, Status.DEFERRED]).update(
                status=Status.SUPPRESSED, reason=UNSUBSCRIBED, updated_at=now)
    return preferences_of(member)


# --- push devices -----------------------------------------------------------------------------

def device_register(member: Member, *, registration_id: str, platform: str,
                    now: datetime | None = None) -> tuple[PushDevice, bool]:
    """The device now belongs to ``member`` (a phone changes hands when another member signs in on it);
    a member keeps at most :data:`MAX_DEVICES`, the least recently seen go first. (device, created)."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = PushDevice.objects.filter(registration_id=registration_id).update(
            member_id=member.pk, platform=platform, last_seen_at=now)
        created = False
        if not moved:
            try:
                with transaction.atomic():
                    PushDevice.objects.create(member_id=member.pk, registration_id=registration_id,
                                              platform=platform, created_at=now, last_seen_at=now)
                    created = True
            except IntegrityError:  # registered meanwhile by a concurrent request
                PushDevice.objects.filter(registration_id=registration_id).update(
                    member_id=member.pk, platform=platform, last_seen_at=now)
        keep = list(PushDevice.objects.filter(member_id=member.pk).order_by("-last_seen_at", "-pk")
                    .values_list("pk", flat=True)[:MAX_DEVICES])
        PushDevice.objects.filter(member_id=member.pk).exclude(pk__in=keep).delete()
        return PushDevice.objects.get(registration_id=registration_id), created
