"""The console's counter: pickup codes (right store, wrong store, wrong code), member look-up, a return."""

from __future__ import annotations

import pytest

from o2o.accounts.pii_services import member_set_phone
from o2o.core.orders.pickup_code import damm_check_digit
from o2o.orders import lifecycle
from o2o.orders.models import Order, PickupCode, PickupVerification, Return, Shipment
from tests.e2e.orders.picking import console_pick_all
from tests.e2e.orders.test_pickup_flow import pay, place_pickup
from tests.e2e.web.test_console_queue import clerk_a, clerk_c, paid_pickup, signed_in, w  # noqa: F401
from tests.factories import figures, member

pytestmark = pytest.mark.django_db


def ready_code(client, w, clerk) -> tuple[int, str]:  # noqa: ANN001, F811
    """A pickup order at A, paid and marked ready through the console; (shipment id, its live code)."""
    _, sid = paid_pickup(client, w)
    signed_in(client, clerk)
    console_pick_all(client, sid)
    assert client.post(f"/console/shipments/{sid}/ready", {"idem": f"r-{sid}"}).status_code == 302
    return sid, PickupCode.objects.get(shipment_id=sid, status="live").code


def test_wrong_codes_are_refused_with_4xx(client, w, clerk_a):  # noqa: F811
    signed_in(client, clerk_a)
    page = client.get(f"/console/s/{w.a.pk}/counter").content.decode()
    assert 'data-testid="pickup-code-input"' in page and 'data-testid="coupon-card"' in page
    malformed = client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": "1234567890", "idem": "v1"})
    assert malformed.status_code == 422
    assert 'data-testid="verify-result"' in malformed.content.decode() and "取货码格式不正确" in malformed.content.decode()
    body = "123456789"
    unknown = client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": body + damm_check_digit(body), "idem": "v2"})
    assert unknown.status_code == 404 and "没有这个取货码" in unknown.content.decode()
    empty = client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": "", "idem": "v3"})
    assert empty.status_code == 400 and "请输入取货码" in empty.content.decode()
    assert list(PickupVerification.objects.values_list("result", flat=True).order_by("pk")) == ["malformed", "unknown"]


def test_verify_at_the_right_store_only(client, w, clerk_a, clerk_c):  # noqa: F811
    sid, code = ready_code(client, w, clerk_a)
    signed_in(client, clerk_c)
    r = client.post(f"/console/s/{w.c.pk}/counter/verify", {"code": code, "idem": "c1"})  # C's own counter
    assert r.status_code == 403 and "不属于本店" in r.content.decode()
    assert client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": code, "idem": "c2"}).status_code == 403
    assert client.get(f"/console/s/{w.a.pk}/counter").status_code == 403
    assert Shipment.objects.get(pk=sid).status == "ready_for_pickup"
    assert PickupCode.objects.get(shipment_id=sid).status == "live"

    signed_in(client, clerk_a)
    on_hand = figures(w.a, w.s1)[0]
    typed = f"{code[:4]} {code[4:8]} {code[8:]}"
    ok = client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": typed, "idem": "a1"})
    html = ok.content.decode()
    assert ok.status_code == 200 and 'data-result="ok"' in html and "核销成功" in html
    order = Order.objects.get(shipments__pk=sid)
    assert order.status == "completed" and order.number in html
    assert figures(w.a, w.s1)[0] == on_hand - 2
    again = client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": typed, "idem": "a1"})  # double submit
    assert again.status_code == 200 and "重复提交" in again.content.decode()
    used = client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": typed, "idem": "a2"})
    assert used.status_code == 409 and "已核销" in used.content.decode()
    results = list(PickupVerification.objects.order_by("pk").values_list("location_id", "result"))
    assert results == [(w.c.pk, "wrong_store"), (w.a.pk, "forbidden"), (w.a.pk, "ok"), (w.a.pk, "used")]


def test_member_lookup_is_masked(client, w, clerk_a, clerk_c):  # noqa: F811
    m, token = member("王五")
    member_set_phone(member=m, phone="13912345678")
    o = place_pickup(client, w, token)
    pay(o["id"])
    signed_in(client, clerk_a)
    r = client.post(f"/console/s/{w.a.pk}/counter/member", {"phone": "139 1234 5678"})
    html = r.content.decode()
    assert r.status_code == 200 and "王五" in html and m.phone_masked in html and o["number"] in html
    assert "13912345678" not in html
    bad = client.post(f"/console/s/{w.a.pk}/counter/member", {"phone": "12"})
    assert bad.status_code == 400 and "手机号格式不正确" in bad.content.decode()
    signed_in(client, clerk_c)  # no order at C: the member is not C's to see
    r = client.post(f"/console/s/{w.c.pk}/counter/member", {"phone": "13912345678"})
    assert r.status_code == 404 and "王五" not in r.content.decode()


def test_return_at_the_counter(client, w, clerk_a, monkeypatch):  # noqa: F811
    asked = []
    monkeypatch.setattr(lifecycle, "_refunder", [lambda order, amount_fen, reason, by, order_return=None:
                                                 asked.append(amount_fen)])
    sid, code = ready_code(client, w, clerk_a)
    order = Order.objects.get(shipments__pk=sid)
    line = order.lines.get(sku_id=w.s1.pk)
    found = client.get(f"/console/s/{w.a.pk}/counter", {"order": order.number})
    assert found.status_code == 200 and f'name="qty_{line.pk}"' in found.content.decode()
    # Not handed over yet: the service refuses, nothing changes.
    form = {"order": order.number, f"qty_{line.pk}": "1", "reason": "买多了", "idem": "ret-1"}
    early = client.post(f"/console/s/{w.a.pk}/counter/return", form)
    assert early.status_code == 409 and "退货数量超过可退数量" in early.content.decode()
    assert client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": code, "idem": "v"}).status_code == 200
    on_hand = figures(w.a, w.s1)[0]
    none = client.post(f"/console/s/{w.a.pk}/counter/return", {**form, f"qty_{line.pk}": "", "idem": "ret-2"})
    assert none.status_code == 400 and "请至少填写一件" in none.content.decode()
    done = client.post(f"/console/s/{w.a.pk}/counter/return", {**form, "idem": "ret-3"})
    assert done.status_code == 200 and 'data-testid="return-result"' in done.content.decode()
    again = client.post(f"/console/s/{w.a.pk}/counter/return", {**form, "idem": "ret-3"})  # reload: replayed
    assert again.status_code == 200 and "重复提交" in again.content.decode()
    ret = Return.objects.get(order=order)
    assert ret.status == "refunded" and asked == [ret.refund_fen] and ret.refund_fen == line.payable_fen // 2
    assert figures(w.a, w.s1)[0] == on_hand + 1
