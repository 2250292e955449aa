"""Member tiers 普通 / 白银 / 黄金 / 钻石: which tier a member has, and when it changes.

A tier is earned by one number, the policy's **basis**: the growth value (成长值, kept by the
caller) or the spend of the trailing 12 months in fen (:func:`spend_12m`). A member
qualifies for the highest tier whose threshold the number **reaches** (``value >=
threshold``, exact in fen: ¥5,000.00 reaches a ¥5,000.00 threshold, ¥4,999.99 does not).

When a tier changes (the review rules)
--------------------------------------
* **Up at once.** :func:`tier_after_order` runs when an order is paid (with the metrics
  already counting it) and upgrades straight to the qualified tier, skipping tiers if the
  order is big enough: the member sees the new tier and its benefits on the next order.
* **Down only at the monthly review.** :func:`tier_after_order` never downgrades (a refund
  lowers the spend but does not cost the tier mid-month); :func:`monthly_review` does, by
  **at most one tier per review**: a diamond member who stopped buying becomes gold, then
  silver a month later. A single bad month or a late-posted refund never drops a member
  two tiers, and each step down can be announced ("下月起将调整为白银会员") before the next.
* **Protection.** A tier reached by an upgrade is kept at least until ``protection_months``
  (default 12) calendar months after the upgrade: the member bought their way in and is
  promised a year of benefits, the usual "等级有效期12个月" of Chinese retail. A tier reached
  by a downgrade carries no protection (the year was already given for the tier above), so
  the step-down continues monthly until the member reaches the tier they qualify for. The
  caller stores :attr:`TierChange.achieved_at` (the upgrade time, None after a downgrade)
  and passes it back as ``achieved_at``.
* The review also upgrades when the number qualifies (growth that came from outside
  orders), so one monthly pass leaves every member consistent.

Every change is a :class:`TierChange` for the tier history, with a bilingual note that says
which number crossed which threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from types import MappingProxyType

from o2o.core.loyalty.dates import CHINA_TZ, add_months, require_aware
from o2o.core.orders.checkout import format_fen

__all__ = [
    "DEFAULT_TIER_POLICY",
    "TIER_ORDER",
    "Basis",
    "Benefits",
    "ChangeReason",
    "Tier",
    "TierChange",
    "TierMetrics",
    "TierPolicy",
    "monthly_review",
    "protected_until",
    "spend_12m",
    "tier_after_order",
]


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class Tier(StrEnum):
    NORMAL = "normal"
    SILVER = "silver"
    GOLD = "gold"
    DIAMOND = "diamond"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def rank(self) -> int:
        return TIER_ORDER.index(self)


TIER_ORDER: tuple[Tier, ...] = (Tier.NORMAL, Tier.SILVER, Tier.GOLD, Tier.DIAMOND)
"""Lowest first."""
_LABELS = MappingProxyType(
    {Tier.NORMAL: "普通会员", Tier.SILVER: "白银会员", Tier.GOLD: "黄金会员", Tier.DIAMOND: "钻石会员"}
)


class Basis(StrEnum):
    GROWTH = "growth"  # 成长值
    SPEND_12M = "spend_12m"  # 近12个月消费(分)


class ChangeReason(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"


@dataclass(frozen=True, slots=True)
class Benefits:
    """What a tier gives: ``discount_percent`` % off (5 = 95折), and services free of charge."""

    discount_percent: int = 0
    free_delivery: bool = False
    free_installation: bool = False  # 免费安装 / 上门服务
    dedicated_service: bool = False  # 专属客服

    def __post_init__(self) -> None:
        if not _is_int(self.discount_percent) or not 0 <= self.discount_percent <= 100:
            raise ValueError(
                f"折扣百分比必须在 0-100 之间 discount_percent must be 0-100: {self.discount_percent!r}"
            )


@dataclass(frozen=True, slots=True)
class TierMetrics:
    """The numbers a tier can be based on; the policy's basis picks one."""

    growth: int = 0
    spend_12m_fen: int = 0


@dataclass(frozen=True, slots=True)
class TierPolicy:
    """Thresholds (normal must be 0, strictly increasing), benefits per tier, protection."""

    thresholds: Mapping[Tier, int]
    benefits: Mapping[Tier, Benefits]
    basis: Basis = Basis.SPEND_12M
    protection_months: int = 12
    tz: tzinfo = CHINA_TZ

    def __post_init__(self) -> None:
        object.__setattr__(self, "basis", Basis(self.basis))
        for name in ("thresholds", "benefits"):
            table = getattr(self, name)
            if set(table) != set(TIER_ORDER):
                raise ValueError(f"每个等级都需要配置 {name} must cover every tier: {sorted(table)!r}")
            object.__setattr__(self, name, MappingProxyType({Tier(t): table[t] for t in TIER_ORDER}))
        values = [self.thresholds[t] for t in TIER_ORDER]
        if not all(_is_int(v) for v in values) or values[0] != 0 or values != sorted(set(values)):
            raise ValueError(
                f"门槛必须从0开始严格递增 Thresholds must start at 0 and strictly increase: {values!r}"
            )
        if not all(isinstance(b, Benefits) for b in self.benefits.values()):
            raise ValueError("权益必须是 Benefits Every tier's benefits must be a Benefits")
        if not _is_int(self.protection_months) or self.protection_months < 0:
            raise ValueError(
                f"保级月数必须是非负整数 protection_months must be a non-negative integer: {self.protection_months!r}"
            )

    def value(self, metrics: TierMetrics) -> int:
        return metrics.growth if self.basis is Basis.GROWTH else metrics.spend_12m_fen

    def qualified(self, metrics: TierMetrics) -> Tier:
        """The highest tier whose threshold the basis value reaches."""
        value = self.value(metrics)
        return max((t for t in TIER_ORDER if value >= self.thresholds[t]), key=TIER_ORDER.index)

    def describe(self, value: int) -> str:
        if self.basis is Basis.GROWTH:
            return f"成长值 growth {value}"
        return f"近12个月消费 12-month spend {format_fen(value)}"


