"""Every trigger fires once per cause: a second run (or a racing one) queues nothing new, and each run
reports what it queued per trigger."""

from __future__ import annotations

import io
import json
import secrets
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from o2o.accounts.pii_services import member_set_phone
from o2o.marketing import triggers
from o2o.marketing.models import Coupon
from o2o.marketing.models_appointments import Appointment
from o2o.marketing.triggers import repurchase_interval, run_triggers
from o2o.notifications.models import Notification
from o2o.notifications.sending import notifications_send_due
from o2o.orders import store_work
from o2o.orders.actors import By
from o2o.orders.models import Cart, CartLine, Order, OrderLine, PickupCode, Shipment
from o2o.outbox.services import events_relay
from tests.e2e.orders.test_pickup_flow import pay, place_pickup
from tests.factories import location, member, sku
from tests.integration.fulfilment.world import build
from tests.integration.marketing.support import template
from tests.integration.notifications.support import T0, reachable_member

pytestmark = pytest.mark.django_db

NOTHING = {k: 0 for k in triggers.TRIGGERS}


def only(**counts: int) -> dict[str, int]:
    return {**NOTHING, **counts}


def causes(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind, channel="outbox").values_list("cause_key", flat=True))


# --- abandoned carts --------------------------------------------------------------------------

def cart_of(m, *, touched, lines: int = 2) -> Cart:  # noqa: ANN001
    cart = Cart.objects.create(token_hash=secrets.token_hex(32), member=m, updated_at=touched, created_at=touched)
    for i in range(lines):
        CartLine.objects.create(cart=cart, sku=sku(name=f"鲜牛奶{i}"), qty=1, added_at=touched + timedelta(seconds=i))
    return cart


def order_of(m, *, at, status: str = "completed", **kw) -> Order:  # noqa: ANN001
    return Order.objects.create(number=f"T{secrets.token_hex(6)}", member=m, channel="h5", choice="pickup",
                                status=status, created_at=at, **kw)


def test_an_abandoned_cart_once_per_touch():
    m = reachable_member()
    cart = cart_of(m, touched=T0 - timedelta(hours=3))
    fresh = cart_of(reachable_member(), touched=T0 - timedelta(minutes=30))  # too fresh (for now)
    cart_of(reachable_member(), touched=T0 - timedelta(days=5))  # too old
    cart_of(reachable_member(), touched=T0 - timedelta(hours=3), lines=0)  # empty
    ordered = reachable_member()
    cart_of(ordered, touched=T0 - timedelta(hours=3))
    order_of(ordered, at=T0 - timedelta(hours=1), status="paid")  # ordered since
    assert run_triggers(T0) == only(abandoned_cart=1)
    assert run_triggers(T0 + timedelta(minutes=5)) == NOTHING
    (row,) = Notification.objects.filter(kind="abandoned_cart", channel="outbox")
    assert row.cause_key == f"cart:{cart.pk}:{int((T0 - timedelta(hours=3)).timestamp())}"
    assert row.member_id == m.pk and row.category == "marketing" and row.payload["items"] == "鲜牛奶0 等2件"
    Cart.objects.filter(pk=cart.pk).update(updated_at=T0)  # touched again: a new cause, after the delay
    assert run_triggers(T0 + timedelta(minutes=60)) == NOTHING
    assert run_triggers(T0 + timedelta(minutes=121)) == only(abandoned_cart=2)  # it, and the one fresh before
    assert f"cart:{cart.pk}:{int(T0.timestamp())}" in causes("abandoned_cart")
    assert f"cart:{fresh.pk}:{int((T0 - timedelta(minutes=30)).timestamp())}" in causes("abandoned_cart")


def test_the_abandoned_cart_delay_is_a_setting(settings):
    settings.O2O = {**settings.O2O, "TRIGGERS": {**settings.O2O["TRIGGERS"], "ABANDONED_CART_MIN": 20}}
    cart_of(reachable_member(), touched=T0 - timedelta(minutes=30))
    assert run_triggers(T0)["abandoned_cart"] == 1


# --- repurchase -------------------------------------------------------------------------------

def test_repurchase_interval_is_the_median_gap():
    days = [T0 - timedelta(days=d) for d in (40, 30, 20, 3)]
    assert repurchase_interval(days) == timedelta(days=10)
    assert repurchase_interval(days[:2]) is None
    same_day = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert repurchase_interval(same_day) == timedelta(days=1)  # never sooner than a day


def test_repurchase_is_due_from_the_members_own_rhythm():
    m = reachable_member()
    last = None
    for d in (30, 20, 10):
        last = order_of(m, at=T0 - timedelta(days=d))
    OrderLine.objects.create(order=last, sku=sku(name="有机鲜牛奶"), name="有机鲜牛奶", qty=2, unit_price_fen=100,
                             list_price_fen=100, subtotal_fen=200, payable_fen=200)
    order_of(m, at=T0 - timedelta(days=5), status="cancelled")  # not an order
    two = reachable_member()
    for d in (20, 10):
        order_of(two, at=T0 - timedelta(days=d))
    busy = reachable_member()
    for d in (30, 20, 10):
        order_of(busy, at=T0 - timedelta(days=d))
    order_of(busy, at=T0 - timedelta(days=1), status="paid")  # ordered since
    assert run_triggers(T0 - timedelta(hours=1))["repurchase"] == 0  # 10 days not over yet
    assert run_triggers(T0) == only(repurchase=1)
    assert run_triggers(T0 + timedelta(days=1)) == NOTHING
    (row,) = Notification.objects.filter(kind="repurchase", channel="outbox")
    assert row.cause_key == f"repurchase:{m.pk}:{last.pk}" and row.payload["items"] == "有机鲜牛奶"
    assert row.payload["days"] == "10"


