"""The only module that changes ``Stock`` rows and takes row locks on them.

An item (location, SKU) is one or more bucket rows; its figures are their sums. Each change
is a pair of deltas (on hand, reserved) applied so that every bucket keeps the CHECK
constraints (on_hand >= 0, reserved >= 0, reserved <= on_hand), which then hold for the sum.

How a change is applied (PostgreSQL):
1. one conditional UPDATE on a bucket that can take the whole change, chosen at random
   among the rows no other transaction holds (``FOR UPDATE SKIP LOCKED``): concurrent
   reservations of a hot item land on different rows instead of queueing on one;
2. if every fitting bucket is busy, the same conditional UPDATE on one fitting bucket,
   waiting for its lock (the condition is checked again once the lock is held);
3. if no single bucket fits (the item's stock is fragmented across buckets), lock all its
   buckets in primary-key order, decide on the totals and spread the result evenly.
Steps 1 and 2 each run under a savepoint that is rolled back when they fail, because
PostgreSQL keeps the lock of a row whose condition failed on recheck; holding it while
waiting in step 2 or taking all buckets in key order in step 3 could deadlock with another
transaction doing the same.
SQLite has one writer at a time (IMMEDIATE transactions), so steps 1-2 are a plain
conditional UPDATE and step 3 needs no locks.

Callers that change several items in one transaction must apply them sorted by
(location_id, sku_id): with a global order no two transactions wait on each other in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from o2o.inventory.models import Stock

_FITS = ("on_hand + %(dh)s >= 0 AND reserved + %(dr)s >= 0 AND reserved + %(dr)s <= on_hand + %(dh)s")

_PG_SKIP_LOCKED = f"""
UPDATE inventory_stock SET on_hand = on_hand + %(dh)s, reserved = reserved + %(dr)s
WHERE id = (SELECT id FROM inventory_stock
            WHERE location_id = %(loc)s AND sku_id = %(sku)s AND {_FITS}
            ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED)
  AND {_FITS}
RETURNING id"""

_PG_WAIT = f"""
UPDATE inventory_stock SET on_hand = on_hand + %(dh)s, reserved = reserved + %(dr)s
WHERE id = (SELECT id FROM inventory_stock
            WHERE location_id = %(loc)s AND sku_id = %(sku)s AND {_FITS}
            ORDER BY random() LIMIT 1)
  AND {_FITS}
RETURNING id"""

_SQLITE_ONE = f"""
UPDATE inventory_stock SET on_hand = on_hand + %(dh)s, reserved = reserved + %(dr)s
WHERE id = (SELECT id FROM inventory_stock
            WHERE location_id = %(loc)s AND sku_id = %(sku)s AND {_FITS}
            ORDER BY bucket LIMIT 1)
RETURNING id"""

_UPSERT_ON_HAND = """
INSERT INTO inventory_stock (location_id, sku_id, bucket, on_hand, reserved) VALUES (%(loc)s, %(sku)s, 0, %(dh)s, 0)
ON CONFLICT (location_id, sku_id, bucket) DO UPDATE SET on_hand = inventory_stock.on_hand + excluded.on_hand"""


@dataclass(frozen=True)
class Totals:
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class CannotApply(Exception):
    """The change would break a constraint for the item as a whole; ``totals`` is what it has."""

    def __init__(self, totals: Totals, sku_id: int | None = None) -> None:
        super().__init__(f"cannot apply change; item {sku_id or ''} has {totals}")
        self.totals = totals
        self.sku_id = sku_id


def apply_change(*, location_id: int, sku_id: int, d_on_hand: int = 0, d_reserved: int = 0) -> None:
    """Apply deltas to one item inside the caller's transaction, or raise ``CannotApply``."""
    if d_on_hand == 0 and d_reserved == 0:
        return
    params = {"loc": location_id, "sku": sku_id, "dh": d_on_hand, "dr": d_reserved}
    with connection.cursor() as cur:
        if d_on_hand > 0 and d_reserved == 0 and _bucket_count(cur, location_id, sku_id) <= 1:
            cur.execute(_UPSERT_ON_HAND, params)  # receiving: creates the row when it is new
            return
        if connection.vendor == "postgresql":
            # A row whose condition fails on recheck stays locked by the failed statement.
            # Holding it while waiting for another bucket (step 2) or for all of them (step 3)
            # could close a cycle with a transaction spreading in key order, so each attempt
            # runs in its own savepoint and lets go of everything when it fails.
            for statement in (_PG_SKIP_LOCKED, _PG_WAIT):
                cur.execute("SAVEPOINT o2o_bucket")
                cur.execute(statement, params)
                if cur.fetchone() is not None:
                    cur.execute("RELEASE SAVEPOINT o2o_bucket")
                    return
                cur.execute("ROLLBACK TO SAVEPOINT o2o_bucket")
                cur.execute("RELEASE SAVEPOINT o2o_bucket")
        else:
            cur.execute(_SQLITE_ONE, params)
            if cur.fetchone() is not None:
                return
        _spread(cur, location_id, sku_id, d_on_hand, d_reserved)


