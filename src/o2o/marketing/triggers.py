"""Triggers: who should hear from us, and why (``o2o run-triggers`` every few minutes; idempotent).

Each trigger finds its causes, skips the ones that already fired and queues a notification per new
cause (``o2o.notifications.services.notify``, one transaction per cause). The notification's
``UNIQUE (cause_key, channel)`` makes each cause fire once however often the run repeats or races.
Settings: ``O2O["TRIGGERS"]``.

* **abandoned cart** (marketing): an open member cart with lines, untouched for ``ABANDONED_CART_MIN``
  (120) minutes and at most ``ABANDONED_CART_MAX_AGE_H`` (72) hours, no order by the member since;
  cause ``cart:<id>:<updated_at epoch>`` (touching the cart again makes a new cause).
* **repurchase due** (marketing): from the member's own completed orders of the last year (at least
  ``REPURCHASE_MIN_ORDERS``, 3): the median interval between them (at least a day); due when the last one
  plus the interval has passed with no order since; cause ``repurchase:<member>:<last order id>``.
* **pickup ready** (service): the outbox handler :func:`on_order_event` on ``order.ready_for_pickup``,
  plus a sweep of pickups made ready in the last day as a safety net; cause ``pickup_ready:<shipment>``.
* **pickup deadline near** (service): ready pickups whose deadline is within ``PICKUP_DEADLINE_H`` (4)
  hours; cause ``pickup_deadline:<shipment>``.
* **appointment reminder** (service): booked appointments starting within ``APPOINTMENT_REMIND_H`` (24)
  hours, booked at least 2 hours before their start; cause ``appointment:<id>:24h``.
* **coupon about to expire** (marketing): available coupons ending within ``COUPON_EXPIRING_DAYS`` (3)
  days; cause ``coupon_expiring:<coupon id>``.

Pickup messages name the store, the order and the deadline, never the pickup code: the code hands the
goods to whoever shows it, and an SMS or a lock-screen push is read by more eyes than the member's
(carrier logs, a shared phone). The member shows the code from the order page, signed in.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone

from o2o.marketing.models import Coupon, CouponStatus
from o2o.marketing.models_appointments import Appointment, AppointmentStatus
from o2o.notifications.rules import CHINA
from o2o.notifications.services import fired, notify
from o2o.orders.models import (
    Cart,
    CartLine,
    CartStatus,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentMode,
)
from o2o.orders.models import ShipmentStatus as SS
from o2o.outbox.models import OutboxEvent

DEFAULTS = {"ABANDONED_CART_MIN": 120, "ABANDONED_CART_MAX_AGE_H": 72, "REPURCHASE_MIN_ORDERS": 3,
            "PICKUP_DEADLINE_H": 4, "APPOINTMENT_REMIND_H": 24, "COUPON_EXPIRING_DAYS": 3}
APPOINTMENT_MIN_LEAD = timedelta(hours=2)
READY_SWEEP = timedelta(days=1)
NOT_AN_ORDER = (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
SERVICE, MARKETING = "service", "marketing"


def setting(key: str) -> int:
    return int((settings.O2O.get("TRIGGERS") or {}).get(key, DEFAULTS[key]))


def when(at: datetime) -> str:
    """China time as WeChat's time fields take it: ``2024年03月15日 18:00``."""
    return at.astimezone(CHINA).strftime("%Y年%m月%d日 %H:%M")


def _fire(cause: str, *, member_id: int, now: datetime, **kw: Any) -> int:
    with transaction.atomic():
        return 1 if notify(member_id=member_id, cause_key=cause, now=now, **kw) else 0


def _new(candidates: dict[str, Any]) -> dict[str, Any]:
    done = fired(list(candidates))
    return {k: v for k, v in candidates.items() if k not in done}


# --- abandoned carts --------------------------------------------------------------------------

