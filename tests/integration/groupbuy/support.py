"""Helpers of the group-buying tests (no tests here): deals, joins through the services, real sandbox
payments, and the fulfilment network of ``tests.integration.fulfilment.world`` (customer P, stores A and B
near P, warehouse W far away)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from o2o.groupbuy import groups
from o2o.groupbuy.models import CommunityLeader, GroupDeal, GroupMember
from o2o.orders import couriers, gateways, payments
from o2o.orders.actors import By
from o2o.orders.models import Order, Payment
from o2o.orders.payment_notices import notice_handle
from tests.integration.fulfilment.world import P


def deal(w, *, size: int = 3, price_fen: int = 600, hours: int = 24, store=None, limit: int = 1,  # noqa: ANN001
         sku=None, **kw) -> GroupDeal:
    now = timezone.now()
    return GroupDeal.objects.create(name=kw.pop("name", f"{size}人团"), sku=sku or w.s1, deal_price_fen=price_fen,
                                    group_size=size, window_hours=hours, starts_at=now - timedelta(hours=1),
                                    ends_at=now + timedelta(days=7), store=store, member_limit=limit, **kw)


def pickup_at(loc) -> groups.Fulfil:  # noqa: ANN001
    return groups.Fulfil(channel="mini_program", choice="pickup", lat=P.lat, lng=P.lng, pickup_location_id=loc.pk)


def by(mem) -> By:  # noqa: ANN001
    return By(member_id=mem.pk, label=f"member:{mem.pk}")


def open_group(w, d: GroupDeal, mem, *, qty: int = 1, fulfil=None) -> GroupMember:  # noqa: ANN001
    with transaction.atomic():
        return groups.group_open(deal_id=d.pk, member=mem, qty=qty, fulfil=fulfil or pickup_at(w.a), by=by(mem))


def join(w, group_id: int, mem, *, qty: int = 1, fulfil=None) -> GroupMember:  # noqa: ANN001
    """Join as the API does: the join's transaction, then the release if it filled the group."""
    with transaction.atomic():
        place = groups.group_join(group_id=group_id, member=mem, qty=qty, fulfil=fulfil or pickup_at(w.a),
                                  by=by(mem))
    groups.group_release(group_id)
    return place


def pay(order_id: int, provider: str = "wechat") -> Payment:
    """Pay the order through the sandbox gateway and its signed notice (as the provider would)."""
    order = Order.objects.get(pk=order_id)
    payment, _ = payments.payment_create(order_id=order_id, provider=provider, member_id=order.member_id,
                                         payer_id="openid-test", client_ip="127.0.0.1")
    headers, data = gateways.sandbox_pay(payment)
    result = notice_handle(provider, headers, data)
    assert result.outcome == "applied", result
    return Payment.objects.get(pk=payment.pk)


def leader(w, mem, *, lat: float | None = None, lng: float | None = None, name: str = "幸福里团长",  # noqa: ANN001
           location=None) -> CommunityLeader:
    return CommunityLeader.objects.create(member=mem, name=name, address="幸福里小区 3 号楼门卫室",
                                          lat=P.lat if lat is None else lat, lng=P.lng if lng is None else lng,
                                          location=location or w.a)


# --- community runs: autouse fixtures for the modules that import them -------------------------

@pytest.fixture(autouse=True)
def book_at_once(settings):
    """The day runs as if it were the slot's morning: a run may book its courier at once (by default it
    waits for ``runs.dispatch_at``; ``test_community_runs.py`` tests that wait)."""
    settings.O2O = {**settings.O2O, "COMMUNITY_DISPATCH_LEAD_MIN": 4 * 24 * 60}


@pytest.fixture(autouse=True)
def fresh_couriers():
    couriers.reset()
    yield
    couriers.reset()