def _bucket_count(cur, location_id: int, sku_id: int) -> int:
    cur.execute("SELECT count(*) FROM inventory_stock WHERE location_id = %s AND sku_id = %s", [location_id, sku_id])
    return cur.fetchone()[0]


def _spread(cur, location_id: int, sku_id: int, d_on_hand: int, d_reserved: int) -> None:
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    cur.execute(
        "SELECT id, on_hand, reserved FROM inventory_stock WHERE location_id = %s AND sku_id = %s ORDER BY id" + lock,
        [location_id, sku_id],
    )
    rows = cur.fetchall()
    totals = Totals(sum(r[1] for r in rows), sum(r[2] for r in rows))
    new_on, new_res = totals.on_hand + d_on_hand, totals.reserved + d_reserved
    if new_on < 0 or new_res < 0 or new_res > new_on:
        raise CannotApply(totals)
    if not rows:
        cur.execute(_UPSERT_ON_HAND, {"loc": location_id, "sku": sku_id, "dh": new_on})
        return
    _write_even(cur, [r[0] for r in rows], new_on, new_res)


def totals(location_id: int, sku_id: int) -> Totals:
    rows = Stock.objects.filter(location_id=location_id, sku_id=sku_id).values_list("on_hand", "reserved")
    return Totals(sum(r[0] for r in rows), sum(r[1] for r in rows))


def split(*, location_id: int, sku_id: int, buckets: int) -> int:
    """Spread an item over ``buckets`` rows (1 merges it back); totals are unchanged.

    For items that many requesters reserve at once (a promoted SKU at a busy store).
    """
    if not 1 <= buckets <= 64:
        raise ValueError("buckets must be between 1 and 64")
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    select = "SELECT id, bucket, on_hand, reserved FROM inventory_stock WHERE location_id = %s AND sku_id = %s ORDER BY id"
    with connection.cursor() as cur:
        cur.execute(select + lock, [location_id, sku_id])
        # Read again now that the rows are ours: under READ COMMITTED the locking statement only
        # returns rows of its own snapshot, so buckets another split added while we waited (and
        # the stock it moved into them) would be missed. Nobody adds buckets while we hold these.
        cur.execute(select + lock, [location_id, sku_id])
        rows = cur.fetchall()
        on_hand, reserved = sum(r[2] for r in rows), sum(r[3] for r in rows)
        present = {r[1] for r in rows}
        for b in range(buckets):
            if b not in present:
                cur.execute("INSERT INTO inventory_stock (location_id, sku_id, bucket, on_hand, reserved) "
                            "VALUES (%s, %s, %s, 0, 0)", [location_id, sku_id, b])
        extra = [r[0] for r in rows if r[1] >= buckets]
        if extra:
            cur.execute(f"DELETE FROM inventory_stock WHERE id IN ({', '.join(['%s'] * len(extra))})", extra)
        cur.execute(select, [location_id, sku_id])
        _write_even(cur, [r[0] for r in cur.fetchall()], on_hand, reserved)
    return buckets


def _write_even(cur, row_ids: list[int], on_hand: int, reserved: int) -> None:
    """Write totals evenly over rows; each row keeps reserved <= on_hand since reserved <= on_hand overall."""
    n = len(row_ids)
    for i, row_id in enumerate(row_ids):
        on_i = on_hand // n + (1 if i < on_hand % n else 0)
        res_i = reserved // n + (1 if i < reserved % n else 0)
        cur.execute("UPDATE inventory_stock SET on_hand = %s, reserved = %s WHERE id = %s", [on_i, res_i, row_id])


