"""Scope: which orders and which cart lines a promotion or a coupon applies to.

Two questions, asked separately:

* **The order** (:meth:`Scope.order_ok`): the channel, the store and the member's tier. An
  empty set means "no restriction" on that dimension. A scope limited to some stores does
  not apply to an order without a store (``store_id=None``), and one limited to some tiers
  does not apply to a visitor (``tier=None``). The answer is None when allowed, else the
  bilingual reason shown for a rejected coupon.
* **The line** (:meth:`Scope.covers`): a line is covered when its SKU is listed in
  ``sku_ids`` **or** any of its categories (:attr:`Item.category_ids` holds the SKU's category
  and all its ancestors, so scoping a parent category covers the children) is listed in
  ``category_ids``; with both empty every line is covered. ``exclude_sku_ids`` always wins.

Sets are only tested for membership, never iterated, so their order cannot change a price.
"""

from __future__ import annotations

from dataclasses import dataclass

from o2o.core.orders.checkout import CartLine
from o2o.core.promotions.checks import frozen_ints, frozen_texts, is_int, require_int

__all__ = ["NOT_CHANNEL", "NOT_STORE", "NOT_TIER", "Item", "Scope"]

NOT_CHANNEL = "不适用于该渠道 Not valid on this channel"
NOT_STORE = "不适用于该门店 Not valid at this store"
NOT_TIER = "不适用于该会员等级 Not valid for this member tier"


@dataclass(frozen=True, slots=True)
class Item:
    """One cart line with what scoping needs: ``qty`` units of ``sku_id`` at the resolved shelf price."""

    sku_id: int
    qty: int
    unit_price_fen: int  # the resolved shelf price at this store/channel
    list_price_fen: int
    category_ids: frozenset[int] = frozenset()  # the SKU's category and its ancestors

    def __post_init__(self) -> None:
        if not is_int(self.sku_id):
            raise ValueError(f"商品编号必须是整数 sku_id must be an integer: {self.sku_id!r}")
        where = f"(sku {self.sku_id})"
        require_int(self.qty, "数量", f"qty {where}", 1)
        require_int(self.unit_price_fen, "价格(分)", f"unit_price_fen {where}", 0)
        require_int(self.list_price_fen, "价格(分)", f"list_price_fen {where}", 0)
        if type(self.category_ids) is not frozenset:
            object.__setattr__(self, "category_ids", frozen_ints(self.category_ids, "category_ids"))
        else:
            if not all(is_int(c) for c in self.category_ids):
                raise ValueError(f"分类编号必须是整数 category_ids must be integers: {self.category_ids!r}")

    def to_cart_line(self) -> CartLine:
        return CartLine(self.sku_id, self.qty, self.unit_price_fen, self.list_price_fen)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an offer applies; every empty set means "no restriction on that dimension"."""

    channels: frozenset[str] = frozenset()
    store_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()
    sku_ids: frozenset[int] = frozenset()  # a line is covered if its sku is listed OR any category matches
    tiers: frozenset[str] = frozenset()  # tier codes, e.g. "silver", "gold"
    exclude_sku_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", frozen_texts(self.channels, "channels"))
        object.__setattr__(self, "tiers", frozen_texts(self.tiers, "tiers"))
        for name in ("store_ids", "category_ids", "sku_ids", "exclude_sku_ids"):
            object.__setattr__(self, name, frozen_ints(getattr(self, name), name))

    def order_ok(self, *, channel: str, store_id: int | None, tier: str | None) -> str | None:
        """None when the order may use this offer, else the bilingual reason it may not."""
        if self.channels and channel not in self.channels:
            return NOT_CHANNEL
        if self.store_ids and (store_id is None or store_id not in self.store_ids):
            return NOT_STORE
        if self.tiers and (tier is None or tier not in self.tiers):
            return NOT_TIER
        return None

    def covers(self, item: Item) -> bool:
        """Whether the line is in scope: listed SKU or matching category, and not excluded."""
        sku = item.sku_id
        if sku in self.exclude_sku_ids:
            return False
        if not self.sku_ids and not self.category_ids:
            return True
        return sku in self.sku_ids or not self.category_ids.isdisjoint(item.category_ids)
