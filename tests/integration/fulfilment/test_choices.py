"""Choices: ``same_city`` and ``express`` route exactly as the quote's options of those kinds (one
mapping, ``models.routing_of``), re-routes keep them, and any aware ``now`` is read in local time."""

from __future__ import annotations

import typing
from datetime import UTC

import pytest
from django.db import transaction

from o2o.common.errors import InvalidInput
from o2o.core.routing import Choice, Mode
from o2o.fulfilment import clock, quotes
from o2o.fulfilment.decisions import decision_create
from o2o.fulfilment.models import ChoiceKind, RoutingDecision, routing_of
from o2o.fulfilment.reroute import shipment_reject
from o2o.fulfilment.schemas import ChoiceIn
from o2o.inventory import checks
from o2o.inventory.ledger import Who
from o2o.orders.actors import By
from o2o.orders.api.schemas import OrderIn
from o2o.orders.checkout import checkout_quote
from o2o.orders.models import FulfilmentChoice
from o2o.orders.placement import PlaceRequest, order_place
from tests.factories import member
from tests.integration.fulfilment.world import P, build

pytestmark = pytest.mark.django_db

WHO = Who(label="test")


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def cart(w):
    return [(w.s1.pk, 2), (w.s2.pk, 1)]


def option(q, kind):
    return next(o for o in q["options"] if o["kind"] == kind)


def route(w, choice, ref="CH-1", now=None):
    return decision_create(order_ref=ref, lines=cart(w), lat=P.lat, lng=P.lng, coord="gcj02", choice=choice,
                           pickup_location_id=None, who=WHO, now=now)


# --- one definition -----------------------------------------------------------------------

def test_every_choice_kind_is_routed_and_the_api_and_orders_agree():
    assert routing_of("same_city") == (Choice.FASTEST, frozenset({Mode.SAME_CITY}))
    assert routing_of("express") == (Choice.CHEAPEST, frozenset({Mode.EXPRESS}))
    assert routing_of("pickup") == (Choice.PICKUP, None) and routing_of("any") == (Choice.ANY, None)
    kinds = {c.value for c in ChoiceKind}
    assert all(routing_of(k) for k in kinds)
    assert set(typing.get_args(ChoiceIn)) == kinds
    assert set(typing.get_args(OrderIn.model_fields["choice"].annotation)) == kinds
    assert {c.value for c in FulfilmentChoice} - {FulfilmentChoice.COUNTER.value} == kinds
    with pytest.raises(InvalidInput) as err:
        routing_of("counter")
    assert err.value.code == "invalid_choice"


# --- placement routes what was quoted -----------------------------------------------------

@pytest.mark.parametrize("kind", ["express", "same_city"])
def test_a_decision_with_an_option_kind_gets_the_quoted_plan(w, kind):
    quoted = option(quotes.quote(lines=cart(w), lat=P.lat, lng=P.lng), kind)
    d = route(w, kind)
    assert d.choice == kind and d.inputs["modes"] == [kind]
    assert d.cash_fen == quoted["fee_fen"]
    got = [(s.location_id, s.mode, s.eta_earliest, s.eta_latest) for s in d.shipments.order_by("location_id")]
    want = sorted((s["location_id"], s["mode"], s["eta"]["earliest"], s["eta"]["latest"]) for s in quoted["shipments"])
    assert got == want
    assert {s.mode for s in d.shipments.all()} == {kind}
    if kind == "express":
        assert [s.location_id for s in d.shipments.all()] == [w.w.pk]  # the warehouse, not a nearby store
    assert checks.run() == []


def test_an_express_order_stays_express_only_when_rerouted(w):
    d = route(w, "express")
    [sh] = d.shipments.all()
    again = shipment_reject(shipment_id=sh.pk, reason="仓库停电", who=WHO)
    # No other location ships express: the lines are unfilled, not moved to a same-city store.
    assert again.choice == "express" and again.inputs["modes"] == ["express"]
    assert again.shipments.count() == 0 and {u["sku_id"] for u in again.plan["unfilled"]} == {w.s1.pk, w.s2.pk}
    assert checks.run() == []


