"""PIPL deletion, second review: only the courier's exception text (failed / cancelled events) is cut out of
the system's own messages, never a status description such as "已送达", and a typed text is matched at the end
of a long message only when at least six characters of it are there."""

from __future__ import annotations

from datetime import timedelta

import pytest

from o2o.fulfilment.privacy import cut
from o2o.members.privacy import ERASED_TEXT, member_erase
from o2o.orders import history
from o2o.orders.actors import By
from o2o.orders.models import CourierTask, DeliveryAlert, Order, OrderEvent, Shipment, TrackingEvent
from o2o.orders.privacy import typed_texts
from tests.integration.fulfilment.world import build  # noqa: F401 - build used by the fixtures
from tests.integration.members.test_privacy_free_text import NAME, TYPED_CANCEL, alice, w  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

FAILED = f"收件人{NAME}电话关机，无法投递"
COURIER = By(label="courier:sf")


def test_a_short_prefix_at_the_end_of_a_long_message_is_not_a_match():
    long = "门店备注 store note: " + "货品已按约定时间准备完毕，" * 15
    text = (long[:197] + "不要了")[:200]
    assert len(text) == 200
    assert cut(text, {TYPED_CANCEL}, "X") == text  # three characters that happen to end it: kept
    cut_off = (long[:190] + TYPED_CANCEL)[:200]  # ten characters of it left where history.log cut it
    assert cut(cut_off, {TYPED_CANCEL}, "X") == long[:190] + "X"


def test_a_delivered_parcels_status_stays_while_the_couriers_failure_text_goes(alice, w):  # noqa: F811
    done = Order.objects.get(member=alice, status="completed")
    shipment = Shipment.objects.filter(order=done).first()
    failed = CourierTask.objects.create(shipment=shipment, provider="sf", shipment_ref="PV-SF1", attempt=2,
                                        status="failed", failed_reason=FAILED)
    TrackingEvent.objects.create(task=failed, provider="sf", event_id="sf-1", status="failed", at=w.now,
                                 reason=FAILED)
    delivered = CourierTask.objects.create(shipment=shipment, provider="sf", shipment_ref="PV-SF2", attempt=3,
                                           status="delivered")
    for i, (status, reason) in enumerate([("picked_up", "已揽收"), ("delivered", "已送达")]):
        TrackingEvent.objects.create(task=delivered, provider="sf", event_id=f"sf-{i + 2}", status=status,
                                     at=w.now + timedelta(minutes=i + 1), reason=reason)
    history.log(done, by=COURIER, kind="shipment", shipment=shipment,
                reason=f"配送失败，重新派单 courier sf failed: {FAILED}")
    history.log(done, by=COURIER, kind="shipment", shipment=shipment, reason="已送达 delivered by sf")
    history.log(done, by=COURIER, kind="shipment", shipment=shipment, reason="骑手已揽收 picked up by sf")
    DeliveryAlert.objects.create(shipment=shipment, location_id=shipment.location_id, kind="courier_failed",
                                 key="cf:sf", message=f"sf 配送失败，正在改派 courier failed: {FAILED}")
    texts = typed_texts(list(Order.objects.filter(member=alice).values_list("pk", flat=True)))
    assert FAILED in texts and "已送达" not in texts and "已揽收" not in texts

    member_erase(member_id=alice.pk, reason="")

    rows = list(OrderEvent.objects.filter(order=done).values_list("reason", flat=True))
    assert "已送达 delivered by sf" in rows and "骑手已揽收 picked up by sf" in rows, rows
    assert f"配送失败，重新派单 courier sf failed: {ERASED_TEXT}" in rows
    assert not any(NAME in r for r in rows)
    assert DeliveryAlert.objects.get(key="cf:sf").message == f"sf 配送失败，正在改派 courier failed: {ERASED_TEXT}"
    assert CourierTask.objects.get(shipment_ref="PV-SF1").failed_reason == ERASED_TEXT