def abandoned_carts(now: datetime) -> int:
    since_touch = Order.objects.filter(member_id=OuterRef("member_id"), created_at__gte=OuterRef("updated_at"))
    carts = (Cart.objects.filter(status=CartStatus.OPEN, member__isnull=False, member__is_active=True,
                                 updated_at__lte=now - timedelta(minutes=setting("ABANDONED_CART_MIN")),
                                 updated_at__gte=now - timedelta(hours=setting("ABANDONED_CART_MAX_AGE_H")))
             .filter(Exists(CartLine.objects.filter(cart_id=OuterRef("pk")))).exclude(Exists(since_touch))
             .annotate(n_lines=Count("lines")))
    todo = _new({f"cart:{c.pk}:{int(c.updated_at.timestamp())}": c for c in carts})
    n = 0
    for cause, cart in todo.items():
        first = CartLine.objects.filter(cart=cart).select_related("sku").order_by("added_at", "pk").first()
        name = first.sku.name if first else ""
        items = f"{name} 等{cart.n_lines}件" if cart.n_lines > 1 else name
        n += _fire(cause, member_id=cart.member_id, now=now, kind="abandoned_cart", category=MARKETING,
                   title="购物车里的商品还在等你 Your cart is waiting",
                   body=f"{items} 还在购物车里，库存有限，别错过。 {cart.n_lines} item(s) are still in your cart.",
                   data={"items": items, "cart_id": cart.pk}, expires_at=now + timedelta(days=1))
    return n


# --- repurchase -------------------------------------------------------------------------------

def repurchase_interval(times: Sequence[datetime], min_orders: int = 3) -> timedelta | None:
    """The median gap between consecutive purchases (at least a day); None with fewer than ``min_orders``."""
    ordered = sorted(times)
    if len(ordered) < max(min_orders, 2):
        return None
    gaps = [(b - a).total_seconds() for a, b in zip(ordered, ordered[1:], strict=False)]
    return max(timedelta(seconds=statistics.median(gaps)), timedelta(days=1))


def repurchases(now: datetime) -> int:
    min_orders = setting("REPURCHASE_MIN_ORDERS")
    history: dict[int, list[tuple[datetime, int]]] = {}
    for member_id, pk, at in (Order.objects.filter(status=OrderStatus.COMPLETED, member__isnull=False,
                                                   member__is_active=True, created_at__gte=now - timedelta(days=365))
                              .values_list("member_id", "pk", "created_at")):
        history.setdefault(member_id, []).append((at, pk))
    candidates: dict[str, tuple[int, int, timedelta]] = {}
    for member_id, orders in history.items():
        interval = repurchase_interval([at for at, _ in orders], min_orders)
        if interval is None:
            continue
        last_at, last_pk = max(orders)
        if last_at + interval <= now:
            candidates[f"repurchase:{member_id}:{last_pk}"] = (member_id, last_pk, interval)
    n = 0
    for cause, (member_id, last_pk, interval) in _new(candidates).items():
        last = Order.objects.get(pk=last_pk)
        if Order.objects.filter(member_id=member_id, created_at__gt=last.created_at).exclude(
                status__in=NOT_AN_ORDER).exists():
            continue  # they ordered since: nothing to remind
        line = OrderLine.objects.filter(order_id=last_pk).order_by("-qty", "pk").first()
        items = line.name if line else "常买的商品"
        days = max(1, round(interval / timedelta(days=1)))
        n += _fire(cause, member_id=member_id, now=now, kind="repurchase", category=MARKETING,
                   title="该补货啦 Time to restock",
                   body=f"您大约每 {days} 天购买一次{items}，现在补货正合适。 You usually buy {items} every {days} days.",
                   data={"items": items, "days": str(days), "last_order": last.number},
                   expires_at=now + timedelta(days=3))
    return n


# --- pickups ----------------------------------------------------------------------------------

def _pickup_fire(cause: str, shipment: Shipment, *, kind: str, now: datetime) -> int:
    order, deadline = shipment.order, shipment.pickup_deadline
    store = shipment.location.name
    if kind == "pickup_ready":
        title = "订单已备好，可到店自提 Your order is ready for pickup"
        body = (f"订单 {order.number} 已在{store}备好，请在 {when(deadline)} 前到店，凭订单页的取货码提货。"
                f" Order {order.number} is ready at {store}; collect it by {when(deadline)} with the code in your order.")
    else:
        title = "自提即将截止 Your pickup closes soon"
        body = (f"订单 {order.number} 的自提将于 {when(deadline)} 截止，请尽快到{store}提货。"
                f" Order {order.number} waits at {store} until {when(deadline)}.")
    data = {"order": order.number, "order_id": order.pk, "store": store, "deadline": when(deadline),
            "shipment_id": shipment.pk}
    return _fire(cause, member_id=order.member_id, now=now, kind=kind, category=SERVICE, title=title,
                 body=body, data=data, expires_at=deadline)


