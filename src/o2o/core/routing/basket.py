"""An order's lines made ready for routing: validated, merged by SKU, indexed.

Lines of one order with the same SKU are merged (quantities added, total weight kept), so
that each routed line is one SKU and stock checks of different lines never interact: a
line fits at a node exactly when the node's usable stock of that SKU covers its quantity.
Lines with a quantity that is not a positive integer (or above ``MAX_LINE_QTY``), a negative or
non-finite weight, a line weight above ``MAX_LINE_WEIGHT_G`` (hypothesis found 51 x 3.5e306 g, which
overflowed the total to infinity), or an unhashable SKU id are set aside as invalid (reported, never
raised).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from o2o.core.routing.model import OrderLine, SkuId

__all__ = ["Basket", "make_basket"]


@dataclass(frozen=True, slots=True)
class Basket:
    """Routed lines by index ``0..m-1``: ``skus[i]``, ``qtys[i]``, total ``weights[i]`` in grams."""

    skus: tuple[SkuId, ...]
    qtys: tuple[int, ...]
    weights: tuple[int, ...]
    invalid: tuple[OrderLine, ...] = ()

    @property
    def m(self) -> int:
        """Number of routed (valid, merged) lines."""
        return len(self.skus)

    @property
    def all_mask(self) -> int:
        """The bit mask with one bit per routed line."""
        return (1 << len(self.skus)) - 1

    def weight_of(self, mask: int) -> int:
        """Total weight of the lines whose bits are set in ``mask``."""
        total = 0
        weights = self.weights
        while mask:
            low = mask & -mask
            total += weights[low.bit_length() - 1]
            mask ^= low
        return total


MAX_LINE_QTY = 10**9
MAX_LINE_WEIGHT_G = 10**12  # a million tonnes: a line heavier than this is invalid input, not a parcel


def _valid(line: object) -> bool:
    if not isinstance(line, OrderLine):
        return False
    qty, weight = line.qty, line.weight_g
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        return False
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
        return False
    if weight < 0 or qty > MAX_LINE_QTY or qty * weight > MAX_LINE_WEIGHT_G:
        return False  # beyond anything a store ships (and qty x weight would overflow to infinity)
    try:
        hash(line.sku_id)
    except TypeError:
        return False
    return True


def make_basket(lines: object) -> Basket:
    """Validate and merge ``lines`` (any iterable; a non-iterable counts as empty)."""
    try:
        items = list(lines)  # type: ignore[call-overload]
    except TypeError:
        items = []
    qty: dict[SkuId, int] = {}
    weight: dict[SkuId, int] = {}
    invalid: list[OrderLine] = []
    for line in items:
        if not _valid(line):
            if isinstance(line, OrderLine):
                invalid.append(line)
            continue
        qty[line.sku_id] = qty.get(line.sku_id, 0) + line.qty
        weight[line.sku_id] = weight.get(line.sku_id, 0) + math.ceil(line.qty * line.weight_g)
    skus = tuple(qty)
    return Basket(
        skus=skus,
        qtys=tuple(qty[s] for s in skus),
        weights=tuple(weight[s] for s in skus),
        invalid=tuple(invalid),
    )
