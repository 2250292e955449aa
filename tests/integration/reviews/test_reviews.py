"""Reviews (评价): once per bought line, only the member's own completed order, points capped per day,
the public list masks names and leaves hidden reviews out, PIPL export and deletion, OneID merges."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from o2o.accounts.models import Member
from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core.loyalty import CHINA_TZ
from o2o.members.merge import member_merge, member_merge_undo
from o2o.members.models import PointsAccount, PointsLot
from o2o.members.points import points_check
from o2o.members.privacy import member_erase, member_export
from o2o.reviews import selectors
from o2o.reviews.models import Review
from o2o.reviews.services import review_create, review_hide
from tests.factories import member, sku, staff
from tests.integration.reviews.world import order_with_lines

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=CHINA_TZ)


def test_a_review_earns_points_once_per_line_and_is_stored_with_them():
    m, _ = member("张三")
    s = sku()
    _, (line,) = order_with_lines(m, s)
    r = review_create(member=m, order_line_id=line.pk, rating=5, text="  很新鲜 fresh  ", now=T0)
    assert (r.rating, r.text, r.points_earned, r.sku_id) == (5, "很新鲜 fresh", 10, s.pk)
    assert Review.objects.get(pk=r.pk).points_earned == 10
    lot = PointsLot.objects.get(account__member=m)
    assert lot.ref == f"action:review:{line.pk}" and lot.points == 10
    with pytest.raises(Conflict) as exc:
        review_create(member=m, order_line_id=line.pk, rating=1, text="again", now=T0)
    assert exc.value.code == "already_reviewed"
    assert Review.objects.count() == 1 and PointsLot.objects.filter(account__member=m).count() == 1


def test_the_daily_cap_holds_and_what_was_earned_is_stored(settings):
    settings.O2O = {**settings.O2O, "POINTS": {"EARN_ACTIONS": {"sign_in": [5, 5], "review": [10, 15]}}}
    m, _ = member()
    _, lines = order_with_lines(m, sku(), sku(), sku())
    got = [review_create(member=m, order_line_id=ln.pk, rating=4, now=T0).points_earned for ln in lines]
    assert got == [10, 5, 0]
    assert PointsAccount.objects.get(member=m).balance == 15
    assert points_check(PointsAccount.objects.get(member=m)) == ()
    # the next China day earns again
    _, (nxt,) = order_with_lines(m, sku())
    assert review_create(member=m, order_line_id=nxt.pk, rating=4, now=T0 + timedelta(days=1)).points_earned == 10


def test_someone_elses_line_is_not_found_and_nothing_is_written():
    alice, _ = member("Alice")
    bob, _ = member("Bob")
    _, (line,) = order_with_lines(alice, sku())
    with pytest.raises(NotFound) as exc:
        review_create(member=bob, order_line_id=line.pk, rating=5, now=T0)
    assert exc.value.code == "unknown_order_line"
    with pytest.raises(NotFound):
        review_create(member=bob, order_line_id=10**9, rating=5, now=T0)
    assert Review.objects.count() == 0 and not PointsLot.objects.exists()


@pytest.mark.parametrize("status", ["pending_payment", "paid", "picking", "out_for_delivery", "cancelled"])
def test_only_a_completed_order_can_be_reviewed(status):
    m, _ = member()
    _, (line,) = order_with_lines(m, sku(), status=status)
    with pytest.raises(Conflict) as exc:
        review_create(member=m, order_line_id=line.pk, rating=5, now=T0)
    assert exc.value.code == "order_not_completed"
    assert not Review.objects.exists()


def test_a_refunded_line_cannot_be_reviewed_but_the_other_lines_can():
    m, _ = member()
    o, (returned, kept) = order_with_lines(m, sku(), sku())
    type(returned).objects.filter(pk=returned.pk).update(returned_qty=1, refunded_fen=1000)
    o.refunded_fen = 1000
    o.save(update_fields=["refunded_fen"])
    with pytest.raises(Conflict) as exc:
        review_create(member=m, order_line_id=returned.pk, rating=1, now=T0)
    assert exc.value.code == "line_refunded"
    assert review_create(member=m, order_line_id=kept.pk, rating=3, now=T0).rating == 3
    o2, (line2,) = order_with_lines(m, sku(), status="refunded")
    with pytest.raises(Conflict) as exc:
        review_create(member=m, order_line_id=line2.pk, rating=1, now=T0)
    assert exc.value.code == "line_refunded"


@pytest.mark.parametrize("rating", [0, 6, -1, True])
def test_bad_rating_is_refused(rating):
    m, _ = member()
    _, (line,) = order_with_lines(m, sku())
    with pytest.raises(InvalidInput) as exc:
        review_create(member=m, order_line_id=line.pk, rating=rating, now=T0)
    assert exc.value.code == "invalid_rating"


def test_text_is_stripped_and_length_checked():
    m, _ = member()
    _, (a, b) = order_with_lines(m, sku(), sku())
    with pytest.raises(InvalidInput) as exc:
        review_create(member=m, order_line_id=a.pk, rating=3, text="好" * 501, now=T0)
    assert exc.value.code == "review_text_too_long" and exc.value.details["length"] == 501
    assert review_create(member=m, order_line_id=a.pk, rating=3, text=" " + "好" * 500 + "\n", now=T0).text == "好" * 500
    assert review_create(member=m, order_line_id=b.pk, rating=3, text="   ", now=T0).text == ""


def test_public_list_masks_names_hides_hidden_and_averages_visible_only():
    s = sku()
    names = [("张三丰", "", "张**"), ("", "138****5678", "匿名会员"), ("13812345678", "138****5678", "匿名会员")]
    reviews = []
    for i, (name, masked, _) in enumerate(names):
        m = Member.objects.create(display_name=name, phone_masked=masked)
        _, (line,) = order_with_lines(m, s)
        reviews.append(review_create(member=m, order_line_id=line.pk, rating=[5, 3, 1][i], text=f"r{i}",
                                     now=T0 + timedelta(minutes=i)))
    page = selectors.public_page(s.pk, limit=10, offset=0)
    assert page["count"] == 3 and page["average_rating"] == 3.0
    assert [it["reviewer"] for it in page["items"]] == [n[2] for n in reversed(names)]  # newest first
    assert all("1381234" not in it["reviewer"] for it in page["items"])
    review_hide(review_id=reviews[2].pk, reason="广告 spam")
    page = selectors.public_page(s.pk, limit=1, offset=0)
    assert page["count"] == 2 and page["average_rating"] == 4.0
    assert [it["text"] for it in page["items"]] == ["r1"]
    assert selectors.public_page(s.pk, limit=10, offset=1)["items"][0]["text"] == "r0"
    # the points stay after hiding
    assert Review.objects.get(pk=reviews[2].pk).points_earned == 10
    assert PointsAccount.objects.get(member=reviews[2].member).balance == 10
    assert selectors.summary(sku().pk) == {"count": 0, "average_rating": None}


def test_hide_needs_a_reason_and_an_existing_review():
    m, _ = member()
    _, (line,) = order_with_lines(m, sku())
    r = review_create(member=m, order_line_id=line.pk, rating=2, now=T0)
    with pytest.raises(InvalidInput):
        review_hide(review_id=r.pk, reason="  ")
    with pytest.raises(NotFound):
        review_hide(review_id=10**9, reason="x")
    first = review_hide(review_id=r.pk, reason="辱骂 abuse", now=T0)
    again = review_hide(review_id=r.pk, reason="other", now=T0 + timedelta(hours=1))
    assert again.hidden and again.hidden_reason == "辱骂 abuse" and again.hidden_at == first.hidden_at


def test_export_lists_the_reviews_and_deletion_erases_their_text():
    m, _ = member("李四")
    other, _ = member("王五")
    s = sku()
    _, (line,) = order_with_lines(m, s)
    _, (other_line,) = order_with_lines(other, s)
    review_create(member=m, order_line_id=line.pk, rating=4, text="包装很好 well packed", now=T0)
    review_create(member=other, order_line_id=other_line.pk, rating=2, text="一般 so-so", now=T0)
    doc = member_export(member_id=m.pk, reason="")
    assert [(r["rating"], r["text"], r["order_line_id"]) for r in doc["reviews"]] == [
        (4, "包装很好 well packed", line.pk)]
    out = member_erase(member_id=m.pk, reason="")
    assert out["member_id"] == m.pk
    r = Review.objects.get(member=m)
    assert (r.text, r.hidden, r.rating, r.points_earned) == ("", True, 4, 10)
    assert Review.objects.get(member=other).text == "一般 so-so"
    page = selectors.public_page(s.pk, limit=10, offset=0)
    assert page["count"] == 1 and "包装" not in str(page)


def test_a_merge_moves_the_reviews_and_the_undo_moves_them_back():
    survivor, _ = member("甲")
    merged, _ = member("乙")
    o, (line,) = order_with_lines(merged, sku())
    r = review_create(member=merged, order_line_id=line.pk, rating=5, now=T0)
    user, _ = staff("hq_admin")
    merge = member_merge(survivor_id=survivor.pk, merged_id=merged.pk, now=T0)
    assert Review.objects.get(pk=r.pk).member_id == survivor.pk and merge.moved["reviews"] == [r.pk]
    member_merge_undo(merge_id=merge.pk, user=user, now=T0 + timedelta(minutes=1))
    assert Review.objects.get(pk=r.pk).member_id == merged.pk


def test_a_review_the_survivor_wrote_on_a_merged_order_goes_back_with_the_order():
    survivor, _ = member("甲")
    merged, _ = member("乙")
    _, (line, other) = order_with_lines(merged, sku(), sku())
    user, _ = staff("hq_admin")
    merge = member_merge(survivor_id=survivor.pk, merged_id=merged.pk, now=T0)
    after = review_create(member=survivor, order_line_id=line.pk, rating=4, now=T0 + timedelta(seconds=30))
    _, (own,) = order_with_lines(survivor, sku())
    mine = review_create(member=survivor, order_line_id=own.pk, rating=5, now=T0 + timedelta(seconds=40))
    member_merge_undo(merge_id=merge.pk, user=user, now=T0 + timedelta(minutes=1))
    assert Review.objects.get(pk=after.pk).member_id == merged.pk  # it is about the merged member's purchase
    assert Review.objects.get(pk=mine.pk).member_id == survivor.pk
    assert not Review.objects.filter(order_line=other).exists()