# --- pickups ----------------------------------------------------------------------------------

def test_pickup_ready_comes_from_the_outbox_event_and_never_carries_the_code(client, monkeypatch, sims):
    assert "o2o.marketing.triggers.on_order_event" in settings.O2O["OUTBOX_HANDLERS"]
    w = build(monkeypatch)
    m, token = member()
    member_set_phone(member=m, phone="13912345678")
    o = place_pickup(client, w, token, (w.s1, 1))
    pay(o["id"])
    s = store_work.shipment_mark_ready(o["shipments"][0]["id"], by=By(label="staff:test"), pick_all=True)
    events_relay()
    assert causes("pickup_ready") == [f"pickup_ready:{s.pk}"]
    assert run_triggers()["pickup_ready"] == 0  # the sweep finds it fired
    events_relay()  # at least once: a redelivered event changes nothing
    assert Notification.objects.filter(kind="pickup_ready").count() == 2  # outbox + sms
    notifications_send_due(timezone.now())
    code = PickupCode.objects.get(shipment=s).code
    texts = [json.dumps([n.title, n.body, n.payload], ensure_ascii=False)
             for n in Notification.objects.filter(kind="pickup_ready")]
    (sms,) = sims.sms_sim.sent
    assert sms.phone_numbers == ("13912345678",) and sms.params["store"] == "徐汇店"
    assert all(code not in t and "徐汇店" in t for t in texts) and code not in json.dumps(sms.params)
    s = Shipment.objects.get(pk=s.pk)
    deadline = s.pickup_deadline
    assert run_triggers(deadline - timedelta(hours=5))["pickup_deadline"] == 0
    assert run_triggers(deadline - timedelta(hours=3)) == only(pickup_deadline=1)
    assert run_triggers(deadline - timedelta(hours=2)) == NOTHING
    assert causes("pickup_deadline") == [f"pickup_deadline:{s.pk}"]


# --- appointments and coupons -----------------------------------------------------------------

def test_appointment_reminders_a_day_before():
    store = location(name="静安店")
    m = reachable_member()
    due = Appointment.objects.create(member=m, location=store, service="皮肤检测", starts_at=T0 + timedelta(hours=20),
                                     created_at=T0 - timedelta(days=2))
    Appointment.objects.create(member=m, location=store, service="late", starts_at=T0 + timedelta(hours=30),
                               created_at=T0 - timedelta(days=2))
    Appointment.objects.create(member=m, location=store, service="x", starts_at=T0 + timedelta(hours=20),
                               created_at=T0 - timedelta(days=2), status="cancelled")
    Appointment.objects.create(member=m, location=store, service="walk-in", starts_at=T0 + timedelta(hours=1),
                               created_at=T0)  # booked an hour before: no reminder
    assert run_triggers(T0) == only(appointment=1)
    assert run_triggers(T0 + timedelta(hours=1)) == NOTHING
    (row,) = Notification.objects.filter(kind="appointment", channel="outbox")
    assert row.cause_key == f"appointment:{due.pk}:24h" and row.category == "service"
    assert row.payload["store"] == "静安店" and row.expires_at == due.starts_at


def coupon(m, *, until, status: str = "available") -> Coupon:  # noqa: ANN001
    t = template()
    return Coupon.objects.create(template=t, member=m, slot=1, member_limit=1, code=f"{secrets.randbelow(10**16):016d}",
                                 status=status, source="claim", issued_at=T0 - timedelta(days=20),
                                 valid_from=T0 - timedelta(days=20), valid_until=until)


def test_coupons_about_to_expire():
    m = reachable_member()
    soon = coupon(m, until=T0 + timedelta(days=2))
    coupon(m, until=T0 + timedelta(days=10))
    coupon(m, until=T0 - timedelta(hours=1))  # over already
    coupon(m, until=T0 + timedelta(days=1), status="void")
    assert run_triggers(T0) == only(coupon_expiring=1)
    assert run_triggers(T0 + timedelta(hours=6)) == NOTHING
    (row,) = Notification.objects.filter(kind="coupon_expiring", channel="outbox")
    assert row.cause_key == f"coupon_expiring:{soon.pk}" and row.category == "marketing"
    assert row.expires_at == soon.valid_until


def test_the_command_reports_counts_per_trigger():
    m = reachable_member()
    coupon(m, until=timezone.now() + timedelta(days=1))
    out = io.StringIO()
    call_command("run-triggers", stdout=out)
    assert json.loads(out.getvalue()) == only(coupon_expiring=1)
    out = io.StringIO()
    call_command("run-triggers", stdout=out)
    assert json.loads(out.getvalue()) == NOTHING
