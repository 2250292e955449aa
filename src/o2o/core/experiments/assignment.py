"""Deterministic variant assignment (see the package docstring)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

BUCKETS = 10_000


@dataclass(frozen=True, slots=True)
class Variant:
    key: str
    weight: int  # relative: weights (1, 1) split evenly, (9, 1) sends 10 % to the second

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"变体名不能为空 A variant needs a key: {self.key!r}")
        if not isinstance(self.weight, int) or isinstance(self.weight, bool) or self.weight < 0:
            raise ValueError(f"权重必须是非负整数 Weight must be a non-negative integer: {self.weight!r}")


def bucket_of(experiment: str, member_id: int) -> int:
    digest = hashlib.sha256(f"{experiment}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(experiment: str, member_id: int, variants: Sequence[Variant]) -> str:
    """The variant of ``member_id`` in ``experiment``; the same answer every time."""
    if not variants:
        raise ValueError("实验没有变体 The experiment has no variants")
    keys = [v.key for v in variants]
    if len(set(keys)) != len(keys):
        raise ValueError(f"变体名重复 Duplicate variant keys: {keys}")
    total = sum(v.weight for v in variants)
    if total <= 0:
        raise ValueError("权重之和必须大于 0 The weights must add up to more than 0")
    point = bucket_of(experiment, member_id) * total // BUCKETS  # 0..total-1
    upto = 0
    for v in variants:
        upto += v.weight
        if point < upto:
            return v.key
    return variants[-1].key  # unreachable: point < total
