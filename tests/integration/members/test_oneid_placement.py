"""Placing an order re-reads the member under a lock: a merged or deleted member gets 409 member_inactive."""

from __future__ import annotations

import pytest
from django.db import transaction

from o2o.accounts.models import Member
from o2o.common.errors import Conflict
from o2o.members.merge import member_merge
from o2o.members.privacy import member_erase
from o2o.orders.actors import By
from o2o.orders.models import Order
from o2o.orders.placement import PlaceRequest, order_place
from tests.factories import member
from tests.integration.fulfilment.world import P, build

pytestmark = pytest.mark.django_db


def place(w, m: Member) -> Order:  # noqa: ANN001 - the fulfilment world
    req = PlaceRequest(lines=[(w.s1.pk, 1)], channel="h5", choice="same_city", lat=P.lat, lng=P.lng)
    with transaction.atomic():
        return order_place(req=req, member=m, by=By(member_id=m.pk, label="test"))


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def test_an_active_member_places_and_a_merged_one_is_refused(w):
    a, _ = member("甲")
    b, _ = member("乙")
    assert place(w, b).member_id == b.pk
    stale = Member.objects.get(pk=b.pk)  # what the request authenticated, before the merge
    member_merge(survivor_id=a.pk, merged_id=b.pk, now=w.now)
    with pytest.raises(Conflict) as refused:
        place(w, stale)
    assert refused.value.code == "member_inactive" and refused.value.details == {"member_id": b.pk,
                                                                                 "merged_into": a.pk}
    assert "会员" in refused.value.message and "member" in refused.value.message
    assert not Order.objects.filter(member=b).exists() and Order.objects.filter(member=a).count() == 1
    assert place(w, a).member_id == a.pk


def test_a_deleted_member_is_refused(w):
    c, _ = member("丙")
    stale = Member.objects.get(pk=c.pk)
    member_erase(member_id=c.pk, reason="")
    with pytest.raises(Conflict) as refused:
        place(w, stale)
    assert refused.value.code == "member_inactive" and refused.value.details == {"member_id": c.pk}
    assert not Order.objects.filter(member=c).exists()
