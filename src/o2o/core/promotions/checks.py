"""Small validation helpers shared by the promotion types (bilingual ValueError messages).

Messages are formatted only on failure: a repr of a whole request on every call would cost
more than the pricing itself.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["frozen_ints", "frozen_texts", "is_int", "require_int", "require_text"]


def is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def require_int(
    value: object, zh: str, name: str, minimum: int | None = 0, maximum: int | None = None
) -> None:
    """``value`` must be an int (not a bool) within ``[minimum, maximum]`` (None: unbounded)."""
    ok = is_int(value) and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        low = "" if minimum is None else f" >= {minimum}"
        high = "" if maximum is None else f" <= {maximum}"
        raise ValueError(f"{zh}必须是整数{low}{high} {name} must be an integer{low}{high}: {value!r}")


def require_text(value: object, zh: str, name: str) -> None:
    if not (isinstance(value, str) and value.strip() != ""):
        raise ValueError(f"{zh}不能为空 {name} must be a non-empty string: {value!r}")


def frozen_ints(value: Iterable[int], name: str) -> frozenset[int]:
    """A frozenset of ints from any iterable (a plain set or list is accepted and frozen)."""
    if isinstance(value, str | bytes):
        raise ValueError(f"必须是整数集合 {name} must be a set of integers: {value!r}")
    try:
        out = frozenset(value)
    except TypeError as exc:
        raise ValueError(f"必须是整数集合 {name} must be a set of integers: {value!r}") from exc
    if not all(is_int(v) for v in out):
        raise ValueError(f"必须是整数集合 {name} must be a set of integers: {value!r}")
    return out


def frozen_texts(value: Iterable[str], name: str) -> frozenset[str]:
    """A frozenset of non-empty strings from any iterable (a bare string is refused: it is not a set)."""
    if isinstance(value, str | bytes):
        raise ValueError(f"必须是字符串集合 {name} must be a set of strings, not one string: {value!r}")
    try:
        out = frozenset(value)
    except TypeError as exc:
        raise ValueError(f"必须是字符串集合 {name} must be a set of strings: {value!r}") from exc
    if not all(isinstance(v, str) and v != "" for v in out):
        raise ValueError(f"必须是字符串集合 {name} must be a set of non-empty strings: {value!r}")
    return out
