"""The CJ catalog importer on a deterministic slice (the top 50 products by sales)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from o2o.catalog.importer import (
    cj_barcode,
    ean13_check_digit,
    estimate_weight_g,
    import_catalog,
    read_cj_catalog,
    usd_cents_to_fen,
)
from o2o.catalog.models import Brand, Category, Product, Sku

TOP = 50


def valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and int(code[-1]) == ean13_check_digit(code[:12])


# --- pure helpers -------------------------------------------------------------------------------

def test_barcode_is_ean13_with_china_prefix_and_valid_check_digit():
    assert ean13_check_digit("400638133393") == 1  # a published EAN-13: 4006381333931
    code = cj_barcode(1029743)
    assert code.startswith("69") and valid_ean13(code) and code == cj_barcode(1029743)
    assert cj_barcode(1) != cj_barcode(2)


@pytest.mark.parametrize(("cents", "fen"), [(100, 720), (99, 710), (1, 10), (0, 10), (249, 1790), (12345, 88880)])
def test_usd_to_fen_rounds_to_ten_fen(cents, fen):
    assert usd_cents_to_fen(cents, Decimal("7.2")) == fen


@pytest.mark.parametrize(("size", "dept", "grams"), [
    ("50 OZ", "GROCERY", 1418),
    ("1 GA", "GROCERY", 3785),
    ("1/2 GAL", "GROCERY", 1892),
    ("6 PK/12 OZ", "GROCERY", 2041),
    ("144 OZ/12 PK", "GROCERY", 4082),
    ("12/8 OZ", "GROCERY", 2722),
    ("14 1/4 OZ", "GROCERY", 404),
    ("1 DZ", "GROCERY", 720),
    ("40 LB", "PRODUCE", 454),        # a case size: produce sells per pound
    ("974246  PK", "GROCERY", 400),   # garbage count: department default
    ("", "MEAT", 700),
    ("30 CT/30 GAL", "DRUG GM", 636),    # 12 x 50 g + 18 x 2 g; the gallons are capacity
])
def test_weight_estimate(size, dept, grams):
    got = estimate_weight_g(size, dept, "PLASTIC TRASH BAGS" if "GAL" in size and "CT" in size else "")
    assert got == grams


# --- reading and importing ------------------------------------------------------------------------

def test_read_is_ranked_and_excludes_non_merchandise():
    items = read_cj_catalog(top_n=TOP)
    assert len(items) == TOP and [i.rank for i in items] == list(range(TOP))
    for i in items:
        assert i.row.sku_code == f"CJ{i.product_id}" and i.velocity_per_week > 0
        assert not i.row.category_path[0].code.startswith(("fuel", "misc", "coupon"))
        assert "gasoline" not in i.row.category_path[-1].code


@pytest.mark.django_db
def test_import_creates_the_catalog_and_is_idempotent():
    first = import_catalog(top_n=TOP)
    assert first.stats.skus_created == TOP and first.stats.products_created == TOP
    assert Sku.objects.filter(code__startswith="CJ").count() == TOP
    assert len(first.velocity) == TOP and all(v > 0 for _, v in first.velocity)

    for sku in Sku.objects.select_related("product__category__parent__parent", "product__brand"):
        assert sku.list_price_fen > 0 and sku.list_price_fen % 10 == 0
        assert valid_ean13(sku.barcode) and sku.barcode.startswith("69")
        assert sku.weight_g > 0 and sku.product.brand is not None
        leaf = sku.product.category
        # department > product_category > product_type
        assert leaf.parent is not None and leaf.parent.parent is not None and leaf.parent.parent.parent is None
        assert leaf.code.startswith(leaf.parent.code + ".") and leaf.parent.code.startswith(leaf.parent.parent.code)
    assert Category.objects.get(code="grocery").name == "食品杂货 Grocery"
    assert Brand.objects.filter(name="自有品牌 Private label").exists()

    counts = (Category.objects.count(), Brand.objects.count(), Product.objects.count(), Sku.objects.count())
    again = import_catalog(top_n=TOP)
    assert not again.stats.changed
    assert (Category.objects.count(), Brand.objects.count(), Product.objects.count(), Sku.objects.count()) == counts
    assert again.velocity == first.velocity


@pytest.mark.django_db
def test_reimport_updates_in_place():
    import_catalog(top_n=10)
    sku = Sku.objects.order_by("pk").first()
    original = sku.list_price_fen
    Sku.objects.filter(pk=sku.pk).update(list_price_fen=1, name="changed")
    result = import_catalog(top_n=10)
    assert result.stats.skus_updated == 1 and result.stats.skus_created == 0
    sku.refresh_from_db()
    assert sku.list_price_fen == original and sku.name != "changed"


@pytest.mark.django_db
def test_exchange_rate_is_applied():
    at_72 = {i.row.sku_code: i.row.list_price_fen for i in read_cj_catalog(top_n=5)}
    at_1 = {i.row.sku_code: i.row.list_price_fen for i in read_cj_catalog(top_n=5, usd_cny=Decimal("1"))}
    for code, fen in at_72.items():
        assert abs(fen - at_1[code] * 7.2) <= 40  # both rounded to 10 fen
