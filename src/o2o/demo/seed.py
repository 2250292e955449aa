"""``o2o seed-demo``: the Shanghai demo network, its catalog, opening stock and demo accounts.

Idempotent: every row is found by its code (or key) first, so a second run writes nothing;
when the opening stock is already complete it also skips re-reading the sales data.

* **Network**: HQ > the 18 districts; 139 世纪华联 stores, 2 central warehouses and 1 dark
  store (see ``o2o.stores.network``).
* **Catalog**: the top ``top_n`` CJ products by sales (``o2o.catalog.importer``).
* **Opening stock** (``random.Random(2017)``, so every run draws the same numbers): SKUs are
  ranked by sales. A store carries a SKU of rank ``r`` (0 = best seller) with probability
  ``0.97`` for the head (the top 10 %: 300 of 3000) and ``0.97 * head / (r + 1)`` (at least
  2 %) below it, so the top sellers are in nearly every store and the tail is in a few
  (rank 3000: about one store in ten). Quantity: ``velocity x 0.3 x U(0.6, 1.4)``, at least 2,
  where velocity is the CJ units sold per week. The dark store has a head of 30 % and keeps
  half a week of velocity; warehouses carry everything, six weeks deep (at least 24).
  Each (location, SKU) gets one ``Stock`` row and one ``receive`` ``Movement`` with the same
  quantity, so stock equals the ledger sum.
* **Accounts**: demo staff of every role with fixed passwords and bearer tokens, and one
  demo member (see :data:`DEMO_ACCOUNTS`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction

from o2o.accounts.models import ApiToken, Member, User, hash_token
from o2o.accounts.pii_services import member_set_phone
from o2o.catalog.importer import import_catalog
from o2o.catalog.models import Sku
from o2o.demo.marketing_seed import seed_marketing
from o2o.inventory.models import Movement, MovementKind, Stock
from o2o.stores.models import Location, LocationKind, Region
from o2o.stores.network import HQ_CODE, HQ_NAME, demo_network
from o2o.stores.services import location_upsert, region_ensure

SEED_RNG = 2017
SEED_REFERENCE = "seed-demo"
DEMO_MEMBER_PHONE = "13800000000"  # a demo number (138****0000)
OPENING_AT = datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
BATCH = 5_000


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    password: str
    role: str
    scope: str  # hq | region | store
    token: str
    label: str
    superuser: bool = False


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "o2o-admin-2026", "hq_admin", "hq", "demo-hq-admin-token", "总部管理员 HQ admin", True),
    DemoAccount("region-manager", "o2o-demo-2026", "region_manager", "region", "demo-region-manager-token",
                "区域经理 region manager (SH001's district)"),
    DemoAccount("sh001-manager", "o2o-demo-2026", "store_manager", "store", "demo-store-manager-token",
                "店长 store manager of SH001"),
    DemoAccount("sh001-clerk", "o2o-demo-2026", "clerk", "store", "demo-clerk-token", "店员 clerk of SH001"),
    DemoAccount("service", "o2o-demo-2026", "customer_service", "hq", "demo-customer-service-token",
                "客服 customer service (HQ)"),
    DemoAccount("marketing", "o2o-demo-2026", "marketing", "hq", "demo-marketing-token", "市场 marketing (HQ)"),
)
DEMO_MEMBER_NAME = "演示会员 Demo member"
DEMO_MEMBER_TOKEN = "demo-member-token"  # noqa: S105 - a published demo token
DEMO_STORE = "SH001"


@dataclass
class SeedReport:
    regions_changed: int = 0
    locations_changed: int = 0
    skus_created: int = 0
    skus_updated: int = 0
    catalog_skipped: bool = False
    stock_created: int = 0
    users_created: int = 0
    tokens_created: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.regions_changed, self.locations_changed, self.skus_created, self.skus_updated,
                    self.stock_created, self.users_created, self.tokens_created))


def carry_probability(rank: int, n_skus: int, head_share: float = 0.10) -> float:
    """Chance that a store carries the SKU of sales rank ``rank`` (0 = best seller)."""
    head = max(1, round(n_skus * head_share))
    if rank < head:
        return 0.97
    return max(0.02, 0.97 * head / (rank + 1))


def opening_stock(locations: list[tuple[int, str]], velocity: list[tuple[int, float]]) -> list[tuple[int, int, int]]:
    """``(location id, sku id, qty)`` for every carried pair; ``locations`` as (id, kind), in code order.

    Draws the same random numbers for every pair, carried or not, so the plan of one pair
    never depends on which other pairs exist.
    """
    rng = random.Random(SEED_RNG)
    n = len(velocity)
    plan = []
    for location_id, kind in locations:
        for rank, (sku_id, v) in enumerate(velocity):
            u, w = rng.random(), rng.uniform(0.6, 1.4)
            if kind == LocationKind.WAREHOUSE:
                plan.append((location_id, sku_id, max(24, round(v * 6 * w))))
            elif kind == LocationKind.DARK_STORE:
                if u < carry_probability(rank, n, head_share=0.30):
                    plan.append((location_id, sku_id, max(3, round(v * 0.5 * w))))
            elif u < carry_probability(rank, n):
                plan.append((location_id, sku_id, max(2, round(v * 0.3 * w))))
    return plan


def _write_stock(plan: list[tuple[int, int, int]]) -> int:
    existing = set(Stock.objects.filter(bucket=0).values_list("location_id", "sku_id"))
    keys = set(Movement.objects.filter(idempotency_key__startswith="seed:").values_list("idempotency_key", flat=True))
    todo = [(loc, sku, q) for loc, sku, q in plan
            if (loc, sku) not in existing and f"seed:{loc}:{sku}" not in keys]
    for start in range(0, len(todo), BATCH):
        chunk = todo[start:start + BATCH]
        Stock.objects.bulk_create(
            [Stock(location_id=loc, sku_id=sku, bucket=0, on_hand=q, reserved=0) for loc, sku, q in chunk],
            batch_size=BATCH)
        Movement.objects.bulk_create(
            [Movement(location_id=loc, sku_id=sku, kind=MovementKind.RECEIVE, qty=q, delta_on_hand=q,
                      delta_reserved=0, reason="期初库存 opening stock", reference=SEED_REFERENCE,
                      idempotency_key=f"seed:{loc}:{sku}", actor_label=SEED_REFERENCE, occurred_at=OPENING_AT)
             for loc, sku, q in chunk],
            batch_size=BATCH)
    return len(todo)


def _seed_network(data_dir: Path | None, report: SeedReport) -> list[Location]:
    network = demo_network(data_dir)
    hq, changed = region_ensure(code=HQ_CODE, name=HQ_NAME, parent=None)
    report.regions_changed += changed
    regions: dict[str, Region] = {}
    for d in network.districts:
        regions[d.code], changed = region_ensure(code=d.code, name=d.name, parent=hq)
        report.regions_changed += changed
    locations = []
    for spec in network.locations:
        location, changed = location_upsert(spec=spec, region=regions[spec.region_code])
        report.locations_changed += changed
        locations.append(location)
    return locations


def _stock_complete(locations: list[Location], top_n: int) -> bool:
    if Sku.objects.filter(code__startswith="CJ").count() < top_n:
        return False
    seeded = set(Movement.objects.filter(reference=SEED_REFERENCE).values_list("location_id", flat=True).distinct())
    return all(loc.pk in seeded for loc in locations)


def _seed_accounts(report: SeedReport) -> None:
    store = Location.objects.get(code=DEMO_STORE)
    for a in DEMO_ACCOUNTS:
        user = User.objects.filter(username=a.username).first()
        if user is None:
            target = {"hq": {}, "region": {"region_id": store.region_id}, "store": {"location": store}}[a.scope]
            user = User.objects.create_user(a.username, password=a.password, role=a.role, scope=a.scope,
                                            is_staff=a.superuser, is_superuser=a.superuser,
                                            first_name=a.label[:150], **target)
            report.users_created += 1
        if not ApiToken.objects.filter(key_hash=hash_token(a.token)).exists():
            ApiToken.issue(user=user, raw=a.token, label=f"demo {a.username}")
            report.tokens_created += 1
    if not ApiToken.objects.filter(key_hash=hash_token(DEMO_MEMBER_TOKEN)).exists():
        member = Member.objects.create(display_name=DEMO_MEMBER_NAME)
        member_set_phone(member=member, phone=DEMO_MEMBER_PHONE)  # stored encrypted, shown masked
        ApiToken.issue(member=member, raw=DEMO_MEMBER_TOKEN, label="demo member")
        report.users_created += 1
        report.tokens_created += 1


def seed_demo(*, top_n: int = 3000, data_dir: Path | None = None,
              log: Callable[[str], None] | None = None) -> SeedReport:
    """Seed (or complete) the demo; safe to run any number of times."""
    say = log or (lambda _msg: None)
    started = time.monotonic()
    report = SeedReport()
    with transaction.atomic():
        locations = _seed_network(data_dir, report)
        say(f"网点 network: {len(locations)} locations ({report.locations_changed} changed)")
        if _stock_complete(locations, top_n):
            report.catalog_skipped = True
            say("商品与库存 catalog and opening stock already seeded: skipped")
        else:
            result = import_catalog(top_n=top_n, data_dir=data_dir)
            report.skus_created, report.skus_updated = result.stats.skus_created, result.stats.skus_updated
            say(f"商品 catalog: {len(result.velocity)} SKUs ({report.skus_created} new)")
            ordered = sorted(locations, key=lambda loc: loc.code)
            plan = opening_stock([(loc.pk, loc.kind) for loc in ordered], result.velocity)
            report.stock_created = _write_stock(plan)
            say(f"库存 opening stock: {report.stock_created} new rows")
        _seed_accounts(report)
    mk = seed_marketing(data_dir)
    say(f"营销 marketing: {mk}")
    report.notes.append(f"marketing: {mk}")
    report.seconds = time.monotonic() - started
    return report
