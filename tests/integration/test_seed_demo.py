"""seed-demo on a smaller catalog (top 200): network, stock = ledger, popularity, idempotence."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.db.models import Sum

from o2o.accounts.models import ApiToken, User, hash_token
from o2o.catalog.importer import read_cj_catalog
from o2o.catalog.models import Sku
from o2o.demo.seed import DEMO_ACCOUNTS, DEMO_MEMBER_TOKEN, carry_probability, opening_stock, seed_demo
from o2o.inventory.models import Movement, Stock
from o2o.stores.models import Location, LocationKind, Region

TOP = 200
# Shanghai's extent, with a little margin (GCJ-02).
SH_LAT, SH_LNG = (30.6, 31.95), (120.8, 122.3)


def test_carry_probability_decays_with_rank():
    probs = [carry_probability(r, 3000) for r in range(3000)]
    assert probs[0] == probs[299] == 0.97 and probs[300] < 0.97
    assert all(a >= b for a, b in zip(probs, probs[1:], strict=False))
    assert 0.02 <= probs[-1] < 0.15


def test_opening_stock_is_deterministic():
    locations = [(1, "store"), (2, "store"), (3, "warehouse"), (4, "dark_store")]
    velocity = [(100 + i, 50.0 / (i + 1)) for i in range(100)]
    plan = opening_stock(locations, velocity)
    assert plan == opening_stock(locations, velocity)
    assert {sku for loc, sku, _ in plan if loc == 3} == {s for s, _ in velocity}  # warehouses carry everything
    assert all(q > 0 for _, _, q in plan)


def stock_matches_ledger() -> bool:
    stock = {(r["location_id"], r["sku_id"]): (r["on_hand"], r["reserved"]) for r in
             Stock.objects.values("location_id", "sku_id").annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))}
    ledger = {(r["location_id"], r["sku_id"]): (r["on_hand"], r["reserved"]) for r in
              Movement.objects.values("location_id", "sku_id").annotate(on_hand=Sum("delta_on_hand"),
                                                                         reserved=Sum("delta_reserved"))}
    return stock == ledger


@pytest.mark.django_db(transaction=False)
def test_seed_demo_builds_the_network_and_is_idempotent():
    report = seed_demo(top_n=TOP)
    assert report.changed and report.stock_created > 0

    kinds = Counter(Location.objects.values_list("kind", flat=True))
    assert kinds == {LocationKind.STORE: 139, LocationKind.WAREHOUSE: 2, LocationKind.DARK_STORE: 1}
    stores = Location.objects.filter(kind=LocationKind.STORE).order_by("code")
    assert stores.first().code == "SH001" and stores.last().code == "SH139"
    for loc in Location.objects.all():
        assert SH_LAT[0] < loc.lat < SH_LAT[1] and SH_LNG[0] < loc.lng < SH_LNG[1], loc.code
    assert all(20 <= s.pick_capacity_per_hour <= 40 and s.can_pickup and s.can_same_city for s in stores)
    assert not Location.objects.filter(kind=LocationKind.WAREHOUSE, can_pickup=True).exists()
    assert not Location.objects.filter(kind=LocationKind.WAREHOUSE, can_express=False).exists()

    hq = Region.objects.get(parent=None)
    assert hq.code == "HQ" and Region.objects.filter(parent=hq).count() == 18
    assert not Location.objects.exclude(region__parent=hq).exists()

    # Stock equals the ledger, one opening receipt per row.
    assert Stock.objects.count() == Movement.objects.count() == report.stock_created
    assert stock_matches_ledger()
    assert not Stock.objects.filter(on_hand__lte=0).exists()

    # Popular SKUs are in more stores than the tail; warehouses carry everything.
    ranked = [Sku.objects.get(code=i.row.sku_code).pk for i in read_cj_catalog(top_n=TOP)]
    per_sku = Counter(Stock.objects.filter(location__kind=LocationKind.STORE).values_list("sku_id", flat=True))
    head = sum(per_sku[s] for s in ranked[:20]) / 20
    tail = sum(per_sku[s] for s in ranked[-100:]) / 100
    assert head > 120 and tail < 40 and head > 3 * tail
    for wh in Location.objects.filter(kind=LocationKind.WAREHOUSE):
        assert Stock.objects.filter(location=wh).count() == TOP

    # Demo accounts and their published tokens.
    sh001 = Location.objects.get(code="SH001")
    clerk = ApiToken.objects.get(key_hash=hash_token("demo-clerk-token")).user
    assert clerk.role == "clerk" and clerk.location_id == sh001.pk
    rm = User.objects.get(username="region-manager")
    assert rm.scope == "region" and rm.region_id == sh001.region_id
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("o2o-admin-2026")
    assert ApiToken.objects.get(key_hash=hash_token(DEMO_MEMBER_TOKEN)).member is not None
    assert ApiToken.objects.count() == len(DEMO_ACCOUNTS) + 1

    # A second run creates nothing and is quick.
    counts = (Region.objects.count(), Location.objects.count(), Sku.objects.count(), Stock.objects.count(),
              Movement.objects.count(), User.objects.count(), ApiToken.objects.count())
    stamps = dict(Location.objects.values_list("pk", "updated_at"))
    started = time.monotonic()
    again = seed_demo(top_n=TOP)
    assert time.monotonic() - started < 5
    assert not again.changed and again.catalog_skipped
    assert counts == (Region.objects.count(), Location.objects.count(), Sku.objects.count(), Stock.objects.count(),
                      Movement.objects.count(), User.objects.count(), ApiToken.objects.count())
    assert stamps == dict(Location.objects.values_list("pk", "updated_at"))
