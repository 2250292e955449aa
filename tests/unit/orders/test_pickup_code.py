"""Pickup codes: the Damm check digit catches every typo it promises to, and normalize forgives only layout."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.orders import CODE_DIGITS, damm_check_digit, format_code, is_well_formed, new_code, normalize

bodies = st.text(alphabet="0123456789", min_size=CODE_DIGITS - 1, max_size=CODE_DIGITS - 1)
codes = bodies.map(lambda body: body + damm_check_digit(body))


def test_damm_known_values():
    assert damm_check_digit("572") == "4"  # the textbook example
    assert damm_check_digit("") == "0"
    assert is_well_formed("0000000000")


@pytest.mark.parametrize("bad", ["12a", "１２", "٣", "1 2", "²"])
def test_damm_refuses_non_ascii_digits(bad):
    with pytest.raises(ValueError, match="Digits only"):
        damm_check_digit(bad)


@given(codes, st.integers(0, CODE_DIGITS - 1), st.integers(1, 9))
def test_every_single_digit_error_is_detected(code, pos, delta):
    wrong = str((int(code[pos]) + delta) % 10)
    assert is_well_formed(code)
    assert not is_well_formed(code[:pos] + wrong + code[pos + 1 :])


@given(codes, st.integers(0, CODE_DIGITS - 2))
def test_every_adjacent_transposition_is_detected(code, pos):
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
    assert is_well_formed(swapped) == (swapped == code)


def test_every_adjacent_transposition_of_every_digit_pair_is_detected():
    # Exhaustive over the digit pair and the check state before it (all that matters to Damm).
    for a in "0123456789":
        for b in "0123456789":
            if a == b:
                continue
            for prefix in ["", "1", "2", "3", "4", "5", "6", "7", "8", "9"]:
                assert damm_check_digit(prefix + a + b) != damm_check_digit(prefix + b + a)


def test_new_code_with_seeded_random():
    rng = random.Random(20240601)
    made = [new_code(rng.randrange) for _ in range(500)]
    assert all(len(c) == CODE_DIGITS and is_well_formed(c) for c in made)
    assert len(set(made)) == len(made)
    assert new_code(lambda n: 0) == "0000000000"  # leading zeros kept
    assert new_code(lambda n: n - 1) == "999999999" + damm_check_digit("999999999")


@pytest.mark.parametrize("bad", [lambda n: n, lambda n: -1, lambda n: 1.5, lambda n: True])
def test_new_code_refuses_a_broken_random_source(bad):
    with pytest.raises(ValueError, match="out of range"):
        new_code(bad)


@given(codes)
def test_normalize_forgives_layout(code):
    spaced = f"{code[:4]} {code[4:8]} {code[8:]}"
    assert normalize(code) == code
    assert normalize(spaced) == code
    assert normalize(f"  {code[:3]}-{code[3:6]}-{code[6:]}\n") == code
    full_width = "".join(chr(0xFF10 + int(c)) for c in code)
    assert normalize(full_width[:4] + "\u3000" + full_width[4:]) == code
    assert format_code(code) == spaced
    assert format_code(spaced) == spaced


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        "abc",
        "12345678901",  # 11 digits
        "123456789",  # 9 digits
        "1234567890",  # wrong check digit (123456789 takes 4)
        "１２３４５６７８９",  # 9 full-width digits
        "١٢٣٤٥٦٧٨٩٠",  # Arabic-Indic digits are not folded
        "²" * 10,
        "0000 0000 0O",  # letter O
        "0" * 200,
        None,
        1234567890,
    ],
)
def test_normalize_junk_is_none(junk):
    assert normalize(junk) is None
    assert not is_well_formed(junk)
    with pytest.raises(ValueError, match="Invalid pickup code"):
        format_code(junk)


@given(st.text(max_size=30))
def test_normalize_never_raises_and_is_canonical(text):
    out = normalize(text)
    assert out is None or (is_well_formed(out) and normalize(out) == out)


def test_is_well_formed_is_strict():
    code = new_code(random.Random(1).randrange)
    assert is_well_formed(code)
    assert not is_well_formed(f"{code[:4]} {code[4:]}")
    assert not is_well_formed("".join(chr(0xFF10 + int(c)) for c in code))
