"""Build the demo catalog from "The Complete Journey" (84.51°/dunnhumby) grocery data.

Reads ``transactions/cj_products.csv.gz`` and ``transactions/cj_transactions_w01_40.csv.gz``
under ``settings.DATA_DIR`` with csv + gzip, streaming (about 1.1M lines, a few seconds).

* **Which products**: the top ``top_n`` merchandise products by total ``sales_value``.
  Fuel, coupons and other non-merchandise lines (departments FUEL, KIOSK-GAS, COUPON,
  MISCELLANEOUS, store supplies..., category COUPON/MISC ITEMS) and products without a
  category are left out. Ties go to the lower product id.
* **Categories**: department > product_category > product_type, codes slugged and joined
  with dots (``grocery.fluid-milk-products.fluid-milk-white-only``; codes over 64 characters
  keep a prefix plus a hash). Departments get a Chinese name first.
* **Brand**: the data only says ``Private`` (the retailer's own label) or ``National`` plus a
  manufacturer id, so the brand is 自有品牌 Private label, or the manufacturer (厂商 Mfr <id>).
* **Spec and weight**: the spec is the package size as given ("50 OZ", "6 PK/12 OZ"). The
  weight in grams is an *estimate* for delivery planning, see :func:`estimate_weight_g`.
* **List price**: the median observed shelf price per unit, over lines with quantity > 0:
  ``(sales_value + retail_disc) / quantity`` (``sales_value`` is what the retailer received
  after the loyalty-card discount ``retail_disc``; adding it back gives the shelf price).
  Converted USD -> CNY at ``O2O_USD_CNY`` (setting or environment, default 7.2) and
  rounded half-up to 10 fen (1 角), at least 10 fen.
* **Codes**: SPU and SKU code ``CJ{product_id}``; barcode: a deterministic EAN-13 with the
  China GS1 prefix 69, the product id in ten digits and a valid check digit.
* **Velocity**: units sold per week over the weeks in the file (for the demo stock seed).

Re-running updates rows in place (by code) and never duplicates them.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from o2o.catalog.models import Sku
from o2o.catalog.services import CatalogRow, CategoryNode, UpsertStats, catalog_upsert_rows

PRODUCTS_FILE = "transactions/cj_products.csv.gz"
TRANSACTIONS_FILE = "transactions/cj_transactions_w01_40.csv.gz"
DEFAULT_USD_CNY = Decimal("7.2")

_EXCLUDED_DEPARTMENTS = {
    "", "FUEL", "KIOSK-GAS", "COUPON", "MISCELLANEOUS", "CNTRL/STORE SUP", "POSTAL CENTER", "CHARITABLE CONT",
    "PROD-WHS SALES", "GM MERCH EXP",
}
_EXCLUDED_CATEGORIES = {"", "COUPON/MISC ITEMS"}

DEPARTMENT_ZH = {
    "GROCERY": "食品杂货", "DRUG GM": "日用百货", "PRODUCE": "生鲜蔬果", "COSMETICS": "美妆个护",
    "NUTRITION": "营养保健", "MEAT": "鲜肉", "MEAT-PCKGD": "包装肉品", "DELI": "熟食", "PASTRY": "烘焙",
    "FLORAL": "鲜花", "SEAFOOD-PCKGD": "包装水产", "SPIRITS": "酒水", "SEAFOOD": "水产", "GARDEN CENTER": "园艺",
    "RESTAURANT": "餐饮", "SALAD BAR": "沙拉吧", "TRAVEL & LEISURE": "旅行休闲", "FROZEN GROCERY": "冷冻食品",
    "CHEF SHOPPE": "主厨精选", "TOYS": "玩具", "AUTOMOTIVE": "汽车用品", "ELECT &PLUMBING": "五金电工",
    "HOUSEWARES": "家居用品", "PHOTO & VIDEO": "影音",
}

# --- weight estimate ---------------------------------------------------------------------------

# Grams per unit. Volumes are taken at the density of water (1 ml = 1 g); "OZ" is the
# avoirdupois ounce (the data mixes weight and fluid ounces under "OZ"; they differ by 4 %).
_MASS_G = {
    "OZ": 28.35, "Z": 28.35, "FL OZ": 29.57, "LB": 453.6, "LBS": 453.6, "G": 1.0, "GM": 1.0, "GR": 1.0,
    "KG": 1000.0, "ML": 1.0, "L": 1000.0, "LT": 1000.0, "LTR": 1000.0, "QT": 946.0, "PT": 473.0,
    "GAL": 3785.0, "GA": 3785.0, "CUP": 237.0,
}
# Items per unit and grams per item for count sizes ("24 CT", "1 DZ", "80 LOADS").
_COUNT_G = {
    "CT": 50.0, "PK": 50.0, "PC": 50.0, "EA": 50.0, "ROLL": 50.0, "STEM": 30.0, "SHEETS": 5.0,
    "DZ": 12 * 60.0, "DOZ": 12 * 60.0, "LOADS": 30.0, "LOAD": 30.0, "LD": 30.0, "LDS": 30.0,
}
_SMALL_ITEM_UNITS = {"CT", "PK", "PC", "EA", "ROLL"}
_SMALL_ITEM_G = 2.0  # beyond a dozen, counted items are small ones: tissues, pills, napkins
# When the size says nothing usable (empty, "MED", "974246 PK"): a per-department guess.
_DEPARTMENT_DEFAULT_G = {
    "PRODUCE": 500, "MEAT": 700, "MEAT-PCKGD": 500, "SEAFOOD": 500, "SEAFOOD-PCKGD": 400, "DELI": 300,
    "PASTRY": 400, "FLORAL": 500, "SPIRITS": 1000, "DRUG GM": 200, "COSMETICS": 100, "NUTRITION": 300,
}
_DEFAULT_G = 400
_MIN_G, _MAX_G = 10, 25_000
_MAX_COUNT = 500
_LOOSE_PRODUCE_G = 454  # produce sizes of 10 lb and more are case sizes; it sells per pound
_SIZE_TOKEN = re.compile(r"(\d+\s+\d+/\d+|\d+\s*/\s*\d+|\d*\.\d+|\d+)?\s*-?\s*(FL\.?\s*OZ|[A-Z]+)")
_FRACTION_DENOMINATORS = {2, 3, 4, 8, 16}


def _number(text: str) -> float:
    """"14 1/4" -> 14.25, "1/2" -> 0.5; "12/8" and "2/40" are packs: 12 x 8, 2 x 40."""
    whole = 0.0
    if " " in text:
        head, text = text.split(None, 1)
        whole = float(head)
    if "/" in text:
        num, den = (int(x) for x in text.replace(" ", "").split("/"))
        if num < den and den in _FRACTION_DENOMINATORS:
            return whole + num / den
        return whole + num * den
    return whole + float(text)


def _count_g(qty: float, unit: str) -> float:
    if unit in _SMALL_ITEM_UNITS and qty > 12:
        return 12 * _COUNT_G[unit] + (qty - 12) * _SMALL_ITEM_G
    return qty * _COUNT_G[unit]


def estimate_weight_g(package_size: str, department: str = "", product_type: str = "") -> int:
    """Estimated shipping weight in grams of one unit sold, from a CJ package size.

    * A mass or volume ("50 OZ", "1/2 GAL", "2 L", "HALF GAL") converts directly, volumes at
      1 g/ml.
    * A count times a size ("6 PK/12 OZ", "10 CT/15 OZ") is the count times the size; a size
      written first ("144 OZ/12 PK") is already the total.
    * A bare count ("24 CT", "1 DZ", "80 LOADS") is count x a typical item weight (50 g, an
      egg 60 g, a detergent load 30 g); a count of pieces beyond a dozen means small pieces
      (tissues, pills, napkins), so pieces past the 12th weigh 2 g each. Counts over 500 are
      data errors and ignored.
    * "12/8 OZ" and "2/40 OZ" are packs (12 x 8 oz); "1/2 GAL" and "14 1/4 OZ" are fractions.
    * The gallons of bags ("30 CT/30 GAL" trash bags) are a capacity, not a content: ignored.
    * Produce at 10 lb or more is a case size (bananas "40 LB"); produce sells per pound,
      so one unit is 454 g.
    * Anything else falls back to a per-department typical weight (400 g by default).

    The result is clamped to 10 g .. 25 kg.
    """
    text = " ".join(package_size.upper().replace("HALF GAL", "0.5 GAL").split())
    mass: tuple[int, float] | None = None  # (token position, grams)
    count: tuple[int, float, float] | None = None  # (token position, items, grams)
    for pos, m in enumerate(_SIZE_TOKEN.finditer(text)):
        qty_text, unit = m.group(1), re.sub(r"[.\s]", "", m.group(2)).replace("FLOZ", "FL OZ")
        qty = _number(qty_text) if qty_text else 1.0
        if unit in ("GAL", "GA") and "BAG" in product_type.upper():
            continue
        if unit in _MASS_G and mass is None and qty > 0:
            mass = (pos, qty * _MASS_G[unit])
        elif unit in _COUNT_G and count is None and 0 < qty <= _MAX_COUNT:
            items = qty * 12 if unit in ("DZ", "DOZ") else qty
            count = (pos, items, _count_g(qty, unit))
    if mass is not None and count is not None:
        grams = mass[1] * count[1] if count[0] < mass[0] else mass[1]
    elif mass is not None:
        grams = mass[1]
    elif count is not None:
        grams = count[2]
    else:
        grams = float(_DEPARTMENT_DEFAULT_G.get(department, _DEFAULT_G))
    if department == "PRODUCE" and grams >= 10 * 453.6:
        grams = _LOOSE_PRODUCE_G
    return int(min(max(round(grams), _MIN_G), _MAX_G))


# --- codes, prices, names ---------------------------------------------------------------------

def ean13_check_digit(first12: str) -> int:
    """The EAN-13 check digit of 12 digits (weights 1, 3, 1, 3, ... from the left)."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"need 12 digits: {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def cj_barcode(product_id: int) -> str:
    """Deterministic EAN-13 for a CJ product: 69 + product id in ten digits + check digit."""
    body = f"69{product_id:010d}"
    return body + str(ean13_check_digit(body))


def usd_cents_to_fen(cents: float | Decimal, usd_cny: Decimal) -> int:
    """USD cents -> CNY fen at ``usd_cny``, rounded half-up to 10 fen, at least 10 fen."""
    jiao = (Decimal(str(cents)) * usd_cny / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(int(jiao), 1) * 10


def usd_cny_rate() -> Decimal:
    return Decimal(str(getattr(settings, "O2O_USD_CNY", None) or os.environ.get("O2O_USD_CNY") or DEFAULT_USD_CNY))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _code(parts: list[str]) -> str:
    code = ".".join(slug(p) for p in parts)
    if len(code) <= 64:
        return code
    return code[:55] + "-" + hashlib.sha1(code.encode(), usedforsecurity=False).hexdigest()[:8]


def _title(text: str) -> str:
    return " ".join(w.capitalize() if w.isalpha() else w for w in text.split())


def _median(counts: Counter[int]) -> float:
    n = sum(counts.values())
    lo_rank, hi_rank = (n - 1) // 2, n // 2
    lo = hi = None
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if lo is None and seen > lo_rank:
            lo = value
        if seen > hi_rank:
            hi = value
            break
    return (lo + hi) / 2  # type: ignore[operator]


# --- reading the data -------------------------------------------------------------------------

@dataclass
class _Sales:
    sales: float = 0.0
    units: int = 0
    unit_cents: Counter[int] | None = None


@lru_cache(maxsize=2)
def _read_sales(path: str, mtime_ns: int) -> tuple[dict[str, _Sales], int]:
    """Per product: total sales_value, units sold and the unit shelf prices in cents; and the weeks."""
    per: dict[str, _Sales] = {}
    weeks: set[str] = set()
    with gzip.open(path, "rt", newline="") as f:
        reader = csv.reader(f)
        head = next(reader)
        i_pid, i_qty, i_sales, i_disc, i_week = (head.index(c) for c in
                                                 ("product_id", "quantity", "sales_value", "retail_disc", "week"))
        for row in reader:
            s = per.get(row[i_pid])
            if s is None:
                s = per[row[i_pid]] = _Sales(unit_cents=Counter())
            sales = float(row[i_sales])
            s.sales += sales
            qty = int(row[i_qty])
            if qty > 0:
                s.units += qty
                s.unit_cents[round((sales + abs(float(row[i_disc]))) * 100 / qty)] += 1  # type: ignore[index]
            weeks.add(row[i_week])
    return per, len(weeks)


def _read_products(path: Path) -> dict[str, dict[str, str]]:
    with gzip.open(path, "rt", newline="") as f:
        return {row["product_id"]: row for row in csv.DictReader(f)}


@dataclass(frozen=True, slots=True)
class CjItem:
    """One demo catalog item: the row to import plus what the demo seed needs."""

    rank: int
    product_id: int
    row: CatalogRow
    velocity_per_week: float


def read_cj_catalog(*, top_n: int = 3000, data_dir: Path | None = None,
                    usd_cny: Decimal | None = None) -> list[CjItem]:
    """The top ``top_n`` CJ products by sales value as catalog rows, best seller first."""
    base = Path(data_dir or settings.DATA_DIR)
    tx = base / TRANSACTIONS_FILE
    per, weeks = _read_sales(str(tx), tx.stat().st_mtime_ns)
    products = _read_products(base / PRODUCTS_FILE)
    rate = usd_cny if usd_cny is not None else usd_cny_rate()

    def merchandise(pid: str) -> bool:
        p = products.get(pid)
        return (p is not None and per[pid].units > 0 and p["department"] not in _EXCLUDED_DEPARTMENTS
                and p["product_category"] not in _EXCLUDED_CATEGORIES and bool(p["product_type"])
                and "GASOLINE" not in p["product_type"])

    ranked = sorted((pid for pid in per if merchandise(pid)), key=lambda pid: (-per[pid].sales, int(pid)))
    items = []
    for rank, pid in enumerate(ranked[:top_n]):
        p, s = products[pid], per[pid]
        dept, cat, typ = p["department"], p["product_category"], p["product_type"]
        size = " ".join(p["package_size"].split())
        if p["brand"] == "Private":
            brand, tag = "自有品牌 Private label", "自有品牌"
        else:
            brand, tag = f"厂商{p['manufacturer_id']} Mfr {p['manufacturer_id']}", f"厂商{p['manufacturer_id']}"
        path = (
            CategoryNode(_code([dept]), f"{DEPARTMENT_ZH.get(dept, '')} {_title(dept)}".strip()),
            CategoryNode(_code([dept, cat]), _title(cat)),
            CategoryNode(_code([dept, cat, typ]), _title(typ)),
        )
        name = f"{_title(typ)} {size}".strip() + f" · {tag}"
        row = CatalogRow(
            product_code=f"CJ{pid}", sku_code=f"CJ{pid}", name=name[:200], category_path=path, brand_name=brand,
            spec=size[:100], weight_g=estimate_weight_g(size, dept, typ),
            list_price_fen=usd_cents_to_fen(_median(s.unit_cents), rate),  # type: ignore[arg-type]
            barcode=cj_barcode(int(pid)),
        )
        items.append(CjItem(rank=rank, product_id=int(pid), row=row, velocity_per_week=s.units / max(weeks, 1)))
    return items


@dataclass(frozen=True, slots=True)
class ImportResult:
    stats: UpsertStats
    # (sku id, units per week), best seller first.
    velocity: list[tuple[int, float]]


def import_catalog(*, top_n: int = 3000, data_dir: Path | None = None, usd_cny: Decimal | None = None) -> ImportResult:
    """Import (or refresh) the demo catalog; returns what changed and each SKU's sales velocity."""
    items = read_cj_catalog(top_n=top_n, data_dir=data_dir, usd_cny=usd_cny)
    stats = catalog_upsert_rows(rows=[i.row for i in items])
    ids = dict(Sku.objects.filter(code__in=[i.row.sku_code for i in items]).values_list("code", "pk"))
    return ImportResult(stats=stats, velocity=[(ids[i.row.sku_code], i.velocity_per_week) for i in items])
