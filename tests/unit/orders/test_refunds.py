"""Refunds: any sequence of partial returns refunds exactly what the line paid."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.orders import refund_for


@st.composite
def partitions(draw):
    qty = draw(st.integers(1, 60))
    parts, left = [], qty
    while left:
        part = draw(st.integers(1, left))
        parts.append(part)
        left -= part
    return qty, parts


@given(st.integers(0, 10**7), partitions())
def test_any_partition_refunds_exactly_the_payable(payable, qty_parts):
    qty, parts = qty_parts
    done_qty = done_fen = 0
    for part in parts:
        step = refund_for(payable, qty, done_qty, done_fen, part)
        assert step >= 0
        done_qty, done_fen = done_qty + part, done_fen + step
        assert done_fen == payable * done_qty // qty  # the schedule does not depend on the split
    assert done_fen == payable


@given(st.integers(0, 10**6), partitions(), st.data())
def test_an_irregular_earlier_refund_is_absorbed(payable, qty_parts, data):
    qty, parts = qty_parts
    done_qty, done_fen = 0, data.draw(st.integers(0, payable))  # e.g. a goodwill refund
    for part in parts:
        step = refund_for(payable, qty, done_qty, done_fen, part)
        assert step >= 0
        done_qty, done_fen = done_qty + part, done_fen + step
    assert done_fen == payable


def test_examples():
    assert [refund_for(1000, 3, i, 1000 * i // 3, 1) for i in range(3)] == [333, 333, 334]
    assert refund_for(1000, 3, 0, 0, 3) == 1000
    assert refund_for(0, 5, 0, 0, 2) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1000, 3, 0, 0, 0), "at least 1"),
        ((1000, 3, 2, 666, 2), "exceeds the 1 units left"),
        ((1000, 3, 3, 1000, 1), "exceeds the 0 units left"),
        ((1000, 0, 0, 0, 1), "line_qty must be positive"),
        ((-1, 3, 0, 0, 1), "line_payable_fen"),
        ((1000, 3, -1, 0, 1), "already_refunded_qty"),
        ((1000, 3, 0, 1001, 1), "exceeds the 1000 paid"),
        ((1000, 3, 0, 0, 1.0), "qty"),
    ],
)
def test_bad_input_raises(args, message):
    with pytest.raises(ValueError, match=message):
        refund_for(*args)
