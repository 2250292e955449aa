"""The reviews API: members review their own completed lines (once, with points, Idempotency-Key), the public
list is masked and paginated, HQ hides, and every error has the one shape."""

from __future__ import annotations

import pytest

from o2o.members.selectors import available_points
from o2o.reviews.models import Review
from tests.factories import assert_error, auth, location, member, sku, staff
from tests.integration.fulfilment.world import post
from tests.integration.reviews.world import order_with_lines

pytestmark = pytest.mark.django_db

URL = "/api/v1/reviews"


def test_review_once_with_points_then_409(client):
    m, token = member("张三")
    _, (line,) = order_with_lines(m, sku())
    r = post(client, URL, {"order_line_id": line.pk, "rating": 5, "text": " 好吃 tasty "}, token)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["text"] == "好吃 tasty" and body["points_earned"] == 10 and body["hidden"] is False
    assert available_points(m.pk) == 10
    assert_error(post(client, URL, {"order_line_id": line.pk, "rating": 4}, token), 409, "already_reviewed")
    mine = client.get(f"{URL}/mine", **auth(token)).json()
    assert [x["id"] for x in mine] == [body["id"]]


def test_idempotency_key_replays_the_first_answer(client):
    m, token = member()
    _, (line,) = order_with_lines(m, sku())
    body = {"order_line_id": line.pk, "rating": 3, "text": "ok"}
    first = post(client, URL, body, token, key="rev-1")
    again = post(client, URL, body, token, key="rev-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Review.objects.count() == 1 and available_points(m.pk) == 10
    assert_error(post(client, URL, {**body, "rating": 2}, token, key="rev-1"), 409, "idempotency_key_reused")


def test_someone_elses_line_is_404_and_not_completed_409(client):
    alice, _ = member("Alice")
    bob, bob_token = member("Bob")
    _, (line,) = order_with_lines(alice, sku())
    assert_error(post(client, URL, {"order_line_id": line.pk, "rating": 5}, bob_token), 404, "unknown_order_line")
    _, (paid,) = order_with_lines(bob, sku(), status="paid")
    assert_error(post(client, URL, {"order_line_id": paid.pk, "rating": 5}, bob_token), 409, "order_not_completed")
    assert not Review.objects.exists()


@pytest.mark.parametrize("body", [{"rating": 5}, {"order_line_id": 1, "rating": 0},
                                  {"order_line_id": 1, "rating": 6}, {"order_line_id": 1, "rating": "five"},
                                  {"order_line_id": 1, "rating": 3, "text": 12}, {"order_line_id": 1, "rating": True},
                                  {"order_line_id": 1, "rating": 4.0}, "not json"])
def test_bad_input_is_422_in_the_error_shape(client, body):
    _, token = member()
    assert_error(post(client, URL, body, token), 422 if body != "not json" else 400)


def test_long_text_is_422_with_its_own_code(client):
    m, token = member()
    _, (line,) = order_with_lines(m, sku())
    err = assert_error(post(client, URL, {"order_line_id": line.pk, "rating": 3, "text": "长" * 501}, token), 422,
                       "review_text_too_long")
    assert err["details"]["max"] == 500


def test_who_may_write_read_and_hide(client):
    m, token = member()
    _, (line,) = order_with_lines(m, sku())
    assert_error(post(client, URL, {"order_line_id": line.pk, "rating": 5}, None), 401)
    _, clerk = staff("clerk", loc=location())
    assert_error(post(client, URL, {"order_line_id": line.pk, "rating": 5}, clerk), 403, "members_only")
    rid = post(client, URL, {"order_line_id": line.pk, "rating": 5}, token).json()["id"]
    hide = f"{URL}/{rid}/hide"
    assert_error(post(client, hide, {"reason": "spam"}, token), 403)
    assert_error(post(client, hide, {"reason": "spam"}, clerk), 403)
    _, manager = staff("store_manager", loc=location())
    assert_error(post(client, hide, {"reason": "spam"}, manager), 403)
    _, hq = staff("hq_admin")
    assert_error(post(client, hide, {"reason": ""}, hq), 422)
    assert_error(post(client, f"{URL}/999999/hide", {"reason": "x"}, hq), 404, "unknown_review")
    r = post(client, hide, {"reason": "广告 spam"}, hq)
    assert r.status_code == 200 and r.json()["hidden"] is True
    assert available_points(m.pk) == 10  # not taken back


def test_public_list_is_masked_paginated_and_leaves_hidden_out(client):
    s = sku()
    tokens = []
    for name, rating in (("张三丰", 5), ("李四", 4), ("王五", 1)):
        m, token = member(name)
        _, (line,) = order_with_lines(m, s)
        assert post(client, URL, {"order_line_id": line.pk, "rating": rating, "text": name}, token).status_code == 201
        tokens.append(token)
    page = client.get(URL, {"sku_id": s.pk, "limit": 2}).json()  # no sign-in needed
    assert page["count"] == 3 and page["average_rating"] == round(10 / 3, 2)
    assert [it["reviewer"] for it in page["items"]] == ["王**", "李**"]
    assert all("member_id" not in it and "order_id" not in it for it in page["items"])
    assert client.get(URL, {"sku_id": s.pk, "offset": 2}).json()["items"][0]["reviewer"] == "张**"
    worst = Review.objects.get(rating=1)
    _, hq = staff("hq_admin")
    post(client, f"{URL}/{worst.pk}/hide", {"reason": "辱骂 abuse"}, hq)
    page = client.get(URL, {"sku_id": s.pk}).json()
    assert page["count"] == 2 and page["average_rating"] == 4.5 and "王五" not in str(page)
    assert_error(client.get(URL), 422)
    assert_error(client.get(URL, {"sku_id": s.pk, "limit": 1000}), 422)
