"""PIPL deletion also erases the free text about the member: typed reasons, courier payloads, payer ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import transaction

from o2o.fulfilment.models import RoutedShipment, RoutingDecision
from o2o.inventory.models import Movement
from o2o.members.privacy import ERASED_TEXT, member_erase
from o2o.orders.actors import By
from o2o.orders.lifecycle import order_cancel
from o2o.orders.models import (
    CourierTask,
    Order,
    OrderEvent,
    Payment,
    PaymentNotice,
    Refund,
    Return,
    Shipment,
    TrackingEvent,
)
from o2o.orders.placement import PlaceRequest, order_place
from tests.factories import member
from tests.integration.fulfilment.world import P, build

pytestmark = pytest.mark.django_db

NAME, PHONE, ADDRESS, OPENID = "张三丰测试", "13900001111", "上海市徐汇区漕溪北路88号1201室", "oPAYERopenid0001"
TYPED_CANCEL = f"不要了，{NAME}家里有了，电话{PHONE}"
TYPED_RETURN = f"包装破损，收件人{NAME}，地址{ADDRESS}"
COURIER_REASON = f"联系不上收件人{PHONE}"
RAW_MARK = "courier-raw-payload-7f3a"


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def history_of(m) -> dict:  # noqa: ANN001
    """The member's records as an auditor needs them (amounts, statuses, times), to compare before/after."""
    return {"orders": sorted(Order.objects.filter(member=m).values_list(
                "number", "status", "total_fen", "paid_fen", "refunded_fen", "created_at", "cancelled_at")),
            "refunds": sorted(Refund.objects.filter(order__member=m).values_list("amount_fen", "status")),
            "returns": sorted(Return.objects.filter(order__member=m).values_list("number", "status", "refund_fen")),
            "events": TrackingEvent.objects.filter(task__shipment__order__member=m).count(),
            "tracking": sorted(TrackingEvent.objects.filter(task__shipment__order__member=m).values_list(
                "status", "at"))}


def dump(*, skip: tuple = ()) -> str:
    return "\n".join(repr(row) for model in apps.get_models() if model not in skip
                     for row in model.objects.values_list())


@pytest.fixture
def alice(w):  # noqa: ANN001
    m, _ = member("Alice")
    req = PlaceRequest(lines=[(w.s1.pk, 1)], channel="h5", choice="same_city", lat=P.lat, lng=P.lng,
                       address=ADDRESS, contact_name=NAME, contact_phone=PHONE)
    with transaction.atomic():
        cancelled = order_place(req=req, member=m, by=By(member_id=m.pk, label=f"member:{m.pk}"))
    order_cancel(order_id=cancelled.pk, by=By(member_id=m.pk, label=f"member:{m.pk}"), reason=TYPED_CANCEL,
                 member_id=m.pk)
    with transaction.atomic():
        done = order_place(req=req, member=m, by=By(member_id=m.pk, label=f"member:{m.pk}"))
    Order.objects.filter(pk=done.pk).update(status="completed", paid_fen=done.total_fen, completed_at=w.now)
    pay = Payment.objects.create(order=done, provider="wechat", out_trade_no="PVT0001", amount_fen=done.total_fen,
                                 status="paid", transaction_id="4200001", client_params={"openid": OPENID},
                                 expires_at=w.now + timedelta(minutes=15), paid_at=w.now)
    PaymentNotice.objects.create(provider="wechat", notify_id="N1", out_trade_no=pay.out_trade_no, outcome="applied",
                                 raw={"transaction": {"payer": {"openid": OPENID}, "amount": {"total": 1}}})
    ret = Return.objects.create(number="RT-PV1", order=done, method="store", location=w.a, status="refunded",
                                reason=TYPED_RETURN, refund_fen=100, requested_by_member=m)
    Refund.objects.create(payment=pay, order=done, out_refund_no="RF-PV1", amount_fen=100, status="succeeded",
                          reason=f"退货 return: {TYPED_RETURN}", order_return=ret,
                          raw={"user_received_account": "招商银行信用卡0403", "refund_id": "50001"})
    shipment = Shipment.objects.filter(order=done).first()
    task = CourierTask.objects.create(shipment=shipment, provider="dada", shipment_ref="PV-T1", status="delivered",
                                      failed_reason=COURIER_REASON)
    for i, status in enumerate(["accepted", "delivered"]):
        TrackingEvent.objects.create(task=task, provider="dada", event_id=f"pv-{i}", status=status,
                                     at=w.now + timedelta(minutes=i), reason=COURIER_REASON if i else "",
                                     raw={"receiver_name": NAME, "receiver_phone": PHONE, "note": RAW_MARK})
    return m


