"""Checkout totals: exact sums, no negative line, steps in order, largest-remainder allocation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.orders import Adjustment, CartLine, PercentOff, PricedLine, Totals, allocate, format_fen, price


@dataclass(frozen=True)
class FixedOff:
    """Test step: a fixed amount off (满减), split by what the lines still pay."""

    name: str
    amount: int
    label: str = "满减 Fixed off"

    def discount(self, lines: tuple[PricedLine, ...], context: Mapping[str, object]) -> Adjustment | None:
        parts = allocate(self.amount, [p.payable_fen for p in lines])
        return Adjustment(self.name, self.label, sum(parts), parts)


@dataclass(frozen=True)
class Raw:
    """Test step: returns whatever split it was given (to test the cap and the contract checks)."""

    name: str
    per_line: tuple[int, ...]
    seen: list | None = None

    def discount(self, lines, context):
        if self.seen is not None:
            self.seen.append((lines, dict(context)))
        return Adjustment(self.name, self.name, sum(self.per_line), self.per_line)


def line(sku=1, qty=1, unit=1000, list_price=None) -> CartLine:
    return CartLine(sku, qty, unit, unit if list_price is None else list_price)


cart_lines = st.lists(
    st.builds(
        CartLine, st.integers(1, 999), st.integers(1, 20), st.integers(0, 50_000), st.integers(0, 50_000)
    ),
    min_size=1,
    max_size=8,
)
step_lists = st.lists(
    st.one_of(
        st.builds(PercentOff, st.just("pct"), st.integers(0, 100), st.just("折扣 Percent off")),
        st.builds(FixedOff, st.just("fixed"), st.integers(0, 2_000_000)),
    ),
    max_size=4,
)


def check_invariants(t: Totals, fee: int) -> None:
    assert t.goods_fen == sum(p.subtotal_fen for p in t.lines)
    assert t.discount_fen == sum(p.discount_fen for p in t.lines) == sum(a.amount_fen for a in t.adjustments)
    assert t.total_fen == t.goods_fen - t.discount_fen + fee == sum(p.payable_fen for p in t.lines) + fee
    assert t.delivery_fee_fen == fee
    for p in t.lines:
        assert p.subtotal_fen == p.unit_price_fen * p.qty
        assert p.payable_fen == p.subtotal_fen - p.discount_fen
        assert 0 <= p.payable_fen <= p.subtotal_fen
    for a in t.adjustments:
        assert a.amount_fen > 0 and sum(a.per_line) == a.amount_fen and len(a.per_line) == len(t.lines)


@given(cart_lines, step_lists, st.integers(0, 2000))
def test_totals_add_up_and_no_line_goes_negative(lines, steps, fee):
    check_invariants(price(lines, steps=steps, delivery_fee_fen=fee), fee)


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), max_size=12))
def test_allocate_is_exact_and_capped(amount, weights):
    parts = allocate(amount, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == min(amount, sum(weights))
    assert all(0 <= p <= w for p, w in zip(parts, weights, strict=True))
    total = sum(weights)
    if total:  # largest remainder: each part within 1 fen of its exact share
        capped = min(amount, total)
        assert all(abs(p * total - capped * w) < total for p, w in zip(parts, weights, strict=True))


def test_allocate_examples():
    assert allocate(100, [1, 1, 1]) == (1, 1, 1)  # capped at the weights
    assert allocate(2, [1, 1, 1]) == (1, 1, 0)  # ties to the earlier weight
    assert allocate(10, [333, 333, 334]) == (3, 3, 4)
    assert allocate(5, [0, 0]) == (0, 0)
    assert allocate(5, []) == ()
    with pytest.raises(ValueError, match="Amount"):
        allocate(-1, [1])
    with pytest.raises(ValueError, match="Weights"):
        allocate(1, [1, -1])


def test_steps_run_in_order_and_see_previous_discounts():
    cart = [line(1, 1, 600), line(2, 2, 200)]  # goods 1000
    fixed, pct = FixedOff("fixed", 100), PercentOff("tier", 10, "会员9折 Member 10% off")
    assert price(cart, steps=[fixed, pct]).total_fen == 810  # (1000 - 100) * 0.9
    assert price(cart, steps=[pct, fixed]).total_fen == 800  # 1000 * 0.9 - 100
    seen: list = []
    price(cart, steps=[pct, Raw("probe", (0, 0), seen)], context={"member": "gold"})
    ((lines, context),) = seen
    assert [p.payable_fen for p in lines] == [540, 360] and context == {"member": "gold"}
    assert [a.kind for a in price(cart, steps=[fixed, pct]).adjustments] == ["fixed", "tier"]


def test_a_concrete_checkout_with_explanation():
    t = price(
        [line(1, 3, 333, 399), line(2, 1, 1001)],
        steps=[PercentOff("tier", 5, "会员95折 Member 5% off")],
        delivery_fee_fen=500,
    )
    assert (t.goods_fen, t.discount_fen, t.total_fen) == (2000, 100, 2400)
    assert [p.discount_fen for p in t.lines] == [50, 50]
    assert t.explanation == (
        "商品金额 Goods: ¥20.00",
        "会员95折 Member 5% off: -¥1.00",
        "配送费 Delivery fee: ¥5.00",
        "应付 Total: ¥24.00",
    )


def test_cap_per_line_and_zero_yuan_order():
    t = price([line(1, 1, 300), line(2, 1, 700)], steps=[Raw("coupon", (500, 100))])
    assert [p.payable_fen for p in t.lines] == [0, 600]
    assert t.adjustments == (Adjustment("coupon", "coupon", 400, (300, 100)),)
    assert "coupon: -¥4.00 (已封顶 capped from ¥6.00)" in t.explanation
    free = price([line(1, 2, 500)], steps=[PercentOff("gift", 100, "赠品 Gift")])
    assert free.total_fen == 0 and free.lines[0].payable_fen == 0  # allowed on purpose
    after = price([line(1, 1, 100)], steps=[PercentOff("gift", 100, "Gift"), Raw("late", (50,))])
    assert (
        after.adjustments[-1].kind == "gift"
        and "late: 无可抵扣金额 nothing left to discount" in after.explanation
    )
    assert price([line(1, 1, 0)]).total_fen == 0


@pytest.mark.parametrize(
    ("lines", "kwargs", "message"),
    [
        ([], {}, "cart is empty"),
        ([line(qty=0)], {}, "Quantity must be a positive integer"),
        ([line(qty=1.5)], {}, "Quantity"),
        ([line(unit=-1)], {}, "unit_price_fen"),
        ([line(list_price=-1)], {}, "list_price_fen"),
        ([line(unit=True)], {}, "Price"),
        ([line()], {"delivery_fee_fen": -1}, "Delivery fee"),
        ([line()], {"steps": [Raw("short", (1, 0))]}, "split over 2 lines"),
    ],
)
def test_bad_input_raises(lines, kwargs, message):
    with pytest.raises(ValueError, match=message):
        price(lines, **kwargs)


def test_adjustment_contract():
    with pytest.raises(ValueError, match="do not sum"):
        Adjustment("x", "x", 10, (3, 3))
    with pytest.raises(ValueError, match="non-negative"):
        Adjustment("x", "x", -1, (-1,))
    assert Adjustment("x", "x", 3, [1, 2]).per_line == (1, 2)
    with pytest.raises(ValueError, match="Percent"):
        PercentOff("x", 101, "x")


def test_a_step_returning_something_else_is_refused():
    class Broken:
        name = "broken"

        def discount(self, lines, context):
            return 5

    with pytest.raises(ValueError, match="returned 5"):
        price([line()], steps=[Broken()])


def test_format_fen():
    assert [format_fen(x) for x in (0, 5, 1250, 100000, -5)] == [
        "¥0.00",
        "¥0.05",
        "¥12.50",
        "¥1000.00",
        "-¥0.05",
    ]
