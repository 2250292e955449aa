"""The periodic side of same-city delivery, and the courier sandbox.

:func:`sweep` (``o2o delivery-alerts``, every minute from cron or a timer; idempotent, safe
to run in several processes):

* a ``late`` alert for each same-city shipment past its ``eta_latest`` and not delivered
  (once per shipment: the alert key is unique);
* books tasks created but still unbooked after ``BOOK_GRACE`` (the process died between the
  commit and the ``on_commit`` booking, or the database was busy);
* dispatches shipments that wait for a courier without an active task (a re-dispatch lost
  the same way); when no provider is left that is one ``no_courier`` alert, not a loop;
* cancels active tasks of shipments that were cancelled or re-routed meanwhile.

The sandbox (simulator mode only): :func:`sandbox_run` moves the sandbox clock forward minute
by minute and applies every due simulator callback through :func:`delivery.tracking_handle`,
the code path of ``POST /delivery/callbacks/{provider}``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.db import DatabaseError, transaction
from django.utils import timezone

from o2o.adapters.couriers import CourierError
from o2o.common.errors import ApiError, Conflict, NotFound
from o2o.core.orders import ShipmentStatus as SS
from o2o.orders import couriers, delivery
from o2o.orders.actors import system
from o2o.orders.locks import lock_order
from o2o.orders.models import ACTIVE_TASK, AlertKind, CourierTask, Shipment, ShipmentMode, TaskStatus

log = logging.getLogger("o2o.orders.delivery")

LATE_STATUSES = [SS.ALLOCATED, SS.PICKING, SS.AWAITING_COURIER, SS.OUT_FOR_DELIVERY]
MAX_SANDBOX_MINUTES = 24 * 60


def sweep(now: datetime | None = None, *, limit: int = 500) -> dict[str, int]:
    now = now or timezone.now()
    return {"late": alert_late(now, limit=limit), "booked": book_pending(now, limit=limit),
            "dispatched": dispatch_missing(now, limit=limit), "cancelled": cancel_orphans(now, limit=limit)}


def alert_late(now: datetime, *, limit: int = 500) -> int:
    due = (Shipment.objects.filter(mode=ShipmentMode.SAME_CITY, status__in=LATE_STATUSES, eta_latest__lt=now)
           .exclude(alerts__kind=AlertKind.LATE).select_related("order").order_by("eta_latest")[:limit])
    made = 0
    for s in due:
        latest = timezone.localtime(s.eta_latest).strftime("%H:%M")
        with transaction.atomic():
            made += delivery.raise_alert(
                s, AlertKind.LATE, key=f"late:{s.pk}", order=s.order,
                message=f"同城配送已超时（承诺 {latest} 前送达，当前 {s.status}） same-city delivery late: promised "
                        f"by {latest}, still {s.status}")
    return made


def book_pending(now: datetime, *, limit: int = 500, grace: timedelta = delivery.BOOK_GRACE) -> int:
    ids = list(CourierTask.objects.filter(status=TaskStatus.CREATED, external_id="", created_at__lte=now - grace)
               .order_by("created_at").values_list("pk", flat=True)[:limit])
    return sum(delivery.book_task(pk) == "booked" for pk in ids)


def dispatch_missing(now: datetime, *, limit: int = 500) -> int:
    ids = list(Shipment.objects.filter(mode=ShipmentMode.SAME_CITY, status=SS.AWAITING_COURIER)
               .exclude(courier_tasks__status__in=ACTIVE_TASK).order_by("pk").values_list("pk", flat=True)[:limit])
    done = 0
    by = system("delivery-sweep")
    for pk in ids:
        try:
            with transaction.atomic():
                shipment = Shipment.objects.get(pk=pk)
                lock_order(shipment.order_id)
                shipment.refresh_from_db()
                if shipment.status != SS.AWAITING_COURIER:
                    continue
                if CourierTask.objects.filter(shipment=shipment, status__in=ACTIVE_TASK).exists():
                    continue
                done += delivery.dispatch_for(shipment, by=by, now=now) is not None
        except (ApiError, DatabaseError):
            log.exception("could not dispatch shipment %s", pk)
    return done


def cancel_orphans(now: datetime, *, limit: int = 500) -> int:
    ids = list(CourierTask.objects.filter(status__in=ACTIVE_TASK, shipment__status__in=[SS.CANCELLED, SS.REROUTED])
               .values_list("shipment_id", flat=True).distinct()[:limit])
    done = 0
    for pk in ids:
        with transaction.atomic():
            shipment = Shipment.objects.get(pk=pk)
            lock_order(shipment.order_id)
            done += delivery.tasks_cancel(shipment, by=system("delivery-sweep"), now=now,
                                          reason=f"发货单已{shipment.status} shipment {shipment.status}")
    return done


# --- the sandbox ----------------------------------------------------------------------------


def _require_simulator() -> None:
    if not couriers.simulator_mode():
        raise NotFound("未找到 Not found", code="not_found")


def deliver_callback(url: str, headers: dict[str, str], body: bytes) -> tuple[tuple[int, str, bytes], dict]:
    """Apply a callback as ``POST <url>`` would: the provider from the path, query signatures as headers."""
    parts = urlsplit(url)
    provider = parts.path.rstrip("/").rsplit("/", 1)[-1]
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return delivery.tracking_handle(provider, couriers.callback_headers(query, headers), body)


def adopt_active() -> int:
    """Teach this process's simulators the booked tasks another process booked (``o2o courier-sim``)."""
    adopted = 0
    tasks = (CourierTask.objects.filter(status__in=ACTIVE_TASK, provider__in=couriers.PROVIDERS)
             .exclude(external_id="").select_related("shipment__order", "shipment__location").order_by("pk"))
    for task in tasks:
        if couriers.simulator(task.provider).external_id(task.shipment_ref) is None:
            try:
                couriers.sim_adopt(task.provider, delivery.request_for(task), created_at=task.created_at,
                                   store=task.shipment.location)
                adopted += 1
            except (CourierError, ValueError, OSError, ApiError) as exc:
                log.warning("simulator could not adopt %s: %s", task.shipment_ref, exc)
    return adopted


