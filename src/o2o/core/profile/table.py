"""The engine's result: every member's tags as columns, and one member's :class:`Tag` list on demand."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from string import Formatter
from typing import Any, NamedTuple

import numpy as np

from o2o.core.profile.specs import NEEDS, SPECS, TagSpec

__all__ = ["Tag", "TagTable"]


class Tag(NamedTuple):
    """One tag of one member (a named tuple: the engine builds millions of them)."""

    name: str
    value: Any
    version: int
    explanation: str
    visible: bool
    label: str = ""
    group: str = ""


def _dates(sec: np.ndarray, offset_s: int) -> list:
    days = ((np.asarray(sec, dtype=np.int64) + offset_s) // 86400).astype("datetime64[D]")
    return days.astype(str).tolist()


def _convert(spec: TagSpec, col: np.ndarray, offset_s: int) -> list:
    if spec.kind == "date":
        return _dates(col, offset_s)
    if spec.kind == "float":
        return np.round(np.asarray(col, dtype=float), spec.digits).tolist()
    if spec.kind == "int":
        return np.asarray(col).astype(np.int64).tolist()
    if spec.kind == "bool":
        return np.asarray(col).astype(bool).tolist()
    if spec.kind == "str":
        return [None if v is None or v == "" else str(v) for v in np.asarray(col, dtype=object).tolist()]
    return list(col)


class TagTable:
    """Columns of tag values (None where a tag does not apply) plus what the explanations need."""

    def __init__(self, members: tuple[Hashable, ...], cols: dict, glob: dict, offset_s: int) -> None:
        self.members = members
        self.glob = glob
        self._raw = cols
        self._pos = {m: i for i, m in enumerate(members)}
        n = len(members)
        cols = dict(cols)
        cols["all"] = np.ones(n, dtype=bool)
        cols["registered_and_has"] = cols["registered_known"] & cols["has"]
        cols["events_given"] = np.full(n, bool(glob.get("events_given")))
        self._ok = {need: np.asarray(cols[need], dtype=bool).tolist() for need in NEEDS}
        self.values: dict[str, list] = {}
        for spec in SPECS:
            vals = _convert(spec, cols[spec.source], offset_s)
            ok = self._ok[spec.needs]
            self.values[spec.name] = [v if good else None for v, good in zip(vals, ok, strict=True)]
        # what the explanation templates read: plain columns, then tag values by name
        self._ctx: dict[str, list] = {}
        for name, col in cols.items():
            arr = np.asarray(col) if not isinstance(col, list) else None
            if arr is None or arr.ndim != 1 or len(arr) != n:
                continue
            if arr.dtype.kind == "f":
                self._ctx[name] = np.round(arr, 4).tolist()
            else:
                self._ctx[name] = arr.tolist()
        self._ctx.update(self.values)
        used = {"has", "as_of"}
        for text in [s.template for s in SPECS] + list(NEEDS.values()):
            used.update(field for _, field, _, _ in Formatter().parse(text) if field)
        self._ctx = {k: v for k, v in self._ctx.items() if k in used}
        self._glob_ctx = {k: v for k, v in glob.items() if isinstance(v, str | int | float | list | dict | bool)}

    @property
    def clv_models(self) -> tuple:
        return self.glob["clv_models"]

    def __len__(self) -> int:
        return len(self.members)

    def index(self, member: Hashable) -> int:
        return self._pos[member]

    def measure(self, name: str) -> np.ndarray:
        """A raw measure column behind the tags (e.g. ``clv_repeat_days``, ``clv_age_weeks``), unrounded."""
        return np.asarray(self._raw[name])

    def column(self, name: str) -> list:
        return self.values[name]

    def row(self, i: int) -> dict[str, Any]:
        """One member's tag values by name."""
        return {name: vals[i] for name, vals in self.values.items()}

    def tags_of(self, i: int) -> list[Tag]:
        ctx = {name: vals[i] for name, vals in self._ctx.items()}
        ctx.update(self._glob_ctx)
        ok, values = self._ok, self.values
        out = []
        for spec in SPECS:
            if ok[spec.needs][i]:
                if spec.name == "lifecycle_stage" and not ctx["has"]:
                    why = f"no purchase on or before {ctx['as_of']}: prospect"
                else:
                    why = spec.template.format_map(ctx)
            else:
                why = NEEDS[spec.needs].format_map(ctx)
            out.append(Tag(spec.name, values[spec.name][i], spec.version, why, spec.visible, spec.label, spec.group))
        return out

    def iter_tags(self) -> Iterator[tuple[Hashable, list[Tag]]]:
        for i, member in enumerate(self.members):
            yield member, self.tags_of(i)
