"""Demo marketing: coupon campaigns, one chain promotion, and demo members living where the real POIs are.

* Members: ``DEMO_MEMBERS`` members whose homes are Shanghai POIs (``geo/shanghai_pois_bd09.csv``, GCJ-02),
  drawn by their ``count`` weight with a fixed seed; no phone numbers (they are not real people).
* The 3 km campaign: the store with the most member homes within 3 km gets "门店3公里专享 满50减10", scoped to
  that store and issued to those members (``nearby.coupons_issue_nearby``), so the HQ admin and the store's
  counter show a live campaign.
* Campaigns to claim in the storefront: 新人券 满30减5, 全场 满99减15, 黄金/钻石会员 9折券 (最高减¥20), and a
  staff-issued service voucher (免费上门安装 installation), a car-wash voucher for 800 points and goods for
  500 points (积分兑换: the SKU with the most units on the stores' shelves, handed over at the counter, which
  takes it off that store's stock). A chain promotion 满199减20 runs for 30 days, and double points
  (积分活动) for orders placed on the mini-program.
* An A/B experiment on the storefront home's hero (``home-hero``: the default headline vs a coupon nudge).
* Birthdays: one demo member in ``BIRTHDAY_EVERY`` gets one (``MemberReach.birthday``, fixed seed), the first
  ``BIRTHDAYS_TODAY`` of them today's month and day (China time), and the automatic campaign 生日礼券 满50减20
  (``auto_on="birthday"``) is issued right away (``auto.coupons_issue_auto``, as ``o2o issue-auto-coupons``
  does daily), so the HQ admin and those members' wallets show birthday coupons. Only members without a
  birthday get one (a set birthday is locked, ``marketing.birthday``).

Idempotent: everything is found by its code/name and created once.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.catalog.models import Sku
from o2o.core.geo import LatLng, haversine_m
from o2o.core.loyalty import CHINA_TZ
from o2o.demo.bench_data import load_pois
from o2o.experiments.models import Experiment
from o2o.inventory.models import Stock
from o2o.marketing.auto import coupons_issue_auto
from o2o.marketing.models import CouponTemplate, MemberReach, Promotion, TemplateStatus
from o2o.marketing.nearby import coupons_issue_nearby
from o2o.members.models import PointsCampaign
from o2o.stores.models import Location, LocationKind

DEMO_MEMBERS = 600
MEMBER_PREFIX = "演示居民 Resident "
RADIUS_M = 3000
BIRTHDAY_EVERY = 6  # one demo member in six has told us their birthday
BIRTHDAYS_TODAY = 8  # ... and the first few of them were born on the day the demo is seeded

CAMPAIGNS = (
    {"code": "new-member-30-5", "name": "新人券 满30减5", "name_en": "New member: ¥5 off over ¥30", "kind": "amount_off",
     "amount_fen": 500, "threshold_fen": 3000, "budget": 10_000, "valid_days": 30},
    {"code": "all-99-15", "name": "全场 满99减15", "name_en": "¥15 off over ¥99", "kind": "amount_off",
     "amount_fen": 1500, "threshold_fen": 9900, "budget": 5_000, "valid_days": 14, "member_limit": 2},
    {"code": "gold-10-off", "name": "黄金会员9折券", "name_en": "Gold: 10% off", "kind": "percent_off",
     "percent": 10, "cap_fen": 2000, "budget": 2_000, "valid_days": 30, "tiers": ["gold", "diamond"]},
    {"code": "points-car-wash", "name": "积分兑换 洗车券", "name_en": "Car wash voucher for 800 points",
     "kind": "service_voucher", "service": "洗车 car wash", "amount_fen": 3000, "points_price": 800,
     "redeem_online": False, "budget": 1_000, "valid_days": 30},
    {"code": "install-voucher", "name": "免费上门安装", "name_en": "Free home installation", "kind": "service_voucher",
     "service": "上门安装 installation", "amount_fen": 5000, "claimable": False, "staff_issuable": True,
     "redeem_online": False, "budget": 500, "valid_days": 60},
    {"code": "birthday-gift", "name": "生日礼券 满50减20", "name_en": "Birthday: ¥20 off over ¥50", "kind": "amount_off",
     "amount_fen": 2000, "threshold_fen": 5000, "auto_on": "birthday", "claimable": False, "member_limit": 10,
     "budget": 10_000, "valid_days": 30},
)


def _homes(data_dir: Path | None, n: int) -> list[LatLng]:
    pois = load_pois(data_dir)
    rng = random.Random(20261130)
    points, weights = [p for p, _ in pois], [w for _, w in pois]
    return rng.choices(points, weights=weights, k=n)


def _members(data_dir: Path | None) -> int:
    have = Member.objects.filter(display_name__startswith=MEMBER_PREFIX).count()
    if have >= DEMO_MEMBERS:
        return 0
    homes = _homes(data_dir, DEMO_MEMBERS)[have:]
    now = timezone.now()
    made = Member.objects.bulk_create([Member(display_name=f"{MEMBER_PREFIX}{have + i + 1:04d}",
                                              registered_channel="mini_program") for i in range(len(homes))])
    MemberReach.objects.bulk_create([MemberReach(member=m, home_lat=p.lat, home_lng=p.lng, home_at=now)
                                     for m, p in zip(made, homes, strict=True)])
    return len(made)


def _birthdays(now: datetime) -> int:
    """Birthdays for some demo members who have none (see the module's docstring); how many were set."""
    today = now.astimezone(CHINA_TZ).date()
    rows = list(MemberReach.objects.filter(member__display_name__startswith=MEMBER_PREFIX)
                .order_by("member_id"))
    chosen = [r for i, r in enumerate(rows) if i % BIRTHDAY_EVERY == 0]
    if any(r.birthday is not None for r in chosen):
        return 0  # seeded before: a birthday, once set, stays
    rng = random.Random(19900517)
    for i, r in enumerate(chosen):
        year = rng.randint(1960, 2005)
        if i < BIRTHDAYS_TODAY:
            r.birthday = date(2000 if (today.month, today.day) == (2, 29) else year, today.month, today.day)
        else:
            r.birthday = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    MemberReach.objects.bulk_update(chosen, ["birthday"])
    return len(chosen)


def _busiest_store() -> Location | None:
    homes = [LatLng(a, b) for a, b in MemberReach.objects.filter(home_lat__isnull=False).values_list("home_lat",
                                                                                                   "home_lng")]
    stores = list(Location.objects.filter(kind=LocationKind.STORE).order_by("code"))
    if not homes or not stores:
        return None
    return max(stores, key=lambda s: (sum(haversine_m(LatLng(s.lat, s.lng), h) <= RADIUS_M for h in homes),
                                      [-ord(c) for c in s.code]))


def _exchange_gift() -> Sku | None:
    """The goods the demo's points exchange gives: the SKU with the most units on the stores' shelves."""
    top = (Stock.objects.filter(location__kind=LocationKind.STORE, sku__active=True).values("sku_id")
           .annotate(units=Sum("on_hand")).order_by("-units", "sku_id").first())
    return Sku.objects.filter(pk=top["sku_id"]).first() if top else None


def seed_marketing(data_dir: Path | None = None) -> dict[str, int | str]:
    now = timezone.now()
    out: dict[str, int | str] = {}
    with transaction.atomic():
        out["members"] = _members(data_dir)
        out["birthdays"] = _birthdays(now)
        made = 0
        for spec in CAMPAIGNS:
            _, created = CouponTemplate.objects.get_or_create(code=spec["code"], defaults={
                "status": TemplateStatus.ACTIVE, **{k: v for k, v in spec.items() if k != "code"}})
            made += created
        gift = _exchange_gift()
        if gift is not None:  # goods for points: handed over (and taken off the shelf) at the counter
            _, created = CouponTemplate.objects.get_or_create(code="points-gift", defaults={
                "status": TemplateStatus.ACTIVE, "name": f"积分兑换 {gift.name}"[:100],
                "name_en": f"{gift.name} for 500 points"[:100], "kind": "free_gift", "gift_sku": gift, "gift_qty": 1,
                "threshold_fen": 0, "points_price": 500, "redeem_online": False, "budget": 1_000, "valid_days": 30})
            made += created
        _, created = Promotion.objects.get_or_create(name="全场满199减20", defaults={
            "name_en": "¥20 off over ¥199", "kind": "amount_off", "amount_fen": 2000, "threshold_fen": 19900,
            "starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=30)})
        out["promotions"] = int(created)
        _, created = PointsCampaign.objects.get_or_create(code="mini-program-double", defaults={
            "name": "小程序下单双倍积分 Double points on the mini-program", "multiplier_percent": 200,
            "starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=30), "channels": ["mini_program"]})
        out["points_campaigns"] = int(created)
        _, created = Experiment.objects.get_or_create(key="home-hero", defaults={
            "name": "首页主图：默认 vs 领券引导 Home hero: default vs coupon nudge", "target": "page",
            "status": "running", "hypothesis": "领券引导提高 14 天内下单率 A coupon nudge raises 14-day conversion",
            "variants": [{"key": "control", "weight": 1, "config": {}},
                         {"key": "coupon-nudge", "weight": 1, "config": {
                             "title": "新人领券 满30减5", "text": "领取后下单立减，门店自提也能用。",
                             "link": "/shop/coupons"}}]})
        out["experiments"] = int(created)
        store = _busiest_store()
        if store is not None:
            near, created = CouponTemplate.objects.get_or_create(code=f"near-{store.code.lower()}", defaults={
                "name": f"{store.name} 3公里专享 满50减10", "name_en": "Neighbours within 3 km: ¥10 off over ¥50",
                "kind": "amount_off", "amount_fen": 1000, "threshold_fen": 5000, "status": TemplateStatus.ACTIVE,
                "claimable": False, "budget": 1_000, "valid_days": 14})
            made += created
            if created:
                near.stores.set([store])
            out["nearby_store"] = store.code
    out["campaigns"] = made
    if store is not None and created:
        got = coupons_issue_nearby(template_id=near.pk, location_id=store.pk, radius_m=RADIUS_M, by_user_id=None)
        out["nearby_issued"] = got["issued"]
    out["birthday_issued"] = int(coupons_issue_auto(now).get("birthday-gift", {}).get("issued") or 0)
    return out