def sandbox_run(minutes: int) -> dict[str, Any]:
    """Move the sandbox clock ``minutes`` forward, one minute at a time, applying the callbacks
    due at each step (a re-dispatch at minute 10 then runs its own timeline within the rest)."""
    _require_simulator()
    if not 0 <= minutes <= MAX_SANDBOX_MINUTES:
        raise ValueError("minutes out of range")
    adopt_active()
    applied: list[dict[str, Any]] = []
    for step in range(minutes + 1):
        if step:
            couriers.advance_clock(1)
        book_pending(timezone.now(), grace=timedelta(0))
        for _ in range(10):  # a re-dispatch may make new callbacks due at once (Dada's "created")
            due = couriers.due_callbacks()
            if not due:
                break
            for _provider, url, headers, body in due:
                (status, _ctype, _body), info = deliver_callback(url, headers, body)
                applied.append({**info, "ack_status": status, "at": timezone.localtime(couriers.now())})
    return {"now": timezone.localtime(couriers.now()), "callbacks": applied}


def sandbox_fail(shipment_id: int, mode: str | None) -> CourierTask:
    """Make the shipment's current courier task fail in the simulator (``mode`` None: back to normal)."""
    _require_simulator()
    task = CourierTask.objects.filter(shipment_id=shipment_id, status__in=ACTIVE_TASK).first()
    if task is None:
        raise Conflict("该发货单没有进行中的配送 No active courier task for this shipment",
                       code="no_active_task", details={"shipment_id": shipment_id})
    couriers.simulator(task.provider).fail(task.shipment_ref, mode)  # type: ignore[arg-type]
    return task
