"""The input of the tag engine: every member's purchase lines (and behaviour events), as columns.

A :class:`Purchases` holds one entry per order line in numpy arrays (so 25,000 members'
histories are computed on at once), with small vocabularies for the text columns (channel,
store, category, department). Build it with :class:`HistoryBuilder` (one call per line, for
the database side and tests) or directly from arrays (the benchmark reads a million lines).

Conventions:

* ``member`` is the member's position in ``members`` (the caller's ids, any hashable).
* ``basket`` identifies an order; it must be unique across members (an order id).
* ``at`` is UTC epoch seconds (int64). Local calendar tags (weekday, hour, purchase day) use
  the offset of the ``as_of`` datetime given to the engine (China: +08:00).
* Money in integer fen: ``amount_fen`` is what the line paid (after its discount),
  ``discount_fen`` the discount it got (a line with ``discount_fen > 0`` is a discounted
  line), ``refunded_fen`` what was refunded of it (net spend = amount - refunded).
* ``mode`` is one of :data:`MODES` (``-1`` unknown); ``store``, ``category`` and
  ``department`` are ``-1`` when unknown.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

__all__ = ["EVENT_KINDS", "MODES", "OFFLINE_CHANNELS", "Events", "HistoryBuilder", "Purchases"]

MODES: tuple[str, ...] = ("pickup", "same_city", "express", "counter")
"""Fulfilment modes, as in ``o2o.core.orders.ShipmentMode``."""
OFFLINE_CHANNELS: frozenset[str] = frozenset({"pos"})


@dataclass(frozen=True)
class Purchases:
    members: tuple[Hashable, ...]
    member: np.ndarray
    basket: np.ndarray
    at: np.ndarray
    amount_fen: np.ndarray
    discount_fen: np.ndarray
    refunded_fen: np.ndarray
    qty: np.ndarray
    channel: np.ndarray
    store: np.ndarray
    mode: np.ndarray
    category: np.ndarray
    department: np.ndarray
    channels: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    registered_at: np.ndarray | None = None  # per member, epoch seconds, -1 unknown

    def __post_init__(self) -> None:
        n = len(self.member)
        for name in ("basket", "at", "amount_fen", "discount_fen", "refunded_fen", "qty", "channel", "store",
                     "mode", "category", "department"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"列长度不一致 Column {name} has {len(getattr(self, name))} rows, expected {n}")
        if n and (self.member.min() < 0 or self.member.max() >= len(self.members)):
            raise ValueError("会员下标越界 member index outside members")
        if n and (np.any(self.amount_fen < 0) or np.any(self.discount_fen < 0) or np.any(self.refunded_fen < 0)
                  or np.any(self.refunded_fen > self.amount_fen)):
            raise ValueError("金额无效 Need amount_fen, discount_fen >= 0 and 0 <= refunded_fen <= amount_fen")
        if n and (self.mode.max() >= len(MODES) or self.mode.min() < -1):
            raise ValueError(f"履约方式无效 mode must index {MODES} or be -1")
        if self.registered_at is not None and len(self.registered_at) != len(self.members):
            raise ValueError("registered_at 必须每个会员一个 needs one value per member")

    @property
    def n_members(self) -> int:
        return len(self.members)

    def take(self, mask: np.ndarray) -> Purchases:
        """The same members with only the lines where ``mask`` holds."""
        cols = {name: getattr(self, name)[mask] for name in (
            "member", "basket", "at", "amount_fen", "discount_fen", "refunded_fen", "qty", "channel", "store",
            "mode", "category", "department")}
        return Purchases(members=self.members, channels=self.channels, stores=self.stores,
                         categories=self.categories, departments=self.departments,
                         registered_at=self.registered_at, **cols)


EVENT_KINDS: tuple[str, ...] = ("view", "cart_add", "search", "sign_in")
"""The kinds the tags read: a product page ``view``, a ``cart_add``, a ``search``, a daily ``sign_in`` (签到)."""


@dataclass(frozen=True)
class Events:
    """Behaviour events (page views, cart adds, sign-ins, searches): member index, epoch seconds, kind.

    ``member`` indexes the members of the :class:`Purchases` given with them; ``kind`` indexes ``kinds``
    (any names; the tags read those of :data:`EVENT_KINDS`)."""

    member: np.ndarray
    at: np.ndarray
    kind: np.ndarray
    kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.member)
        if len(self.at) != n or len(self.kind) != n:
            raise ValueError(f"列长度不一致 Events need as many times and kinds as members ({n})")
        if n and (self.member.min() < 0 or self.kind.min() < 0 or self.kind.max() >= len(self.kinds)):
            raise ValueError("事件下标无效 Event member or kind index out of range")

    def code(self, name: str) -> int:
        return self.kinds.index(name) if name in self.kinds else -2


def _epoch(at: datetime | int | float) -> int:
    if isinstance(at, datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"时间必须带时区 at must be an aware datetime: {at!r}")
        return int(at.timestamp())
    return int(at)


@dataclass
class _Vocab:
    names: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def code(self, name: str | None) -> int:
        if name is None or name == "":
            return -1
        name = str(name)
        got = self.index.get(name)
        if got is None:
            got = self.index[name] = len(self.names)
            self.names.append(name)
        return got


class HistoryBuilder:
    """Collects lines (and events) one by one, then :meth:`build` the columns."""

    def __init__(self, members: Sequence[Hashable] = ()) -> None:
        self._members: list[Hashable] = []
        self._pos: dict[Hashable, int] = {}
        self._registered: list[int] = []
        self._rows: list[tuple] = []
        self._events: list[tuple[int, int, int]] = []
        self._v = {k: _Vocab() for k in ("channel", "store", "category", "department", "event")}
        for m in members:
            self.member(m)

    @property
    def member_keys(self) -> tuple[Hashable, ...]:
        return tuple(self._members)

    def member(self, key: Hashable, registered_at: datetime | int | None = None) -> int:
        pos = self._pos.get(key)
        if pos is None:
            pos = self._pos[key] = len(self._members)
            self._members.append(key)
            self._registered.append(-1)
        if registered_at is not None:
            self._registered[pos] = _epoch(registered_at)
        return pos

    def line(self, member: Hashable, basket: int, at: datetime | int, amount_fen: int, *, discount_fen: int = 0,
             refunded_fen: int = 0, qty: int = 1, channel: str = "pos", store: str | int | None = None,
             mode: str | None = "counter", category: str | None = None, department: str | None = None) -> None:
        mode_code = MODES.index(mode) if mode in MODES else -1
        self._rows.append((self.member(member), int(basket), _epoch(at), int(amount_fen), int(discount_fen),
                           int(refunded_fen), int(qty), self._v["channel"].code(channel),
                           self._v["store"].code(None if store is None else str(store)), mode_code,
                           self._v["category"].code(category), self._v["department"].code(department)))

    def event(self, member: Hashable, at: datetime | int, kind: str) -> None:
        self._events.append((self.member(member), _epoch(at), self._v["event"].code(kind)))

    def build(self) -> tuple[Purchases, Events | None]:
        cols = np.array(self._rows, dtype=np.int64).reshape(-1, 12)
        purchases = Purchases(
            members=tuple(self._members), member=cols[:, 0], basket=cols[:, 1], at=cols[:, 2],
            amount_fen=cols[:, 3], discount_fen=cols[:, 4], refunded_fen=cols[:, 5], qty=cols[:, 6],
            channel=cols[:, 7], store=cols[:, 8], mode=cols[:, 9], category=cols[:, 10], department=cols[:, 11],
            channels=tuple(self._v["channel"].names), stores=tuple(self._v["store"].names),
            categories=tuple(self._v["category"].names), departments=tuple(self._v["department"].names),
            registered_at=np.array(self._registered, dtype=np.int64),
        )
        if not self._events:
            return purchases, None
        ev = np.array(self._events, dtype=np.int64).reshape(-1, 3)
        return purchases, Events(member=ev[:, 0], at=ev[:, 1], kind=ev[:, 2], kinds=tuple(self._v["event"].names))
