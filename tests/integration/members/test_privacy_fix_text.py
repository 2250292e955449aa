"""PIPL deletion, the gaps closed: typed text cut off at 200 characters, courier failure reasons copied into
the history and the store's alerts, routing distances, payment notices without a trade number, and the
stock ledger getting only fixed reasons from a reroute."""

from __future__ import annotations

import pytest
from django.db import transaction

from o2o.fulfilment.models import RoutingDecision
from o2o.fulfilment.privacy import cut
from o2o.fulfilment.reroute import shipment_reject
from o2o.inventory.ledger import Who
from o2o.inventory.models import Movement
from o2o.members.privacy import ERASED_TEXT, member_erase
from o2o.orders import history
from o2o.orders.actors import By
from o2o.orders.models import (
    CourierTask,
    DeliveryAlert,
    Order,
    OrderEvent,
    Payment,
    PaymentNotice,
    Return,
    Shipment,
)
from o2o.orders.placement import PlaceRequest, order_place
from tests.factories import member
from tests.integration.fulfilment.world import P, build  # noqa: F401 - build used by the fixtures
from tests.integration.members.test_privacy_free_text import alice, w  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

LONG_RETURN = "收件人王小明说" + "包装完全破损，" * 25 + "电话13900002222"
COURIER = "骑手联系不上收件人赵六，门牌号漕宝路99弄7号"


def test_cut_finds_a_text_cut_off_at_the_end():
    text = ("退货申请 return RT-1: " + LONG_RETURN)[:200]
    assert LONG_RETURN not in text and "王小明" in text
    assert cut(text, {LONG_RETURN}, "X") == "退货申请 return RT-1: X"
    assert cut("备注 note: 已送达", {"达到门槛"}, "X") == "备注 note: 已送达"  # a one-character overlap is not a match


def test_deletion_also_cuts_truncated_and_courier_text_and_coarsens_distances(alice, w):  # noqa: F811
    done = Order.objects.get(member=alice, status="completed")
    Return.objects.filter(order=done).update(reason=LONG_RETURN)
    by = By(member_id=alice.pk, label="member")
    history.log(done, by=by, kind="note", reason=f"退货申请 return RT-PV1: {LONG_RETURN}")
    task = CourierTask.objects.get(shipment_ref="PV-T1")
    CourierTask.objects.filter(pk=task.pk).update(failed_reason=COURIER)
    shipment = Shipment.objects.get(pk=task.shipment_id)
    history.log(done, by=by, kind="shipment", shipment=shipment, reason=f"配送失败，重新派单 courier dada failed: {COURIER}")
    DeliveryAlert.objects.create(shipment=shipment, location_id=shipment.location_id, kind="courier_failed",
                                 key="cf:test", message=f"dada 配送失败，正在改派 courier failed: {COURIER}")
    pay = Payment.objects.get(order=done)
    PaymentNotice.objects.create(provider="alipay", notify_id="N-REJ", out_trade_no="", outcome="rejected",
                                 raw={"out_trade_no": pay.out_trade_no, "buyer_logon_id": "zha***@163.com"})
    PaymentNotice.objects.create(provider="alipay", notify_id="N-OTHER", out_trade_no="", outcome="rejected",
                                 raw={"out_trade_no": "SOMEONE-ELSE", "buyer_logon_id": "other@163.com"})
    decisions = RoutingDecision.objects.filter(order_ref=done.number)
    exact = [s["distance_m"] for d in decisions for s in d.plan["shipments"]]
    assert exact and any(v % 1000 for v in exact)

    member_erase(member_id=alice.pk, reason="")

    rows = list(OrderEvent.objects.filter(order=done).values_list("reason", flat=True))
    assert not any("王小明" in r or "包装完全破损" in r or "赵六" in r or "漕宝路" in r for r in rows), rows
    assert f"退货申请 return RT-PV1: {ERASED_TEXT}" in rows
    assert DeliveryAlert.objects.get(key="cf:test").message == f"dada 配送失败，正在改派 courier failed: {ERASED_TEXT}"
    assert PaymentNotice.objects.get(notify_id="N-REJ").raw == {"out_trade_no": pay.out_trade_no,
                                                               "buyer_logon_id": ERASED_TEXT}
    assert PaymentNotice.objects.get(notify_id="N-OTHER").raw["buyer_logon_id"] == "other@163.com"  # not theirs
    for d in RoutingDecision.objects.filter(order_ref=done.number):
        assert all(s["distance_m"] % 1000 == 0 for s in d.plan["shipments"])
        assert " km" not in d.explanation or "~" in d.explanation


def test_a_rerouted_shipment_leaves_no_typed_reason_in_the_stock_ledger(w):  # noqa: F811
    m, _ = member("Carol")
    req = PlaceRequest(lines=[(w.s1.pk, 1)], channel="h5", choice="same_city", lat=P.lat, lng=P.lng)
    with transaction.atomic():
        order = order_place(req=req, member=m, by=By(member_id=m.pk, label=f"member:{m.pk}"))
    [routed] = RoutingDecision.objects.get(order_ref=order.number).shipments.all()
    typed = "顾客钱七电话13700007777说不要了"
    shipment_reject(shipment_id=routed.pk, reason=typed, who=Who(label="clerk"))
    assert not Movement.objects.filter(reason__contains="钱七").exists()
    assert Movement.objects.filter(reason__startswith="改派 reroute").exists()
