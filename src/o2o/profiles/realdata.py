"""Real purchase histories for the tag engine: CDNOW customers and Complete Journey households.

Readers only (no Django): they turn the shared data files into the core's :class:`Purchases`.
Money is in US dollars there; it becomes fen at ``fen_per_usd`` (default 700, i.e. 1 USD =
7.00 CNY, about the 2017-2024 rate; no inflation adjustment for CDNOW's 1997 dollars).

* CDNOW (``customers/cdnow_master.txt``): one line per purchase (customer, date, CDs, dollars),
  channel ``pc``, mode ``express`` (a mail-order CD shop), category ``CD``; each line is an order.
* Complete Journey (``transactions/cj_transactions_w01_40.csv.gz`` + ``cj_products.csv.gz``):
  grocery baskets of ~2,500 households in ~400 stores, weeks 1-40 of 2017; channel ``pos``,
  mode ``counter``, store = ``store_id``, category = ``product_category``, department =
  ``department``; discount = ``retail_disc + coupon_disc`` (a line with a discount counts as
  discounted). Timestamps are read as China local time.
"""

from __future__ import annotations

import csv
import gzip
from datetime import datetime
from pathlib import Path

import numpy as np

from o2o.core.loyalty import CHINA_TZ
from o2o.core.profile import MODES, Purchases

__all__ = ["CDNOW_FILE", "CJ_PRODUCTS", "CJ_TRANSACTIONS", "DATA", "FEN_PER_USD", "cdnow", "complete_journey"]

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
CDNOW_FILE = DATA / "customers" / "cdnow_master.txt"
CJ_TRANSACTIONS = DATA / "transactions" / "cj_transactions_w01_40.csv.gz"
CJ_PRODUCTS = DATA / "transactions" / "cj_products.csv.gz"
FEN_PER_USD = 700
_CHINA_OFFSET = 8 * 3600


def _local_epoch(values: np.ndarray) -> np.ndarray:
    """numpy datetime64 (local China time) -> UTC epoch seconds."""
    return values.astype("datetime64[s]").astype(np.int64) - _CHINA_OFFSET


def cdnow(path: Path = CDNOW_FILE, fen_per_usd: int = FEN_PER_USD, *, noon: bool = True) -> Purchases:
    raw = np.loadtxt(path, skiprows=1, dtype=np.float64)
    ids = raw[:, 0].astype(np.int64)
    dates = raw[:, 1].astype(np.int64)
    iso = np.array([f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in dates.tolist()],
                   dtype="datetime64[D]")
    at = _local_epoch(iso) + (12 * 3600 if noon else 0)
    members, member = np.unique(ids, return_inverse=True)
    n = len(ids)
    zeros = np.zeros(n, dtype=np.int64)
    return Purchases(
        members=tuple(f"cdnow:{m}" for m in members.tolist()), member=member.ravel().astype(np.int64),
        basket=np.arange(n, dtype=np.int64) + 10**12, at=at,
        amount_fen=np.round(raw[:, 3] * fen_per_usd).astype(np.int64), discount_fen=zeros, refunded_fen=zeros,
        qty=raw[:, 2].astype(np.int64), channel=zeros, store=zeros - 1,
        mode=np.full(n, MODES.index("express"), dtype=np.int64), category=zeros, department=zeros,
        channels=("pc",), stores=(), categories=("CD",), departments=("MUSIC",),
    )


def _products(path: Path) -> tuple[dict[int, tuple[int, int]], list[str], list[str]]:
    cats: dict[str, int] = {}
    depts: dict[str, int] = {}
    out: dict[int, tuple[int, int]] = {}
    with gzip.open(path, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            c = row["product_category"] or ""
            d = row["department"] or ""
            out[int(row["product_id"])] = (cats.setdefault(c, len(cats)) if c else -1,
                                           depts.setdefault(d, len(depts)) if d else -1)
    return out, list(cats), list(depts)


def complete_journey(path: Path = CJ_TRANSACTIONS, products: Path = CJ_PRODUCTS,
                     fen_per_usd: int = FEN_PER_USD, limit: int | None = None) -> Purchases:
    prod, cats, depts = _products(products)
    cols: dict[str, list] = {k: [] for k in ("hh", "store", "basket", "product", "qty", "sales", "disc", "ts")}
    with gzip.open(path, "rt", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for i, row in enumerate(reader):
            if limit is not None and i >= limit:
                break
            cols["hh"].append(row[0])
            cols["store"].append(row[1])
            cols["basket"].append(row[2])
            cols["product"].append(row[3])
            cols["qty"].append(row[4])
            cols["sales"].append(row[5])
            cols["disc"].append(float(row[6]) + float(row[7]))
            cols["ts"].append(row[10])
    hh = np.array(cols["hh"], dtype=np.int64)
    members, member = np.unique(hh, return_inverse=True)
    stores, store = np.unique(np.array(cols["store"], dtype=np.int64), return_inverse=True)
    product = np.array(cols["product"], dtype=np.int64)
    cat_dept = np.array([prod.get(p, (-1, -1)) for p in product.tolist()], dtype=np.int64).reshape(-1, 2)
    n = len(hh)
    return Purchases(
        members=tuple(f"cj:{m}" for m in members.tolist()), member=member.ravel().astype(np.int64),
        basket=np.array(cols["basket"], dtype=np.int64), at=_local_epoch(np.array(cols["ts"], dtype="datetime64[s]")),
        amount_fen=np.round(np.array(cols["sales"], dtype=float) * fen_per_usd).astype(np.int64),
        discount_fen=np.round(np.abs(np.array(cols["disc"])) * fen_per_usd).astype(np.int64),
        refunded_fen=np.zeros(n, dtype=np.int64), qty=np.maximum(np.array(cols["qty"], dtype=np.int64), 1),
        channel=np.zeros(n, dtype=np.int64), store=store.ravel().astype(np.int64),
        mode=np.full(n, MODES.index("counter"), dtype=np.int64), category=cat_dept[:, 0],
        department=cat_dept[:, 1], channels=("pos",), stores=tuple(str(s) for s in stores.tolist()),
        categories=tuple(cats), departments=tuple(depts),
    )


CDNOW_CALIBRATION_END = datetime(1997, 9, 30, 23, 59, 59, tzinfo=CHINA_TZ)
CDNOW_END = datetime(1998, 6, 30, 23, 59, 59, tzinfo=CHINA_TZ)
CJ_END = datetime(2017, 10, 7, 23, 59, 59, tzinfo=CHINA_TZ)