def apply_many(*, location_id: int, changes: dict[int, tuple[int, int]],
               locked_rows: list[tuple[int, int, int, int]] | None = None) -> None:
    """Apply ``{sku_id: (d_on_hand, d_reserved)}`` to many items of one location at once.

    The set-based form of :func:`apply_change` for batch callers (POS sync): one statement
    locks every bucket of the items in (sku_id, id) order -- the global order, so it never
    deadlocks with callers that follow the rule above -- and the change is decided on the
    locked figures: each item's change goes to one bucket that can take it whole, else it is
    spread evenly over the item's buckets; an item without rows gets bucket 0. Then one
    UPDATE and at most one INSERT. Raises ``CannotApply`` (naming ``sku_id``) when an item
    as a whole cannot take its change; nothing is written then.

    ``locked_rows`` -- (id, sku_id, on_hand, reserved) of every bucket of these items, which
    the caller already locked in this transaction in the same order and has not changed
    since -- saves reading and locking them again.
    """
    todo = {sku: d for sku, d in changes.items() if d[0] or d[1]}
    if not todo:
        return
    skus = sorted(todo)
    pg = connection.vendor == "postgresql"
    select = "SELECT id, sku_id, on_hand, reserved FROM inventory_stock WHERE location_id = %s AND "
    with connection.cursor() as cur:
        if locked_rows is not None:
            fetched = sorted((r for r in locked_rows if r[1] in todo), key=lambda r: (r[1], r[0]))
        elif pg:
            cur.execute(select + "sku_id = ANY(%s) ORDER BY sku_id, id FOR UPDATE", [location_id, skus])
            fetched = cur.fetchall()
        else:
            cur.execute(select + f"sku_id IN ({', '.join(['%s'] * len(skus))}) ORDER BY sku_id, id",
                        [location_id, *skus])
            fetched = cur.fetchall()
        rows_of: dict[int, list[tuple[int, int, int, int]]] = {}
        for row in fetched:
            rows_of.setdefault(row[1], []).append(row)
        updates: list[tuple[int, int, int]] = []  # (row id, d_on_hand, d_reserved)
        inserts: list[tuple[int, int, int]] = []  # (sku_id, on_hand, reserved)
        for sku in skus:
            dh, dr = todo[sku]
            rows = rows_of.get(sku, [])
            have = Totals(sum(r[2] for r in rows), sum(r[3] for r in rows))
            new_on, new_res = have.on_hand + dh, have.reserved + dr
            if new_on < 0 or new_res < 0 or new_res > new_on:
                raise CannotApply(have, sku_id=sku)
            if not rows:
                inserts.append((sku, new_on, new_res))
                continue
            fit = next((r for r in rows if r[2] + dh >= 0 and 0 <= r[3] + dr <= r[2] + dh), None)
            if fit is not None:
                updates.append((fit[0], dh, dr))
                continue
            n = len(rows)
            for i, r in enumerate(rows):
                on_i = new_on // n + (1 if i < new_on % n else 0)
                res_i = new_res // n + (1 if i < new_res % n else 0)
                updates.append((r[0], on_i - r[2], res_i - r[3]))
        if updates and pg:
            cur.execute("UPDATE inventory_stock AS s SET on_hand = s.on_hand + v.dh, reserved = s.reserved + v.dr "
                        "FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) AS v(id, dh, dr) WHERE s.id = v.id",
                        [[u[0] for u in updates], [u[1] for u in updates], [u[2] for u in updates]])
        elif updates:
            cur.executemany("UPDATE inventory_stock SET on_hand = on_hand + %s, reserved = reserved + %s WHERE id = %s",
                            [(dh, dr, row_id) for row_id, dh, dr in updates])
        if inserts and pg:
            cur.execute("INSERT INTO inventory_stock (location_id, sku_id, bucket, on_hand, reserved) "
                        "SELECT %s, u.sku, 0, u.on_hand, u.reserved "
                        "FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) AS u(sku, on_hand, reserved) "
                        + _ON_CONFLICT_ADD, [location_id, [i[0] for i in inserts], [i[1] for i in inserts],
                                             [i[2] for i in inserts]])
        elif inserts:
            cur.executemany("INSERT INTO inventory_stock (location_id, sku_id, bucket, on_hand, reserved) "
                            "VALUES (%s, %s, 0, %s, %s) " + _ON_CONFLICT_ADD,
                            [(location_id, sku, on, res) for sku, on, res in inserts])


# A row another transaction created meanwhile (a brand-new item) takes the change on top.
_ON_CONFLICT_ADD = ("ON CONFLICT (location_id, sku_id, bucket) DO UPDATE SET "
                    "on_hand = inventory_stock.on_hand + excluded.on_hand, "
                    "reserved = inventory_stock.reserved + excluded.reserved")
