"""积分活动: an order placed inside a points campaign's window, on its channel (and UTM campaign, when set),
earns its points times the campaign's multiplier; the best campaign wins; the lot records it; refunds take
back the same share of the multiplied points."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from o2o.members.handlers import earn_for_order, reverse_for_order
from o2o.members.models import PointsCampaign, PointsLot
from o2o.members.selectors import available_points
from o2o.orders.models import Order
from tests.factories import member, sku
from tests.integration.reviews.world import order_with_lines

pytestmark = pytest.mark.django_db


def placed(channel: str = "mini_program", utm: str = "", fen: int = 12_345) -> Order:
    m, _ = member()
    o, _ = order_with_lines(m, sku(), fen=fen, channel=channel)
    Order.objects.filter(pk=o.pk).update(utm_campaign=utm)
    o.refresh_from_db()
    return o


def campaign(code: str, percent: int, order: Order, **kw) -> PointsCampaign:  # noqa: ANN003
    return PointsCampaign.objects.create(code=code, name=code, multiplier_percent=percent,
                                         starts_at=order.created_at - timedelta(hours=1),
                                         ends_at=order.created_at + timedelta(hours=1), **kw)


def test_no_campaign_earns_the_plain_rate():
    o = placed()
    assert earn_for_order(o, o.created_at) == 123  # ¥123.45 at 1 point a yuan
    assert PointsLot.objects.get(ref=f"order:{o.pk}").campaign == ""


def test_double_points_in_the_window_on_its_channel_and_the_best_one_wins():
    o = placed("mini_program")
    campaign("double-11", 200, o, channels=["mini_program", "app"])
    campaign("one-and-a-half", 150, o)
    campaign("pos-triple", 300, o, channels=["pos"])  # another channel: not this order
    assert earn_for_order(o, o.created_at) == 246
    lot = PointsLot.objects.get(ref=f"order:{o.pk}")
    assert lot.campaign == "double-11" and available_points(o.member_id) == 246


def test_outside_the_window_inactive_or_another_utm_campaign_does_not_multiply():
    o = placed(utm="spring")
    c = campaign("later", 300, o)
    PointsCampaign.objects.filter(pk=c.pk).update(starts_at=o.created_at + timedelta(minutes=1))
    campaign("off", 300, o, active=False)
    campaign("summer-only", 300, o, utm_campaign="summer")
    campaign("spring-x1.5", 150, o, utm_campaign="spring")
    assert earn_for_order(o, o.created_at) == 185  # floor(123.45 x 1.5)


def test_a_refund_takes_back_the_multiplied_share():
    o = placed(fen=10_000)
    campaign("double", 200, o)
    assert earn_for_order(o, o.created_at) == 200
    Order.objects.filter(pk=o.pk).update(refunded_fen=5_000)
    o.refresh_from_db()
    assert reverse_for_order(o, "return:1", o.created_at) == 100
    assert available_points(o.member_id) == 100


def test_the_database_refuses_a_nonsense_campaign():
    o = placed()
    for bad in ({"multiplier_percent": 0}, {"multiplier_percent": 5000}):
        with pytest.raises(IntegrityError), transaction.atomic():
            campaign("bad", bad["multiplier_percent"], o)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsCampaign.objects.create(code="backwards", name="x", multiplier_percent=200,
                                      starts_at=o.created_at, ends_at=o.created_at - timedelta(days=1))