def _ready_pickups():
    return (Shipment.objects.select_related("order", "location")
            .filter(status=SS.READY_FOR_PICKUP, mode=ShipmentMode.PICKUP, order__member__isnull=False,
                    pickup_deadline__isnull=False))


def pickups_ready(now: datetime, *, order_id: int | None = None) -> int:
    qs = _ready_pickups().filter(pickup_deadline__gt=now)
    qs = qs.filter(order_id=order_id) if order_id is not None else qs.filter(ready_at__gte=now - READY_SWEEP)
    todo = _new({f"pickup_ready:{s.pk}": s for s in qs})
    return sum(_pickup_fire(cause, s, kind="pickup_ready", now=now) for cause, s in todo.items())


def pickup_deadlines(now: datetime) -> int:
    qs = _ready_pickups().filter(pickup_deadline__gt=now,
                                 pickup_deadline__lte=now + timedelta(hours=setting("PICKUP_DEADLINE_H")))
    todo = _new({f"pickup_deadline:{s.pk}": s for s in qs})
    return sum(_pickup_fire(cause, s, kind="pickup_deadline", now=now) for cause, s in todo.items())


def on_order_event(event: OutboxEvent) -> None:
    """Outbox handler (``O2O["OUTBOX_HANDLERS"]``): ``order.ready_for_pickup`` tells the member at once."""
    if event.aggregate != "order" or event.topic != "order.ready_for_pickup":
        return
    pickups_ready(timezone.now(), order_id=int(event.aggregate_id))


# --- appointments -----------------------------------------------------------------------------

def appointment_reminders(now: datetime) -> int:
    qs = (Appointment.objects.select_related("location")
          .filter(status=AppointmentStatus.BOOKED, starts_at__gt=now,
                  starts_at__lte=now + timedelta(hours=setting("APPOINTMENT_REMIND_H")),
                  created_at__lte=F("starts_at") - APPOINTMENT_MIN_LEAD))
    todo = _new({f"appointment:{a.pk}:24h": a for a in qs})
    n = 0
    for cause, a in todo.items():
        store = a.location.name
        n += _fire(cause, member_id=a.member_id, now=now, kind="appointment", category=SERVICE,
                   title="预约提醒 Appointment reminder",
                   body=f"您预约了 {when(a.starts_at)} 在{store}的{a.service}，期待您的光临。"
                        f" See you at {store} on {when(a.starts_at)} for {a.service}.",
                   data={"service": a.service, "store": store, "time": when(a.starts_at), "appointment_id": a.pk},
                   expires_at=a.starts_at)
    return n


# --- coupons ----------------------------------------------------------------------------------

def coupons_expiring(now: datetime) -> int:
    qs = (Coupon.objects.select_related("template")
          .filter(status=CouponStatus.AVAILABLE, member__is_active=True, valid_from__lte=now, valid_until__gt=now,
                  valid_until__lte=now + timedelta(days=setting("COUPON_EXPIRING_DAYS"))))
    todo = _new({f"coupon_expiring:{c.pk}": c for c in qs})
    n = 0
    for cause, c in todo.items():
        name = c.template.name
        n += _fire(cause, member_id=c.member_id, now=now, kind="coupon_expiring", category=MARKETING,
                   title="优惠券即将过期 A coupon expires soon",
                   body=f"您的「{name}」将于 {when(c.valid_until)} 过期，记得使用。 Your coupon {name} ends {when(c.valid_until)}.",
                   data={"coupon": name, "until": when(c.valid_until), "coupon_id": c.pk}, expires_at=c.valid_until)
    return n


TRIGGERS = {"abandoned_cart": abandoned_carts, "repurchase": repurchases, "pickup_ready": pickups_ready,
            "pickup_deadline": pickup_deadlines, "appointment": appointment_reminders,
            "coupon_expiring": coupons_expiring}


def run_triggers(now: datetime | None = None) -> dict[str, int]:
    """Every trigger once; the notifications queued per trigger (0 for causes that fired before)."""
    now = now or timezone.now()
    return {name: trigger(now) for name, trigger in TRIGGERS.items()}