DEFAULT_TIER_POLICY = TierPolicy(
    thresholds={Tier.NORMAL: 0, Tier.SILVER: 100_000, Tier.GOLD: 500_000, Tier.DIAMOND: 2_000_000},
    benefits={
        Tier.NORMAL: Benefits(),
        Tier.SILVER: Benefits(discount_percent=2),
        Tier.GOLD: Benefits(discount_percent=5, free_delivery=True),
        Tier.DIAMOND: Benefits(
            discount_percent=8, free_delivery=True, free_installation=True, dedicated_service=True
        ),
    },
)
"""An example on 12-month spend: silver from ¥1,000, gold from ¥5,000, diamond from ¥20,000."""


@dataclass(frozen=True, slots=True)
class TierChange:
    """One row of the tier history."""

    from_tier: Tier
    to_tier: Tier
    reason: ChangeReason
    at: datetime
    note: str = ""

    @property
    def achieved_at(self) -> datetime | None:
        """What to store and pass back as ``achieved_at``: the upgrade time, None after a downgrade."""
        return self.at if self.reason is ChangeReason.UPGRADE else None


def spend_12m(orders: Iterable[tuple[datetime, int, int]], now: datetime, tz: tzinfo = CHINA_TZ) -> int:
    """Spend in fen of the orders paid in ``(now - 12 calendar months, now]``, net of refunds.

    ``orders`` are ``(paid_at, paid_fen, refunded_fen)``; a refund counts against the order it
    refunds (by that order's ``paid_at``), whenever it happened. An order paid exactly 12 months
    before ``now`` has left the window; one paid after ``now`` is not counted yet.
    """
    require_aware(now, "now")
    start = add_months(now, -12, tz)
    total = 0
    for paid_at, paid_fen, refunded_fen in orders:
        require_aware(paid_at, "支付时间 paid_at")
        if not (_is_int(paid_fen) and _is_int(refunded_fen) and 0 <= refunded_fen <= paid_fen):
            raise ValueError(
                f"金额无效 Need 0 <= refunded_fen <= paid_fen (integers): {paid_fen!r}, {refunded_fen!r}"
            )
        if start < paid_at <= now:
            total += paid_fen - refunded_fen
    return total


def protected_until(achieved_at: datetime | None, policy: TierPolicy) -> datetime | None:
    """Until when a tier reached by an upgrade at ``achieved_at`` cannot be lowered."""
    if achieved_at is None:
        return None
    return add_months(require_aware(achieved_at, "achieved_at"), policy.protection_months, policy.tz)


def _change(
    current: Tier, to: Tier, policy: TierPolicy, metrics: TierMetrics, now: datetime, how: str
) -> TierChange:
    value = policy.describe(policy.value(metrics))
    if to.rank > current.rank:
        threshold = policy.describe(policy.thresholds[to])
        note = f"{how}: {value} 达到{to.label}门槛 reached the {to} threshold ({threshold})"
        return TierChange(current, to, ChangeReason.UPGRADE, now, note)
    qualified = policy.qualified(metrics)
    note = f"{how}: {value} 仅够{qualified.label} qualifies for {qualified}; 每次最多降一级 one tier down per review"
    return TierChange(current, to, ChangeReason.DOWNGRADE, now, note)


def tier_after_order(
    current: Tier, achieved_at: datetime | None, metrics: TierMetrics, policy: TierPolicy, now: datetime
) -> TierChange | None:
    """The upgrade a paid order earns at once, or None; never a downgrade."""
    require_aware(now, "now")
    current = Tier(current)
    qualified = policy.qualified(metrics)
    if qualified.rank <= current.rank:
        return None
    return _change(current, qualified, policy, metrics, now, "订单升级 Order upgrade")


def monthly_review(
    current: Tier, achieved_at: datetime | None, metrics: TierMetrics, policy: TierPolicy, now: datetime
) -> TierChange | None:
    """The monthly change: up to the qualified tier, or one tier down unless protected; else None."""
    require_aware(now, "now")
    current = Tier(current)
    qualified = policy.qualified(metrics)
    if qualified.rank > current.rank:
        return _change(current, qualified, policy, metrics, now, "月度评定 Monthly review")
    if qualified.rank == current.rank:
        return None
    until = protected_until(achieved_at, policy)
    if until is not None and now < until:
        return None
    to = TIER_ORDER[current.rank - 1]
    return _change(current, to, policy, metrics, now, "月度评定 Monthly review")
