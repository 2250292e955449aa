"""The engine's inputs and outputs: promotions, coupons, the tier discount, the stacking policy.

* :class:`Promotion` -- applies by itself when the order and a line are in its scope.
* :class:`CouponOffer` -- a coupon the member holds and chose for this order.
* :class:`TierDiscount` -- the member's tier benefit (percent off, free delivery).
* :class:`StackingPolicy` -- precedence and stacking as configuration (see
  :mod:`o2o.core.promotions.stages` for what each setting does).
* :class:`PricingRequest` -> :class:`PricingResult` (a :class:`o2o.core.orders.Totals` plus
  what was applied, what was rejected and why, points, gifts, free delivery).

Everything is a frozen value validated when built: bad input is a ValueError with a
bilingual message (a bug or tampering, never something to price around).
"""

from __future__ import annotations

from dataclasses import dataclass

from o2o.core.loyalty.deduction import DeductionRule
from o2o.core.orders.checkout import Totals
from o2o.core.promotions.checks import is_int, require_int, require_text
from o2o.core.promotions.offers import OFFER_TYPES, Offer
from o2o.core.promotions.scope import Item, Scope

__all__ = [
    "STAGE_NAMES",
    "CouponOffer",
    "Gift",
    "PricingRequest",
    "PricingResult",
    "Promotion",
    "StackingPolicy",
    "TierDiscount",
]

STAGE_NAMES: tuple[str, ...] = ("tier", "promotion", "coupon", "points")


def _check_offer(offer: object, scope: object) -> None:
    if not isinstance(offer, OFFER_TYPES):
        raise ValueError(f"优惠内容无效 offer must be one of the offer types: {offer!r}")
    if not isinstance(scope, Scope):
        raise ValueError(f"适用范围无效 scope must be a Scope: {scope!r}")


@dataclass(frozen=True, slots=True)
class Promotion:
    """A store or chain promotion: applies automatically when in scope."""

    id: str
    label: str  # bilingual, shown to the customer, e.g. "满100减10 ¥10 off over ¥100"
    offer: Offer
    scope: Scope = Scope()
    priority: int = 0  # higher first within the promotion stage; ties by id
    exclusive: bool = False  # an exclusive promotion's covered lines take no other promotion

    def __post_init__(self) -> None:
        require_text(self.id, "促销编号", "id")
        require_text(self.label, "促销名称", "label")
        _check_offer(self.offer, self.scope)
        require_int(self.priority, "优先级", "priority", None)
        if not isinstance(self.exclusive, bool):
            raise ValueError(f"exclusive 必须是布尔值 exclusive must be a bool: {self.exclusive!r}")


@dataclass(frozen=True, slots=True)
class CouponOffer:
    """A coupon the member holds and chose for this order; ``id`` is echoed in applied/rejected."""

    id: str
    label: str
    offer: Offer
    scope: Scope = Scope()
    template_id: str = ""  # coupons of the same (non-empty) template never stack

    def __post_init__(self) -> None:
        require_text(self.id, "券编号", "id")
        require_text(self.label, "券名称", "label")
        _check_offer(self.offer, self.scope)
        if not isinstance(self.template_id, str):
            raise ValueError(f"券模板编号必须是字符串 template_id must be a string: {self.template_id!r}")


@dataclass(frozen=True, slots=True)
class TierDiscount:
    """The member's tier benefit; ``tier=None`` for a visitor."""

    tier: str | None = None
    label: str = ""  # empty: a default label from the percent
    percent: int = 0  # 0-100 off (5 = 95折)
    free_delivery: bool = False

    def __post_init__(self) -> None:
        if not (self.tier is None or (isinstance(self.tier, str) and self.tier != "")):
            raise ValueError(f"会员等级无效 tier must be None or a tier code: {self.tier!r}")
        if not isinstance(self.label, str):
            raise ValueError(f"标签必须是字符串 label must be a string: {self.label!r}")
        require_int(self.percent, "折扣百分比", "percent", 0, 100)
        if not isinstance(self.free_delivery, bool):
            raise ValueError(
                f"free_delivery 必须是布尔值 free_delivery must be a bool: {self.free_delivery!r}"
            )


