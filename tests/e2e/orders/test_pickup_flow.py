"""门店自提 over HTTP: place a pickup order, pay, pick, mark ready, the member sees the code and QR,
the clerk verifies it once and the goods leave the store; every refusal is logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from o2o.core.orders import QrClaims, sign
from o2o.inventory import checks
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.orders import lifecycle
from o2o.orders.actors import SYSTEM
from o2o.orders.locks import lock_order
from o2o.orders.models import Order, OrderEvent, PickupCode, PickupVerification, Shipment
from o2o.orders.pickup_qr import qr_key
from tests.e2e.orders.picking import PICK_ALL
from tests.factories import assert_error, auth, figures, member
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def place_pickup(client, w, token, *pairs, at=None, key="k1") -> dict:  # noqa: ANN001
    body = {"lines": lines(*(pairs or ((w.s1, 2), (w.s2, 1)))), "channel": "mini_program", "choice": "pickup",
            "lat": P.lat, "lng": P.lng, "pickup_location_id": (at or w.a).pk, "contact_name": "李四",
            "contact_phone": "13900001111"}
    r = post(client, "/api/v1/orders", body, token, key)
    assert r.status_code == 201, r.content
    return r.json()


def pay(order_id: int) -> Order:
    """Paid without the payment module: what the payment service does once the money arrived."""
    with transaction.atomic():
        order = lock_order(order_id)
        return lifecycle.order_paid(order, amount_fen=order.total_fen, by=SYSTEM)


def ready_pickup(client, w, token, *pairs) -> tuple[dict, dict]:  # noqa: ANN001
    """Placed, paid, picked and ready at store A; (the order as the member sees it, its shipment)."""
    o = place_pickup(client, w, token, *pairs)
    pay(o["id"])
    [sh] = o["shipments"]
    assert post(client, f"/api/v1/store/shipments/{sh['id']}/start", {}, w.clerk_a, "s1").status_code == 200
    r = post(client, f"/api/v1/store/shipments/{sh['id']}/ready", PICK_ALL, w.clerk_a, "r1")
    assert r.status_code == 200, r.content
    got = client.get(f"/api/v1/orders/{o['id']}", **auth(token)).json()
    return got, got["shipments"][0]


def verify(client, token, location, *, code=None, qr=None, key=None):  # noqa: ANN001
    body = {"location_id": location.pk, **({"code": code} if code is not None else {}),
            **({"qr": qr} if qr is not None else {})}
    return post(client, "/api/v1/store/pickup/verify", body, token, key)


def log_rows() -> list[tuple]:
    return list(PickupVerification.objects.order_by("pk").values_list("location_id", "shipment_id", "code_tail",
                                                                        "method", "result"))


def test_full_pickup_loop_by_code(client, w):
    _, token = member()
    on_hand_1, on_hand_2 = figures(w.a, w.s1)[0], figures(w.a, w.s2)[0]
    o = place_pickup(client, w, token)
    [sh] = o["shipments"]
    assert (sh["mode"], sh["location_id"]) == ("pickup", w.a.pk)
    pay(o["id"])
    r = post(client, f"/api/v1/store/shipments/{sh['id']}/start", {}, w.clerk_a, "s1")
    assert r.status_code == 200 and r.json()["status"] == "picking", r.content
    assert Order.objects.get(pk=o["id"]).status == "picking"
    r = post(client, f"/api/v1/store/shipments/{sh['id']}/ready", PICK_ALL, w.clerk_a, "r1")
    assert r.status_code == 200, r.content
    ready = r.json()
    assert ready["status"] == "ready_for_pickup" and ready["order_number"] == o["number"]
    assert "pickup_code" not in ready  # staff never see the code
    deadline = Shipment.objects.get(pk=sh["id"]).pickup_deadline
    assert timedelta(hours=71, minutes=59) < deadline - timezone.now() <= timedelta(hours=72)
    res = Reservation.objects.get(reference=o["number"])
    assert res.expires_at >= deadline + timedelta(days=1)  # never shortened: the paid hold may be longer

    got = client.get(f"/api/v1/orders/{o['id']}", **auth(token)).json()
    assert got["status"] == "ready_for_pickup"
    mine = got["shipments"][0]
    code = PickupCode.objects.get(shipment_id=sh["id"], status="live")
    assert mine["pickup_code"] == code.code and len(code.code) == 10 and code.expires_at == deadline
    assert mine["pickup_qr"].startswith("o2o1.")
    staff_view = client.get(f"/api/v1/orders/{o['id']}", **auth(w.clerk_a)).json()
    assert staff_view["shipments"][0]["pickup_code"] is None  # only the owner sees it

    typed = f"{code.code[:4]} {code.code[4:8]}-{code.code[8:]}"
    r = verify(client, w.clerk_a, w.a, code=typed, key="v1")
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["result"] == "ok" and out["order_number"] == o["number"] and out["order_status"] == "completed"
    assert sorted((ln["sku_id"], ln["qty"]) for ln in out["lines"]) == sorted([(w.s1.pk, 2), (w.s2.pk, 1)])
    assert all(ln["name"] and ln["barcode"] for ln in out["lines"])
    assert out["shipment"]["status"] == "completed"
    # the same key replays the answer; nothing happens twice
    again = verify(client, w.clerk_a, w.a, code=typed, key="v1")
    assert again.status_code == 200 and again.json() == out

    order = Order.objects.get(pk=o["id"])
    assert order.status == "completed" and order.completed_at is not None
    code.refresh_from_db()
    assert code.status == "used" and code.used_at is not None and code.used_by_id is not None
    assert figures(w.a, w.s1) == (on_hand_1 - 2, 0) and figures(w.a, w.s2) == (on_hand_2 - 1, 0)
    res.refresh_from_db()
    assert res.status == ReservationStatus.FULFILLED
    assert log_rows() == [(w.a.pk, sh["id"], code.code[-4:], "code", "ok")]
    hist = client.get(f"/api/v1/orders/{o['id']}/history", **auth(token)).json()
    assert [e["to_status"] for e in hist if e["kind"] == "shipment"] == [
        "allocated", "picking", "ready_for_pickup", "completed"]
    assert [e["to_status"] for e in hist if e["kind"] == "order"][-1] == "completed"
    assert checks.run() == []


def test_verify_by_qr_and_tampered_qr(client, w):
    _, token = member()
    got, sh = ready_pickup(client, w, token)
    payload = sh["pickup_qr"]
    head, claims, mac = payload.split(".")
    forged = f"{head}.{claims}.{mac[:-2]}{'A' if mac[-2] != 'A' else 'B'}{mac[-1]}"
    err = assert_error(verify(client, w.clerk_a, w.a, qr=forged), 422, "bad_signature")
    assert err["details"]["result"] == "bad_signature"
    # signed with another key: also a bad signature
    other = sign(QrClaims(shipment_id=sh["id"], code=sh["pickup_code"], expires_at=2_000_000_000), b"k" * 32)
    assert_error(verify(client, w.clerk_a, w.a, qr=other), 422, "bad_signature")
    assert_error(verify(client, w.clerk_a, w.a, qr="not a qr"), 422, "malformed")
    assert Shipment.objects.get(pk=sh["id"]).status == "ready_for_pickup"

    r = verify(client, w.clerk_a, w.a, qr=payload)
    assert r.status_code == 200, r.content
    assert r.json()["order_status"] == "completed"
    assert_error(verify(client, w.clerk_a, w.a, qr=payload), 409, "used")
    assert [(m, res) for _, _, _, m, res in log_rows()] == [
        ("qr", "bad_signature"), ("qr", "bad_signature"), ("qr", "malformed"), ("qr", "ok"), ("qr", "used")]
    assert checks.run() == []


def test_expired_qr_is_refused(client, w):
    _, token = member()
    _, sh = ready_pickup(client, w, token)
    old = sign(QrClaims(shipment_id=sh["id"], code=sh["pickup_code"], expires_at=int(timezone.now().timestamp()) - 1),
               qr_key())
    assert_error(verify(client, w.clerk_a, w.a, qr=old), 409, "expired")
    assert Shipment.objects.get(pk=sh["id"]).status == "ready_for_pickup"


def test_wrong_store_is_refused_and_logged(client, w):
    _, token = member()
    got, sh = ready_pickup(client, w, token)
    code = sh["pickup_code"]
    # store B's clerk at store B's counter: the code belongs to store A
    err = assert_error(verify(client, w.clerk_b, w.b, code=code), 403, "wrong_store")
    assert err["details"]["shipment_id"] is None and "code" not in err["details"]  # logged, not told
    # store C's clerk claiming store A's counter: not their store
    assert_error(verify(client, w.clerk_c, w.a, code=code), 403, "forbidden")
    # a member may not verify at all
    assert_error(verify(client, token, w.a, code=code), 403, "staff_only")
    assert log_rows() == [(w.b.pk, sh["id"], code[-4:], "code", "wrong_store"),
                          (w.a.pk, None, code[-4:], "code", "forbidden")]
    assert PickupCode.objects.get(shipment_id=sh["id"]).status == "live"
    assert Order.objects.get(pk=got["id"]).status == "ready_for_pickup"


def test_used_twice_garbage_and_unknown_codes(client, w):
    _, token = member()
    _, sh = ready_pickup(client, w, token)
    code = sh["pickup_code"]
    assert verify(client, w.clerk_a, w.a, code=code).status_code == 200
    err = assert_error(verify(client, w.clerk_a, w.a, code=code), 409, "used")
    assert err["details"]["used_at"]
    assert_error(verify(client, w.clerk_a, w.a, code="12345"), 422, "malformed")
    wrong_digit = code[:-1] + str((int(code[-1]) + 1) % 10)  # the check digit refuses it
    assert_error(verify(client, w.clerk_a, w.a, code=wrong_digit), 422, "malformed")
    assert_error(verify(client, w.clerk_a, w.a, code="0000000000"), 404, "unknown")
    assert_error(verify(client, w.clerk_a, w.a, code="ab-cd"), 422, "malformed")
    assert_error(verify(client, w.clerk_a, w.a, code="1", qr="x"), 422, "invalid")
    assert [r for *_, r in log_rows()] == ["ok", "used", "malformed", "malformed", "unknown", "malformed"]
    assert log_rows()[-1][2] == ""  # no digits typed, none logged


def test_expired_code_and_not_ready(client, w, monkeypatch):
    _, token = member()
    got, sh = ready_pickup(client, w, token)
    Shipment.objects.filter(pk=sh["id"]).update(pickup_deadline=timezone.now() - timedelta(minutes=1))
    PickupCode.objects.filter(shipment_id=sh["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert_error(verify(client, w.clerk_a, w.a, code=sh["pickup_code"]), 409, "expired")
    assert Shipment.objects.get(pk=sh["id"]).status == "ready_for_pickup"

    # cancelled by the store manager while ready: the code is void, the shipment no longer ready
    _, token2 = member("王五")
    got2, sh2 = ready_pickup(client, w, token2, (w.s1, 1))
    monkeypatch.setattr(lifecycle, "_refunder", [lambda *a, **k: None])
    r = post(client, f"/api/v1/orders/{got2['id']}/cancel", {"reason": "顾客来电取消"}, w.admin, "c1")
    assert r.status_code == 200, r.content
    err = assert_error(verify(client, w.clerk_a, w.a, code=sh2["pickup_code"]), 409, "not_ready")
    assert err["details"]["shipment_status"] == "cancelled"


def test_too_many_failures_lock_the_counter(client, w, settings):
    settings.O2O = {**settings.O2O, "PICKUP_MAX_FAILURES_PER_HOUR": 3}
    _, token = member()
    _, sh = ready_pickup(client, w, token)
    assert_error(verify(client, w.clerk_a, w.a, code="12"), 422, "malformed")  # not a look-up: not counted
    for _ in range(4):  # another store's staff cannot lock this counter
        assert_error(verify(client, w.clerk_c, w.a, code="0000000000"), 403, "forbidden")
    for _ in range(3):
        assert_error(verify(client, w.clerk_a, w.a, code="0000000000"), 404, "unknown")
    err = assert_error(verify(client, w.clerk_a, w.a, code=sh["pickup_code"]), 429, "too_many_attempts")
    assert err["details"]["limit"] == 3
    assert Shipment.objects.get(pk=sh["id"]).status == "ready_for_pickup"
    # another store is not affected; an hour later this one works again
    assert_error(verify(client, w.clerk_b, w.b, code="0000000000"), 404, "unknown")
    PickupVerification.objects.update(at=timezone.now() - timedelta(hours=1, seconds=1))
    assert verify(client, w.clerk_a, w.a, code=sh["pickup_code"]).status_code == 200
    assert [r for *_, r in log_rows()] == ["malformed"] + ["forbidden"] * 4 + ["unknown"] * 3 + ["throttled", "unknown", "ok"]


def test_history_records_the_clerk(client, w):
    _, token = member()
    got, sh = ready_pickup(client, w, token)
    verify(client, w.clerk_a, w.a, code=sh["pickup_code"])
    done = OrderEvent.objects.get(shipment_id=sh["id"], to_status="completed")
    assert done.actor_label.startswith("staff:") and done.user_id is not None


def test_goods_no_longer_held_refuse_the_handover(client, w):
    from o2o.inventory.ledger import Who
    from o2o.inventory.reservations import reservation_release

    _, token = member()
    got, sh = ready_pickup(client, w, token)
    res = Reservation.objects.get(reference=got["number"])
    reservation_release(reservation_id=res.pk, who=Who(label="test"), reason="stock count")
    err = assert_error(verify(client, w.clerk_a, w.a, code=sh["pickup_code"]), 409, "not_ready")
    assert err["details"]["problem"] == "reservation_not_active"
    assert PickupCode.objects.get(shipment_id=sh["id"]).status == "live"
    assert Shipment.objects.get(pk=sh["id"]).status == "ready_for_pickup"
    assert log_rows()[-1][-1] == "not_ready"
    assert checks.run() == []
