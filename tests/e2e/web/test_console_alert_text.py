"""The console's alert lines speak one language: Chinese on the Chinese page, English on the English one.

Alerts are stored bilingual ("<provider> 中文 English: <reason>", orders.delivery); the page builds its line from
the alert's kind and that message (``console.present.alert_text``), whatever language the courier's reason is in.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.utils import translation

from o2o.orders.models import DeliveryAlert, Shipment
from o2o.web.console.common import message_text, split_bilingual
from o2o.web.console.present import alert_text
from tests.e2e.web.test_console_queue import paid_pickup
from tests.factories import staff
from tests.integration.fulfilment.world import build

FAILED = "dada 配送失败，正在改派 courier failed, dispatching again: "
CJK = re.compile(r"[\u3400-\u9fff]")


def _texts(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", t).strip() for t in re.findall(r'<p class="q-alert-text"[^>]*>(.*?)</p>', html, re.S)]


@pytest.mark.django_db
def test_queue_alerts_in_chinese_and_in_english(client, monkeypatch):
    w = build(monkeypatch)
    _, sid = paid_pickup(client, w)
    shipment = Shipment.objects.get(pk=sid)
    for key, message in (("a1", FAILED + "无骑手接单"), ("a2", FAILED + "无骑手接单 no rider"),
                         ("a3", "sf 配送失败，正在改派 courier failed, dispatching again: 商家地址不在服务范围"),
                         ("a4", "同城配送已超时（承诺 12:30 前送达，当前 awaiting_courier） same-city delivery late: "
                                "promised by 12:30, still awaiting_courier")):
        DeliveryAlert.objects.create(shipment=shipment, location=w.a, kind="late" if key == "a4" else "courier_failed",
                                     message=message, key=key)
    client.force_login(staff("clerk", loc=w.a)[0])

    zh = _texts(client.get(f"/console/s/{w.a.pk}/queue").content.decode())
    assert sorted(zh) == sorted(["达达快送 配送失败，正在改派：无骑手接单"] * 2 + [
        "顺丰同城 配送失败，正在改派：商家地址不在服务范围", "同城配送已超时（承诺 12:30 前送达，当前 待骑手取货）"])
    assert not any(re.search(r"[A-Za-z]{3,}", t) for t in zh), zh  # no English words left, no "dada"

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = _texts(client.get(f"/console/s/{w.a.pk}/queue").content.decode())
    assert sorted(en) == sorted(["Dada: courier failed, dispatching again: no rider"] * 2 + [
        # an unknown Chinese-only reason is the courier's own words: shown, never dropped
        "SF Same-City: courier failed, dispatching again: 商家地址不在服务范围",
        "same-city delivery late: promised by 12:30, still Awaiting courier"])
    assert not any(CJK.search(t) for t in en[:2] + en[3:] if "商家" not in t)
    assert DeliveryAlert.objects.get(key="a1").message == FAILED + "无骑手接单"  # stored as it was


@pytest.mark.parametrize(("message", "zh", "en"), [
    (FAILED + "骑手取消 rider cancelled", "dada 配送失败，正在改派：骑手取消", "courier failed, dispatching again: rider cancelled"),
    ("订单 O2026113000001 已过自提期限 2026-11-30 18:00，请联系顾客 order O2026113000001 passed its pickup deadline",
     "订单 O2026113000001 已过自提期限 2026-11-30 18:00，请联系顾客", "order O2026113000001 passed its pickup deadline"),
    ("请在 App 中查看 see the app", "请在 App 中查看", "see the app"),
    ("破损", "破损", ""),
    ("damaged", "", "damaged"),
])
def test_split_bilingual(message, zh, en):
    assert split_bilingual(message) == (zh, en)


def test_alert_text_per_language():
    msg = FAILED + "无骑手接单"
    with translation.override("zh-hans"):
        assert alert_text("courier_failed", msg) == "达达快送 配送失败，正在改派：无骑手接单"
        assert alert_text("courier_failed", "sf 配送失败，正在改派 courier failed, dispatching again: timeout") \
            == "顺丰同城 配送失败，正在改派：timeout"  # an English-only reason is not lost
        assert message_text("破损") == "破损" and message_text("damaged") == "damaged"
    with translation.override("en"):
        assert alert_text("courier_failed", msg) == "Dada: courier failed, dispatching again: no rider"
        assert alert_text("courier_failed", "已取消的发货单被骑手取货，请追回 a cancelled shipment was picked up; "
                                            "get it back") == "a cancelled shipment was picked up; get it back"
        assert message_text("破损") == "破损"