@dataclass(frozen=True, slots=True)
class StackingPolicy:
    """Precedence and stacking as configuration, not code order (see :mod:`.stages`)."""

    stages: tuple[str, ...] = STAGE_NAMES  # a permutation of a subset of STAGE_NAMES
    promotions: str = "all"  # "all": every applicable promotion by priority; "best": only the one giving most
    max_coupons: int = 1
    coupon_on_promoted_lines: bool = True  # False: a coupon skips lines a promotion discounted
    tier_on_promoted_lines: bool = True  # False: the tier discount skips lines a promotion discounted
    points: DeductionRule = DeductionRule()
    points_on_delivery: bool = False  # the points cap base excludes the delivery fee unless True

    def __post_init__(self) -> None:
        if not (isinstance(self.stages, tuple | list) and all(isinstance(s, str) for s in self.stages)):
            raise ValueError(f"阶段必须是字符串元组 stages must be a tuple of stage names: {self.stages!r}")
        stages = tuple(self.stages)
        unknown = [s for s in stages if s not in STAGE_NAMES]
        if unknown:
            raise ValueError(f"未知阶段 Unknown stage(s) {unknown!r}; known: {STAGE_NAMES!r}")
        if len(set(stages)) != len(stages):
            raise ValueError(f"阶段重复 Stages repeat: {stages!r}")
        object.__setattr__(self, "stages", stages)
        if self.promotions not in ("all", "best"):
            raise ValueError(f"促销叠加方式无效 promotions must be 'all' or 'best': {self.promotions!r}")
        require_int(self.max_coupons, "每单可用券数", "max_coupons", 0)
        for name in ("coupon_on_promoted_lines", "tier_on_promoted_lines", "points_on_delivery"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(f"{name} 必须是布尔值 {name} must be a bool: {value!r}")
        if not isinstance(self.points, DeductionRule):
            raise ValueError(f"积分规则无效 points must be a DeductionRule: {self.points!r}")


def _as_tuple(value: object, kind: type, zh: str, name: str) -> tuple:
    if not (isinstance(value, tuple | list) and all(isinstance(v, kind) for v in value)):
        raise ValueError(f"{zh}无效 {name} must be a tuple of {kind.__name__}: {value!r}")
    return tuple(value)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class PricingRequest:
    """Everything one checkout price depends on."""

    items: tuple[Item, ...]
    channel: str
    store_id: int | None
    tier: TierDiscount = TierDiscount()
    promotions: tuple[Promotion, ...] = ()
    coupons: tuple[CouponOffer, ...] = ()  # the member's chosen coupons, in the order chosen
    points_balance: int = 0  # the member's spendable points (a negative balance deducts nothing)
    points_requested: int = 0  # how many the customer asked to use (-1 = as many as allowed)
    delivery_fee_fen: int = 0  # the fee before any waiver

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _as_tuple(self.items, Item, "商品行", "items"))
        if not self.items:
            raise ValueError("购物车为空 The cart is empty")
        if not isinstance(self.channel, str):
            raise ValueError(f"渠道必须是字符串 channel must be a string: {self.channel!r}")
        if not (self.store_id is None or is_int(self.store_id)):
            raise ValueError(f"门店编号必须是整数 store_id must be an integer or None: {self.store_id!r}")
        if not isinstance(self.tier, TierDiscount):
            raise ValueError(f"会员折扣无效 tier must be a TierDiscount: {self.tier!r}")
        object.__setattr__(self, "promotions", _as_tuple(self.promotions, Promotion, "促销", "promotions"))
        ids = [p.id for p in self.promotions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"促销编号重复 Promotion ids repeat: {ids!r}")
        object.__setattr__(self, "coupons", _as_tuple(self.coupons, CouponOffer, "优惠券", "coupons"))
        by_id: dict[str, CouponOffer] = {}
        for c in self.coupons:  # the same coupon chosen twice is a rejection; two coupons sharing an id a bug
            if by_id.setdefault(c.id, c) != c:
                raise ValueError(f"不同的券使用了相同编号 Two different coupons share the id {c.id!r}")
        require_int(self.points_balance, "积分余额", "points_balance", None)
        require_int(self.points_requested, "使用积分", "points_requested", -1)
        require_int(self.delivery_fee_fen, "配送费(分)", "delivery_fee_fen", 0)


@dataclass(frozen=True, slots=True)
class Gift:
    """A free item the order earned; ``source`` is the promotion or coupon id."""

    sku_id: int
    qty: int
    source: str


@dataclass(frozen=True, slots=True)
class PricingResult:
    """The priced order: ``totals`` (delivery fee already waived where due) and how it came about."""

    totals: Totals
    applied_promotions: tuple[str, ...]
    applied_coupons: tuple[str, ...]
    rejected_coupons: tuple[tuple[str, str], ...]  # (coupon id, bilingual reason)
    points_used: int
    points_fen: int
    gifts: tuple[Gift, ...]
    free_delivery: bool  # a delivery fee was charged and waived

    def line_breakdown(self) -> tuple[dict[str, int], ...]:
        """Per line, the fen each stage took off: ``{"tier": .., "promotion": .., "coupon": .., "points": ..}``."""
        rows = [dict.fromkeys(STAGE_NAMES, 0) for _ in self.totals.lines]
        for adj in self.totals.adjustments:
            stage = adj.kind.partition(":")[0]
            for row, part in zip(rows, adj.per_line, strict=True):
                row[stage] += part
        return tuple(rows)
