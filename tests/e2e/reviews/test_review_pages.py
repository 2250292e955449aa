"""Storefront: a completed order's page shows the 评价 form per line; posting it (htmx) shows the review and the
points; the product page shows the average and the newest visible reviews with masked names."""

from __future__ import annotations

import re

import pytest

from o2o.members.selectors import available_points
from o2o.reviews.models import Review
from o2o.reviews.services import review_create, review_hide
from o2o.web.auth import SESSION_MEMBER
from tests.factories import member, sku
from tests.integration.reviews.world import order_with_lines

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def signed_in(client, m) -> None:  # noqa: ANN001
    session = client.session
    session[SESSION_MEMBER] = m.pk
    session.save()


def _idem(html: str, line_id: int) -> str:
    block = html[html.index(f'id="review-line-{line_id}"'):]
    return re.search(r'name="idem" value="([0-9a-f]+)"', block).group(1)


def test_completed_order_shows_the_form_and_posting_shows_the_review(client):
    m, _ = member("张三")
    o, (line, other) = order_with_lines(m, sku(name="有机牛奶"), sku())
    signed_in(client, m)
    html = client.get(f"/shop/orders/{o.pk}").content.decode()
    assert 'data-testid="reviews"' in html and f'id="review-line-{line.pk}"' in html
    assert f'hx-post="/shop/orders/{o.pk}/review"' in html
    assert all(f'name="rating" value="{s}"' in html for s in range(1, 6))
    assert f'<label for="rate-{line.pk}-4">' in html and "<textarea" in html
    url = f"/shop/orders/{o.pk}/review"
    body = {"line_id": line.pk, "rating": "4", "text": " 很新鲜 ", "idem": _idem(html, line.pk)}
    r = client.post(url, body, **HX)
    assert r.status_code == 200, r.content
    frag = r.content.decode()
    assert 'data-testid="review"' in frag and "很新鲜" in frag and "★★★★☆" in frag
    assert "获得 10 积分" in frag and "<form" not in frag
    assert Review.objects.get(order_line=line).rating == 4 and available_points(m.pk) == 10
    again = client.post(url, body, **HX)  # the same form submitted twice: the first answer again
    assert again.status_code == 200 and Review.objects.count() == 1 and available_points(m.pk) == 10
    page = client.get(f"/shop/orders/{o.pk}").content.decode()
    assert "很新鲜" in page and f'name="line_id" value="{other.pk}"' in page  # the other line keeps its form
    assert f'name="line_id" value="{line.pk}"' not in page


def test_errors_come_back_in_the_fragment_and_others_orders_are_404(client):
    m, _ = member()
    o, (line,) = order_with_lines(m, sku())
    pending, (pline,) = order_with_lines(m, sku(), status="paid")
    signed_in(client, m)
    assert 'data-testid="reviews"' not in client.get(f"/shop/orders/{pending.pk}").content.decode()
    r = client.post(f"/shop/orders/{pending.pk}/review", {"line_id": pline.pk, "rating": "5", "idem": "a1"}, **HX)
    assert r.status_code == 409 and "订单完成后才能评价" in r.content.decode()
    r = client.post(f"/shop/orders/{o.pk}/review", {"line_id": line.pk, "rating": "9", "idem": "a2"}, **HX)
    assert r.status_code == 422 and 'data-testid="review-error"' in r.content.decode()
    assert client.post(f"/shop/orders/{o.pk}/review", {"line_id": pline.pk, "rating": "5"}, **HX).status_code == 404
    assert client.post(f"/shop/orders/{o.pk}/review", {"line_id": "x", "rating": "5"}, **HX).status_code == 404
    stranger, _ = member()
    signed_in(client, stranger)
    assert client.get(f"/shop/orders/{o.pk}").status_code == 404
    assert client.post(f"/shop/orders/{o.pk}/review", {"line_id": line.pk, "rating": "5"}, **HX).status_code == 404
    assert not Review.objects.exists()
    client.cookies.clear()
    r = client.post(f"/shop/orders/{o.pk}/review", {"line_id": line.pk, "rating": "5"})
    assert r.status_code == 302 and "/shop/login" in r["Location"]


def test_product_page_shows_the_average_and_the_newest_visible_reviews(client, django_assert_max_num_queries):
    s = sku(name="进口香蕉")
    written = []
    for name, rating in (("王小明", 5), ("李四", 3), ("赵六", 4), ("钱七", 1)):
        m, _ = member(name)
        _, (line,) = order_with_lines(m, s)
        written.append(review_create(member=m, order_line_id=line.pk, rating=rating, text=f"{name}的评价"))
    review_hide(review_id=written[3].pk, reason="spam")
    html = client.get(f"/shop/p/{s.pk}").content.decode()
    assert 'data-testid="product-reviews"' in html and "4.0" in html  # (5 + 3 + 4) / 3
    assert html.count('data-testid="product-review"') == 3
    assert "王**" in html and "王小明" not in html.replace("王小明的评价", "")
    assert "钱七的评价" not in html
    other = sku()
    assert "暂无评价" in client.get(f"/shop/p/{other.pk}").content.decode()
