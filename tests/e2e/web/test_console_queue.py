"""The store console's sign-in, work queue and pick-and-pack pages, on the small test network.

Another store's clerk gets the 403 page for the queue and the 404 page for a shipment, by URL.
"""

from __future__ import annotations

import pytest

from o2o.orders.models import OrderEvent, PickupCode, Shipment
from tests.e2e.orders.picking import console_pick_all
from tests.e2e.orders.test_pickup_flow import pay, place_pickup
from tests.factories import member, staff
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.fixture
def clerk_a(w):
    return staff("clerk", loc=w.a)[0]


@pytest.fixture
def clerk_c(w):
    return staff("clerk", loc=w.c)[0]


def paid_pickup(client, w) -> tuple[dict, int]:  # noqa: ANN001
    """A pickup order at store A, placed through the API and paid; (the order, its shipment id)."""
    _, token = member()
    o = place_pickup(client, w, token)
    pay(o["id"])
    client.logout()
    return o, o["shipments"][0]["id"]


def signed_in(client, user):  # noqa: ANN001, ANN201
    client.force_login(user)
    return client


def test_login_page_and_bad_password(client, w):
    user = staff("clerk", loc=w.a)[0]
    r = client.get("/console/")
    assert r.status_code == 302 and r["Location"].startswith("/console/login")
    page = client.get("/console/login")
    assert page.status_code == 200 and "员工登录" in page.content.decode()
    bad = client.post("/console/login", {"username": user.username, "password": "wrong-password"})
    assert bad.status_code == 400
    assert "用户名或密码不正确" in bad.content.decode()
    assert "_auth_user_id" not in client.session
    ok = client.post("/console/login", {"username": user.username, "password": "x-secret-9"})
    assert ok.status_code == 302 and ok["Location"] == "/console/"
    home = client.get("/console/")
    assert home.status_code == 302 and home["Location"] == f"/console/s/{w.a.pk}/queue"
    out = client.post("/console/logout")
    assert out.status_code == 302 and client.get("/console/").status_code == 302


def test_queue_lists_the_paid_order_for_its_store_only(client, w, clerk_a, clerk_c):
    o, sid = paid_pickup(client, w)
    signed_in(client, clerk_a)
    r = client.get(f"/console/s/{w.a.pk}/queue")
    html = r.content.decode()
    assert r.status_code == 200
    assert f'data-testid="queue-row-{sid}"' in html and o["number"] in html and "待拣货" in html
    assert 'data-testid="alerts"' in html and 'hx-trigger="every 10s"' in html
    live = client.get(f"/console/s/{w.a.pk}/queue/live")
    assert live.status_code == 200 and f"queue-row-{sid}" in live.content.decode()
    assert client.get(f"/console/shipments/{sid}").status_code == 200

    signed_in(client, clerk_c)
    assert client.get(f"/console/s/{w.a.pk}/queue").status_code == 403
    assert client.get(f"/console/s/{w.a.pk}/queue/live").status_code == 403
    r = client.get(f"/console/shipments/{sid}")
    assert r.status_code == 404 and o["number"] not in r.content.decode()
    before = OrderEvent.objects.count()
    assert client.post(f"/console/shipments/{sid}/start", {"idem": "c1"}).status_code == 404
    assert Shipment.objects.get(pk=sid).status == "allocated" and OrderEvent.objects.count() == before
    own = client.get(f"/console/s/{w.c.pk}/queue")
    assert own.status_code == 200 and f"queue-row-{sid}" not in own.content.decode()
    client.logout()  # a poll after the session ended sends the browser to the sign-in page
    poll = client.get(f"/console/s/{w.a.pk}/queue/live", HTTP_HX_REQUEST="true")
    assert poll["HX-Redirect"].startswith("/console/login?next=")


def test_start_then_ready_moves_the_shipment(client, w, clerk_a):
    o, sid = paid_pickup(client, w)
    signed_in(client, clerk_a)
    page = client.get(f"/console/shipments/{sid}").content.decode()
    for testid in ("start-picking", "mark-ready", "report-short", "shipment-status"):
        assert f'data-testid="{testid}"' in page

    r = client.post(f"/console/shipments/{sid}/start", {"idem": "start-1"})
    assert r.status_code == 302 and r["Location"] == f"/console/shipments/{sid}"
    assert Shipment.objects.get(pk=sid).status == "picking"
    again = client.post(f"/console/shipments/{sid}/start", {"idem": "start-1"})  # a double click: replayed
    assert again.status_code == 302 and Shipment.objects.get(pk=sid).status == "picking"
    shown = client.get(f"/console/shipments/{sid}").content.decode()
    assert 'data-status="picking"' in shown and "已开始拣货" in shown

    early = client.post(f"/console/shipments/{sid}/ready", {"idem": "ready-0"})  # no line confirmed yet
    assert early.status_code == 409 and "还有商品未确认拣货" in early.content.decode()
    assert Shipment.objects.get(pk=sid).status == "picking"
    console_pick_all(client, sid)
    r = client.post(f"/console/shipments/{sid}/ready", {"idem": "ready-1"})
    assert r.status_code == 302
    assert Shipment.objects.get(pk=sid).status == "ready_for_pickup"
    assert PickupCode.objects.filter(shipment_id=sid, status="live").count() == 1
    late = client.post(f"/console/shipments/{sid}/ready", {"idem": "ready-2"})  # another key: the state machine says no
    assert late.status_code == 409 and "当前状态不能进行这一步" in late.content.decode()
    assert PickupCode.objects.filter(shipment_id=sid).count() == 1


def test_report_short_needs_a_reason_then_cancels_the_pickup(client, w, clerk_a, monkeypatch):
    from o2o.orders import lifecycle

    asked = []
    monkeypatch.setattr(lifecycle, "_refunder", [lambda order, amount_fen, reason, by, order_return=None:
                                                 asked.append(amount_fen)])
    o, sid = paid_pickup(client, w)
    signed_in(client, clerk_a)
    r = client.post(f"/console/shipments/{sid}/short", {"idem": "s1", "reason": ""})
    assert r.status_code == 400 and "请填写缺货原因" in r.content.decode()
    assert Shipment.objects.get(pk=sid).status == "allocated"
    r = client.post(f"/console/shipments/{sid}/short", {"idem": "s2", "reason": "货架缺货"})
    assert r.status_code == 302
    assert Shipment.objects.get(pk=sid).status == "rerouted" and asked == [o["total_fen"]]
    assert "已为顾客退款" in client.get(f"/console/shipments/{sid}").content.decode()


def test_alert_is_shown_and_resolved_once(client, w, clerk_a, clerk_c):
    from o2o.orders.models import DeliveryAlert

    o, sid = paid_pickup(client, w)
    alert = DeliveryAlert.objects.create(shipment_id=sid, location=w.a, kind="late", key=f"late:{sid}",
                                         message="同城配送已超时 same-city delivery late")
    signed_in(client, clerk_c)
    assert client.post(f"/console/alerts/{alert.pk}/resolve").status_code == 404  # looks like no alert
    signed_in(client, clerk_a)
    html = client.get(f"/console/s/{w.a.pk}/queue").content.decode()
    assert f'data-testid="alert-{alert.pk}"' in html and ">同城配送已超时</p>" in html
    r = client.post(f"/console/alerts/{alert.pk}/resolve", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and f'data-testid="alert-{alert.pk}"' not in r.content.decode()
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolved_by_id == clerk_a.pk
    again = client.post(f"/console/alerts/{alert.pk}/resolve")
    assert again.status_code == 302
    assert "该异常已经处理过了" in client.get(again["Location"]).content.decode()
