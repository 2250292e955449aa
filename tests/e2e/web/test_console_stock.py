"""The console's stock page (look-up, adjust, count, transfers) and today's figures (managers only)."""

from __future__ import annotations

import pytest

from o2o.inventory.models import Movement, Transfer
from tests.e2e.web.test_console_queue import clerk_a, paid_pickup, signed_in, w  # noqa: F401
from tests.factories import figures, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_a(w):  # noqa: F811
    return staff("store_manager", loc=w.a)[0]


def test_lookup_and_adjust_needs_a_reason(client, w, clerk_a, manager_a):  # noqa: F811
    signed_in(client, clerk_a)
    r = client.get(f"/console/s/{w.a.pk}/stock", {"q": w.s1.barcode})
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="stock-item"' in html and w.s1.name in html
    assert "调整库存需要店长权限" in html
    before, moves = figures(w.a, w.s1), Movement.objects.count()
    form = {"sku_id": w.s1.pk, "delta": "-2", "reason": "破损报损", "idem": "adj-1"}
    assert client.post(f"/console/s/{w.a.pk}/stock/adjust", form).status_code == 403  # a clerk may not adjust

    signed_in(client, manager_a)
    missing = client.post(f"/console/s/{w.a.pk}/stock/adjust", {**form, "reason": "  "})
    assert missing.status_code == 400 and "请填写调整原因" in missing.content.decode()
    zero = client.post(f"/console/s/{w.a.pk}/stock/adjust", {**form, "delta": "0"})
    assert zero.status_code == 400 and "不能为 0" in zero.content.decode()
    assert figures(w.a, w.s1) == before and Movement.objects.count() == moves
    ok = client.post(f"/console/s/{w.a.pk}/stock/adjust", form)
    assert ok.status_code == 302 and ok["Location"] == f"/console/s/{w.a.pk}/stock?sku={w.s1.pk}"
    assert client.post(f"/console/s/{w.a.pk}/stock/adjust", form).status_code == 302  # double submit: once
    assert figures(w.a, w.s1) == (before[0] - 2, before[1])
    too_many = client.post(f"/console/s/{w.a.pk}/stock/adjust", {**form, "delta": "-1000", "idem": "adj-2"})
    assert too_many.status_code == 409 and "可用库存不足" in too_many.content.decode()


def test_count_and_transfer(client, w, manager_a):  # noqa: F811
    signed_in(client, manager_a)
    form = {"sku_id": w.s2.pk, "counted": "7", "idem": "cnt-1"}
    assert client.post(f"/console/s/{w.a.pk}/stock/count", form).status_code == 302
    assert client.post(f"/console/s/{w.a.pk}/stock/count", form).status_code == 302  # same event: a duplicate
    assert figures(w.a, w.s2) == (7, 0)
    ship = {"sku_id": w.s2.pk, "destination": w.b.pk, "qty": "3", "reference": "", "idem": "tr-1"}
    assert client.post(f"/console/s/{w.a.pk}/transfers", {**ship, "destination": ""}).status_code == 400
    assert client.post(f"/console/s/{w.a.pk}/transfers", ship).status_code == 302
    assert client.post(f"/console/s/{w.a.pk}/transfers", ship).status_code == 302
    t = Transfer.objects.get()
    assert figures(w.a, w.s2) == (4, 0)
    assert client.post(f"/console/s/{w.a.pk}/transfers/{t.pk}/receive", {}).status_code == 404  # not A's to receive
    clerk_b = staff("clerk", loc=w.b)[0]
    signed_in(client, clerk_b)
    page = client.get(f"/console/s/{w.b.pk}/stock").content.decode()
    assert f'data-testid="incoming-{t.pk}"' in page
    before_b = figures(w.b, w.s2)[0]
    assert client.post(f"/console/s/{w.b.pk}/transfers/{t.pk}/receive", {f"recv_{w.s2.pk}": "3"}).status_code == 302
    assert client.post(f"/console/s/{w.b.pk}/transfers/{t.pk}/receive", {f"recv_{w.s2.pk}": "3"}).status_code == 302
    assert figures(w.b, w.s2)[0] == before_b + 3


def test_figures_for_managers_only(client, w, clerk_a, manager_a):  # noqa: F811
    paid_pickup(client, w)
    signed_in(client, clerk_a)
    assert client.get(f"/console/s/{w.a.pk}/figures").status_code == 403
    assert 'data-testid="nav-figures"' not in client.get(f"/console/s/{w.a.pk}/queue").content.decode()
    signed_in(client, manager_a)
    r = client.get(f"/console/s/{w.a.pk}/figures")
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="fig-shipments">1<' in html and 'data-testid="fig-pickup-share">100%' in html
    assert client.get(f"/console/s/{w.c.pk}/figures").status_code == 403  # another store's figures
