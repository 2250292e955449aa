"""Behaviour events: one row per member, kind, SKU and China day; fed to the tag engine with the sign-in lots;
erased with the member, moved by a OneID merge, purged after the retention; cart adds come through the signal."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from o2o.core.loyalty import CHINA_TZ
from o2o.members import actions
from o2o.members.merge import member_merge, member_merge_undo
from o2o.members.privacy import member_erase, member_export
from o2o.orders import carts
from o2o.profiles import events, services
from o2o.profiles.history import member_events, member_histories
from o2o.profiles.models import BehaviourEvent, EventKind, MemberTag
from tests.factories import member, sku, staff
from tests.integration.profiles.world import AS_OF, order

pytestmark = pytest.mark.django_db

VIEW, CART, SEARCH = EventKind.VIEW, EventKind.CART_ADD, EventKind.SEARCH


def _tags(m) -> dict:  # noqa: ANN001
    return {t.name: t for t in MemberTag.objects.filter(member=m)}


def _rows(m) -> list[tuple]:  # noqa: ANN001
    return sorted(BehaviourEvent.objects.filter(member=m).values_list("kind", "sku_id", "day"), key=str)


def test_one_row_per_member_kind_sku_and_china_day(django_assert_num_queries):
    m, _ = member()
    a, b = sku(), sku()
    morning = datetime(2024, 6, 10, 8, 0, tzinfo=CHINA_TZ)
    with django_assert_num_queries(1):  # one INSERT, no read first
        events.record(m.pk, VIEW, a.pk, "h5", morning)
    for h in (1, 5, 15):  # the same day (China): the same row, the first view's time kept
        events.record(m.pk, VIEW, a.pk, "mini_program", morning + timedelta(hours=h))
    events.record(m.pk, VIEW, b.pk, "h5", morning)
    events.record(m.pk, CART, a.pk, "h5", morning)
    events.record(m.pk, VIEW, a.pk, "h5", morning + timedelta(hours=16))  # 00:00 the next China day
    events.record(m.pk, SEARCH, None, "h5", morning)
    events.record(m.pk, SEARCH, None, "h5", morning + timedelta(hours=2))  # one search row a day
    day, nxt = morning.date(), morning.date() + timedelta(days=1)
    assert _rows(m) == sorted([(VIEW, a.pk, day), (VIEW, b.pk, day), (CART, a.pk, day), (VIEW, a.pk, nxt),
                               (SEARCH, None, day)], key=str)
    first = BehaviourEvent.objects.get(member=m, kind=VIEW, sku=a, day=day)
    assert first.at == morning and first.channel == "h5"


def test_record_refuses_what_would_be_a_bug_of_the_caller():
    m, _ = member()
    with pytest.raises(ValueError, match="Unknown"):
        events.record(m.pk, "sign_in", None, "h5")  # sign-ins are the points lots, never stored here
    with pytest.raises(ValueError, match="needs sku_id"):
        events.record(m.pk, VIEW, None, "h5")
    with pytest.raises(ValueError, match="has no sku_id"):
        events.record(m.pk, SEARCH, sku().pk, "h5")
    with pytest.raises(ValueError, match="aware"):
        events.record(m.pk, SEARCH, None, "h5", datetime(2024, 6, 1, 12, 0))  # noqa: DTZ001
    assert not BehaviourEvent.objects.exists()


def test_cart_adds_of_members_become_events_and_visitors_do_not():
    m, _ = member()
    a, b = sku(), sku()
    cart = carts.cart_for_member(m)
    carts.cart_add(cart, sku_id=a.pk, qty=2)  # a new line
    assert _rows(m) == [(CART, a.pk, BehaviourEvent.objects.get().day)]
    BehaviourEvent.objects.all().delete()
    carts.cart_add(cart, sku_id=a.pk, qty=1)  # more units of the line: a cart add too
    assert BehaviourEvent.objects.filter(member=m, kind=CART, sku=a).count() == 1
    BehaviourEvent.objects.all().delete()
    carts.cart_set_line(cart, sku_id=a.pk, qty=1)  # fewer units: not an add
    carts.cart_set_line(cart, sku_id=a.pk, qty=0)  # removed: not an add
    assert not BehaviourEvent.objects.exists()
    later = datetime(2024, 6, 2, 9, 0, tzinfo=CHINA_TZ)
    carts.cart_set_line(cart, sku_id=b.pk, qty=3, now=later)  # a new line set directly: an add, at its time
    ev = BehaviourEvent.objects.get()
    assert (ev.member_id, ev.kind, ev.sku_id, ev.day, ev.at, ev.channel) == (m.pk, CART, b.pk, later.date(), later,
                                                                              cart.channel)
    visitor, _token = carts.cart_for_token("", create=True)
    carts.cart_add(visitor, sku_id=a.pk)
    assert BehaviourEvent.objects.count() == 1  # nothing for the visitor's cart


def _clickstream_world() -> dict:
    """A shopper with views, cart adds, a search and sign-ins around AS_OF, an order in the 30 days."""
    shopper, _ = member("逛逛")
    idle, _ = member("安静")
    a, b, c = sku(), sku(), sku()
    order(shopper, AS_OF - timedelta(days=3), [(a, 1, 1500, 0)])
    for d in (1, 2, 3, 10):
        events.record(shopper.pk, VIEW, a.pk, "h5", AS_OF - timedelta(days=d))
    events.record(shopper.pk, VIEW, b.pk, "mini_program", AS_OF - timedelta(days=2))
    events.record(shopper.pk, VIEW, c.pk, "h5", AS_OF - timedelta(days=45))  # before the 30 days
    events.record(shopper.pk, VIEW, c.pk, "h5", AS_OF + timedelta(hours=2))  # after as_of
    events.record(shopper.pk, CART, a.pk, "h5", AS_OF - timedelta(days=3))
    events.record(shopper.pk, SEARCH, None, "h5", AS_OF - timedelta(days=4))
    for d in (40, 20, 12, 6, 1):  # in time order: 4 sign-in days in the 30, one more before
        actions.sign_in(member_id=shopper.pk, now=AS_OF - timedelta(days=d))
    actions.sign_in(member_id=idle.pk, now=AS_OF - timedelta(days=50))  # only an old sign-in
    return {"shopper": shopper, "idle": idle}


def test_tags_compute_reads_the_events_and_the_sign_in_lots():
    w = _clickstream_world()
    out = services.tags_compute(as_of=AS_OF)
    # the shopper's 5 views, cart add, search, 4 sign-ins; the latest older view and sign-in of each member
    assert out["events"] == 5 + 1 + 1 + 4 + (1 + 1) + 1
    t = _tags(w["shopper"])
    assert t["views_30d"].value == 5 and t["cart_adds_30d"].value == 1 and t["searches_30d"].value == 1
    assert t["sign_in_days_30d"].value == 4 and t["events_30d"].value == 11
    assert t["view_to_order_30d"].value == 0.2 and t["last_seen_days"].value == 1.0
    assert "5 product-page 'view' events" in t["views_30d"].explanation
    assert "orders 1 / views 5" in t["view_to_order_30d"].explanation
    assert "4 days (China calendar) with a 'sign_in'" in t["sign_in_days_30d"].explanation
    assert "cart adds 1, searches 1, sign-in days 4" in t["events_30d"].explanation
    assert t["signin_days_90d"].value == 5 and t["engaged_signin"].value is False
    assert "(4 days;" in t["engagement_level"].explanation and "signin_days_30d" not in t
    i = _tags(w["idle"])  # no event in the 30 days: zero counts, last seen at the old sign-in
    assert (i["views_30d"].value, i["sign_in_days_30d"].value, i["view_to_order_30d"].value) == (0, 0, 0.0)
    assert i["last_seen_days"].value == 50.0


def test_events_are_read_in_a_few_queries(django_assert_max_num_queries):
    w = _clickstream_world()
    ids = member_histories().members
    with django_assert_max_num_queries(4):
        ev = member_events(ids, AS_OF)
    mine = ev.member == ids.index(w["shopper"].pk)
    assert sorted(ev.kinds[k] for k in ev.kind[mine]).count("view") == 6  # 5 in the 30 days + the older one


def test_export_has_the_counts_and_the_recent_rows_and_erasure_deletes_them():
    m, _ = member("李四")
    other, _ = member("王五")
    a = sku()
    now = datetime.now(CHINA_TZ)
    events.record(m.pk, VIEW, a.pk, "h5", now - timedelta(hours=1))
    events.record(m.pk, CART, a.pk, "h5", now - timedelta(hours=1))
    events.record(m.pk, VIEW, a.pk, "h5", now - timedelta(days=60))
    events.record(other.pk, VIEW, a.pk, "h5", now)
    doc = member_export(member_id=m.pk, reason="")
    part = doc["behaviour_events"]
    assert part["counts"] == {"cart_add": 1, "view": 2}
    assert sorted((r["kind"], r["sku_id"]) for r in part["recent"]) == [("cart_add", a.pk), ("view", a.pk)]
    out = member_erase(member_id=m.pk, reason="")
    assert out["member_id"] == m.pk
    assert not BehaviourEvent.objects.filter(member=m).exists()
    assert BehaviourEvent.objects.filter(member=other).count() == 1  # someone else's stay


def test_a_merge_moves_the_events_to_the_survivor_and_the_undo_leaves_them():
    survivor, _ = member("甲")
    merged, _ = member("乙")
    a, b = sku(), sku()
    day = datetime(2024, 6, 10, 9, 0, tzinfo=CHINA_TZ)
    events.record(survivor.pk, VIEW, a.pk, "h5", day + timedelta(hours=3))
    events.record(merged.pk, VIEW, a.pk, "app", day)  # the same SKU and day: the survivor's row stands
    events.record(merged.pk, VIEW, b.pk, "app", day)
    events.record(merged.pk, SEARCH, None, "app", day)
    merge = member_merge(survivor_id=survivor.pk, merged_id=merged.pk, now=day + timedelta(days=1))
    assert merge.moved["behaviour_events"]["moved"] == 3
    assert not BehaviourEvent.objects.filter(member=merged).exists()
    assert _rows(survivor) == sorted([(VIEW, a.pk, day.date()), (VIEW, b.pk, day.date()),
                                      (SEARCH, None, day.date())], key=str)
    assert BehaviourEvent.objects.get(member=survivor, sku=a).channel == "h5"
    user, _ = staff("hq_admin")
    member_merge_undo(merge_id=merge.pk, user=user, now=day + timedelta(days=2))
    assert BehaviourEvent.objects.filter(member=survivor).count() == 3  # not money: they stay (documented)


def test_purge_deletes_only_rows_older_than_the_retention():
    m, _ = member()
    a = sku()
    today = datetime.now(CHINA_TZ).replace(hour=12)
    for d in (0, 30, 89, 90, 91, 200):
        events.record(m.pk, VIEW, a.pk, "h5", today - timedelta(days=d))
    call_command("purge-behaviour-events", "--days", "90")
    kept = sorted((today.date() - d).days for d in BehaviourEvent.objects.values_list("day", flat=True))
    assert kept == [0, 30, 89, 90]
    call_command("purge-behaviour-events", "--days", "31")
    assert sorted((today.date() - d).days for d in BehaviourEvent.objects.values_list("day", flat=True)) == [0, 30]
    with pytest.raises(CommandError, match="at least 31"):
        call_command("purge-behaviour-events", "--days", "7")
    assert BehaviourEvent.objects.count() == 2
