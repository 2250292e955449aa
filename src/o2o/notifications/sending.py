"""Sending what is due (``o2o send-notifications``): quiet hours, the marketing cap, delivery, retries.

A notification's channels are one *cause* (``cause_key``): the sender takes a cause's rows under row locks
(on PostgreSQL the cause's first row is taken with ``SKIP LOCKED`` as the cause's lock, so parallel senders
share the work cause by cause, never split one and never send a row twice; SQLite runs one writer at a
time) and decides for the cause as a whole:

1. The member is gone (merged, deleted) -> ``suppressed`` (``member_inactive``); the cause is over
   (``expires_at``: the pickup deadline, the appointment, the coupon's end) -> ``suppressed`` (``expired``).
2. Marketing only: inside the quiet hours (default 21:00-09:00 China time) -> ``deferred`` to the end of
   the window (``quiet_hours``). Then the daily cap: the cause takes one slot of the member's counter for
   the China day with a conditional UPDATE (``sent = sent + 1 WHERE sent < cap``, never check-then-act);
   a cause that finds no slot is ``deferred`` to the start of the next day (``frequency_cap``), or
   ``suppressed`` if the cause will be over by then. One cause counts once, whatever its channels and
   retries (``cap_day`` marks it). A slot stays taken even if every channel then fails.
3. Each due row: a channel unsubscribed since -> ``suppressed``; no address any more -> ``suppressed``
   (``unreachable``); otherwise delivered through its backend -> ``sent`` (provider and message id kept).
   A failure that may pass (network, 5xx, the provider's rate limit) is tried again later (2, 4, 8...
   minutes, ``max_attempts`` in all, status ``queued`` with the last error as reason); any other is
   ``failed`` at once.

Service messages (pickup ready, appointment reminders) skip step 2. Delivery happens inside the
transaction that holds the rows' locks; if the commit then fails the provider may get the message
again on the next pass (at least once, like the outbox).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.adapters.notify import ProviderError
from o2o.notifications import backends, config, rules
from o2o.notifications.models import PENDING, Category, FrequencyCounter, Notification, Status
from o2o.notifications.services import UNSUBSCRIBED, unsubscribed

log = logging.getLogger("o2o.notifications")
BATCH = 200
OUTCOMES = ("sent", "deferred", "suppressed", "failed", "retrying")


def cap_slot_take(member_id: int, day: date, cap: int) -> bool:
    """One more marketing cause for the member on ``day``, if under ``cap`` (conditional UPDATE)."""
    if cap <= 0:
        return False
    FrequencyCounter.objects.get_or_create(member_id=member_id, day=day)  # a race on creation is retried inside
    return FrequencyCounter.objects.filter(member_id=member_id, day=day, sent__lt=cap).update(
        sent=F("sent") + 1) == 1


def _close(rows: list[Notification], status: str, reason: str, now: datetime, *,
           until: datetime | None = None) -> Counter:
    fields = {"status": status, "reason": reason[:200], "updated_at": now}
    if until is not None:
        fields["scheduled_for"] = until
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(**fields)
    return Counter({str(status): len(rows)})


def _deliver(row: Notification, member: Member, off: set[str], now: datetime) -> str:
    """Send one row; its outcome (one of :data:`OUTCOMES`)."""
    outcome, fields = "sent", {"updated_at": now}
    if row.channel in off:
        outcome, fields["status"], fields["reason"] = "suppressed", Status.SUPPRESSED, UNSUBSCRIBED
    elif not backends.available(row.channel):
        outcome, fields["status"], fields["reason"] = "suppressed", Status.SUPPRESSED, "channel_off"
    else:
        try:
            result = backends.deliver(row, member)
        except backends.Unreachable as exc:
            outcome, fields["status"], fields["reason"] = "suppressed", Status.SUPPRESSED, f"unreachable: {exc}"
        except ProviderError as exc:
            fields["attempts"] = attempts = row.attempts + 1
            if exc.retryable and attempts < config.max_attempts():
                outcome = "retrying"
                fields.update(status=Status.QUEUED, scheduled_for=now + rules.backoff(attempts),
                              reason=f"第{attempts}次失败，稍后重试 retry after {exc.provider} {exc.code}: {exc.message}")
            else:
                outcome, fields["status"] = "failed", Status.FAILED
                fields["reason"] = f"{exc.provider} {exc.code}: {exc.message}"
        except ValueError as exc:  # the template and the notification do not fit: no retry helps
            outcome, fields["status"], fields["reason"] = "failed", Status.FAILED, f"template: {exc}"
        else:
            fields.update(status=Status.SENT, sent_at=now, reason="", provider=result.provider[:24],
                          provider_message_id=result.message_id[:64], attempts=row.attempts + 1)
    if "reason" in fields:
        fields["reason"] = str(fields["reason"])[:200]
    Notification.objects.filter(pk=row.pk).update(**fields)
    return outcome


def cause_send(cause_key: str, now: datetime) -> Counter:
    """Decide and deliver the due rows of one cause (see the module docstring); outcome counts."""
    with transaction.atomic():
        qs = Notification.objects.filter(cause_key=cause_key).order_by("pk")
        if connection.vendor == "postgresql":
            # The cause's first row is its lock. SKIP LOCKED over all of a cause's rows let two senders
            # scanning at the same moment each take a part of one cause; the second then saw no cap mark and
            # deferred its channels for a slot the first had taken. A sender that cannot take the first row
            # leaves the whole cause to the one holding it; the holder then waits for nobody.
            first = qs.values_list("pk", flat=True).first()
            if first is None or not Notification.objects.filter(pk=first).select_for_update(skip_locked=True).exists():
                return Counter()
            qs = qs.select_for_update()
        rows = list(qs)
        due = [r for r in rows if r.status in PENDING and r.scheduled_for <= now]
        if not due:
            return Counter()
        head = due[0]
        member = Member.objects.filter(pk=head.member_id).first()
        if member is None or not member.is_active:
            return _close(due, Status.SUPPRESSED, "member_inactive", now)
        if head.expires_at is not None and head.expires_at <= now:
            return _close(due, Status.SUPPRESSED, "expired", now)
        if head.category == Category.MARKETING:
            start, end = config.quiet_hours()
            if rules.in_quiet(now, start, end):
                until = rules.quiet_end(now, start, end)
                if head.expires_at is not None and until >= head.expires_at:
                    return _close(due, Status.SUPPRESSED, "expired: quiet_hours", now)
                return _close(due, Status.DEFERRED, "quiet_hours", now, until=until)
            if not any(r.cap_day for r in rows):
                day = rules.china_day(now)
                if not cap_slot_take(member.pk, day, config.daily_cap()):
                    until = rules.next_day_start(now, start, end)
                    if head.expires_at is not None and until >= head.expires_at:
                        return _close(due, Status.SUPPRESSED, "frequency_cap", now)
                    return _close(due, Status.DEFERRED, "frequency_cap", now, until=until)
                Notification.objects.filter(pk__in=[r.pk for r in rows]).update(cap_day=day)
        off = unsubscribed(member.pk)
        return Counter(_deliver(row, member, off, now) for row in due)


def notifications_send_due(now: datetime | None = None, *, limit: int = BATCH) -> dict[str, int]:
    """Send the causes due by ``now``, oldest first (at most ``limit`` causes); counts per outcome."""
    now = now or timezone.now()
    causes: list[str] = []
    due = (Notification.objects.filter(status__in=PENDING, scheduled_for__lte=now)
           .order_by("scheduled_for", "pk").values_list("cause_key", flat=True))
    for key in due[:limit * 5]:
        if key not in causes:
            causes.append(key)
            if len(causes) >= limit:
                break
    total: Counter = Counter()
    for key in causes:
        total.update(cause_send(key, now))
    counts = {k: total.get(k, 0) for k in OUTCOMES}
    if any(counts.values()):
        log.info("notifications %s", counts)
    return counts