def test_deletion_leaves_no_typed_text_courier_payload_or_payer_id(alice, w):
    before = history_of(alice)
    everything = dump()
    for value in (NAME, PHONE, ADDRESS, OPENID, TYPED_CANCEL, RAW_MARK, "招商银行信用卡0403"):
        assert value in everything, value  # the rows really held them
    answer = member_erase(member_id=alice.pk, reason="")
    assert answer["kept"]["orders"] == 2

    # The stock ledger is append-only (triggers refuse UPDATE): what the cancel copied into it is not
    # the member's record to erase here; checked apart below.
    after = dump(skip=(Movement,))
    for value in (NAME, PHONE, ADDRESS, OPENID, RAW_MARK, "招商银行信用卡0403", "Alice", "139****1111"):
        assert value not in after, value
    assert history_of(alice) == before  # amounts, statuses and times kept

    cancelled = Order.objects.get(member=alice, status="cancelled")
    assert cancelled.cancel_reason == ERASED_TEXT
    assert ERASED_TEXT in OrderEvent.objects.get(order=cancelled, kind="order", to_status="cancelled").reason
    assert not OrderEvent.objects.filter(reason__contains=NAME).exists()
    assert Return.objects.get(number="RT-PV1").reason == ERASED_TEXT
    assert Refund.objects.get(out_refund_no="RF-PV1").reason == f"退货 return: {ERASED_TEXT}"
    assert Refund.objects.get(out_refund_no="RF-PV1").raw == {"user_received_account": ERASED_TEXT,
                                                              "refund_id": "50001"}
    notice = PaymentNotice.objects.get(notify_id="N1")
    assert notice.raw == {"transaction": {"payer": ERASED_TEXT, "amount": {"total": 1}}}
    assert [e.raw for e in TrackingEvent.objects.all()] == [{}, {}]
    assert list(TrackingEvent.objects.order_by("pk").values_list("reason", flat=True)) == ["", ERASED_TEXT]
    assert CourierTask.objects.get(shipment_ref="PV-T1").failed_reason == ERASED_TEXT
    for d in RoutingDecision.objects.filter(order_ref__in=[o.number for o in Order.objects.filter(member=alice)]):
        assert (d.dest_lat, d.dest_lng) == (round(P.lat, 2), round(P.lng, 2))
    assert not RoutedShipment.objects.filter(status_reason__contains=NAME).exists()
    # a second call changes nothing
    again = dump(skip=(Movement,))
    member_erase(member_id=alice.pk, reason="")
    assert dump(skip=(Movement,)) == again


def test_a_system_reason_is_not_erased(w):
    m, _ = member("Bob")
    req = PlaceRequest(lines=[(w.s1.pk, 1)], channel="h5", choice="same_city", lat=P.lat, lng=P.lng)
    with transaction.atomic():
        o = order_place(req=req, member=m, by=By(member_id=m.pk, label=f"member:{m.pk}"))
    from o2o.orders.lifecycle import order_expire

    Order.objects.filter(pk=o.pk).update(payment_deadline=w.now - timedelta(minutes=1))
    assert order_expire(o.pk, now=w.now)
    member_erase(member_id=m.pk, reason="")
    assert Order.objects.get(pk=o.pk).cancel_reason == "超时未支付 not paid in time"