def test_a_same_city_order_is_rerouted_same_city(w):
    d = route(w, "same_city")
    [sh] = d.shipments.all()
    assert sh.location_id == w.a.pk
    again = shipment_reject(shipment_id=sh.pk, reason="忙", who=WHO)
    assert again.choice == "same_city" and again.parent_id == d.pk
    assert [(s.location_id, s.mode) for s in again.shipments.all()] == [(w.b.pk, "same_city")]


def test_cheapest_still_routes_over_every_mode(w):
    d = route(w, "cheapest")
    assert d.choice == "cheapest" and "modes" not in d.inputs
    assert RoutingDecision.objects.get(pk=d.pk).plan["choice"] == "cheapest"


# --- local time ---------------------------------------------------------------------------

def late_evening(w):
    """22:30 in Shanghai (14:30 UTC): night surcharge, after the express cut-off, a pickup at 22:45."""
    return w.now.replace(hour=22, minute=30)


def test_a_utc_now_quotes_like_the_same_local_instant(w):
    local = late_evening(w)
    utc = local.astimezone(UTC)
    assert utc.hour == 14 and utc == local
    by_local = quotes.quote(lines=cart(w), lat=P.lat, lng=P.lng, now=local)
    by_utc = quotes.quote(lines=cart(w), lat=P.lat, lng=P.lng, now=utc)
    assert by_utc["now"].utcoffset() == local.utcoffset() and by_utc["now"] == local
    assert by_utc["options"] == by_local["options"]
    assert "今天 22:45 前可取" in option(by_utc, "pickup")["label"]
    assert "后天送达" in option(by_utc, "express")["label"]  # ready after the 20:00 cut-off: ships tomorrow
    same_city = option(by_utc, "same_city")["shipments"][0]
    assert same_city["eta"]["earliest"].hour == 23  # a local hour, not 15 (UTC)


def test_a_decision_with_a_utc_now_routes_like_the_local_quote(w):
    local = late_evening(w)
    quoted = option(quotes.quote(lines=cart(w), lat=P.lat, lng=P.lng, now=local), "same_city")
    d = route(w, "same_city", now=local.astimezone(UTC))
    assert d.cash_fen == quoted["fee_fen"]
    assert d.plan["shipments"][0]["cost"]["courier_night_fen"] > 0  # 22:30 local is night
    [sh] = d.shipments.all()
    assert (sh.eta_earliest, sh.eta_latest) == (quoted["eta"]["earliest"], quoted["eta"]["latest"])
    assert d.inputs["now"] == local.isoformat()  # stored as the local instant it is


def test_a_naive_now_is_local_wall_time(w):
    local = late_evening(w)
    assert clock.local(local.replace(tzinfo=None)) == local
    assert clock.local(None) == w.now  # the routing clock (moved by the world)


def test_the_checkout_quote_defaults_to_the_routing_clock(w):
    q = checkout_quote(lines=cart(w), channel="h5", lat=P.lat, lng=P.lng)
    pickup = option(q, "pickup")
    assert "今天 10:15 前可取" in pickup["label"]  # the world's clock: 10:00 local plus the 15 min prep
    assert pickup["detail"]["ready_by"] == w.now.replace(minute=15)


def test_an_order_placed_with_a_utc_now_is_routed_in_local_time(w):
    local = late_evening(w)
    quoted = option(checkout_quote(lines=cart(w), channel="h5", lat=P.lat, lng=P.lng, now=local), "same_city")
    m, _ = member()
    req = PlaceRequest(lines=cart(w), channel="h5", choice="same_city", lat=P.lat, lng=P.lng,
                       expected_total_fen=quoted["total_fen"])
    with transaction.atomic():
        order = order_place(req=req, member=m, by=By(member_id=m.pk, label="test"), now=local.astimezone(UTC))
    d = order.routing_decision
    assert d.inputs["now"] == local.isoformat() and d.cash_fen == quoted["detail"]["fee_fen"]
    assert d.plan["shipments"][0]["cost"]["courier_night_fen"] > 0
    [sh] = order.shipments.all()
    assert (sh.eta_earliest, sh.eta_latest) == (quoted["detail"]["eta"]["earliest"], quoted["detail"]["eta"]["latest"])
