"""Money conversion (fen <-> Alipay yuan strings) is exact, and the value types behave."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.adapters.payments import PaymentGateway, fen_to_yuan, yuan_to_fen
from o2o.adapters.payments.base import header
from o2o.adapters.payments.sandbox import sandbox_gateways


@pytest.mark.parametrize(("fen", "yuan"), [
    (0, "0.00"), (1, "0.01"), (10, "0.10"), (99, "0.99"), (100, "1.00"), (1230, "12.30"), (1234, "12.34"),
    (100_000_000_01, "100000000.01"),
])
def test_known_amounts(fen: int, yuan: str) -> None:
    assert fen_to_yuan(fen) == yuan
    assert yuan_to_fen(yuan) == fen


@pytest.mark.parametrize(("yuan", "fen"), [("12.3", 1230), ("12", 1200), ("0.1", 10), ("0", 0)])
def test_short_yuan_forms(yuan: str, fen: int) -> None:
    assert yuan_to_fen(yuan) == fen


@pytest.mark.parametrize("bad", [
    "", ".5", "5.", "1.234", "-1.00", "+1.00", "1e2", " 1.00", "1.00 ", "1,00", "01.00", "１２.００", "NaN",
    "inf", "0x10", "1_000.00",
])
def test_yuan_rejects_non_amounts(bad: str) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(bad)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "100", None])
def test_fen_rejects_non_integers(bad: object) -> None:
    with pytest.raises(ValueError):
        fen_to_yuan(bad)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**10))
def test_fen_yuan_round_trip(fen: int) -> None:
    yuan = fen_to_yuan(fen)
    assert yuan_to_fen(yuan) == fen
    assert Decimal(yuan) * 100 == fen  # independent check of the decimal rendering
    assert len(yuan.split(".")[1]) == 2


@given(st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False, allow_infinity=False))
def test_yuan_from_decimal(value: Decimal) -> None:
    assert yuan_to_fen(f"{value:.2f}") == int(value * 100)


def test_header_lookup_is_case_insensitive() -> None:
    headers = {"wechatpay-SIGNATURE": "x", "Content-Type": "y"}
    assert header(headers, "Wechatpay-Signature") == "x"
    assert header(headers, "content-type") == "y"
    assert header(headers, "missing") is None


def test_both_adapters_satisfy_the_protocol() -> None:
    world = sandbox_gateways()
    for name, gateway in world.gateways.items():
        assert isinstance(gateway, PaymentGateway)
        assert gateway.provider == name
