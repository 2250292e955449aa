"""Points services on the database: earn, spend, expire, reverse, restore, idempotency, check-points."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command

from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core.loyalty import CHINA_TZ
from o2o.members.models import PointsAccount, PointsEntry, PointsLot
from o2o.members.points import (
    points_check,
    points_earn,
    points_expire,
    points_restore,
    points_reverse,
    points_spend,
)
from tests.factories import member

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 3, 15, 10, 0, tzinfo=CHINA_TZ)


def account(m) -> PointsAccount:  # noqa: ANN001
    return PointsAccount.objects.get(member=m)


def test_earn_then_spend_oldest_expiry_first_and_idempotent():
    m, _ = member()
    points_earn(m.pk, 100, "order:1", T0)
    points_earn(m.pk, 50, "order:2", T0.replace(year=2025))
    points_earn(m.pk, 100, "order:1", T0)  # retried: nothing more
    assert account(m).balance == 150 and PointsLot.objects.count() == 2
    points_spend(m.pk, 120, "spend:a", T0.replace(year=2025, month=6))
    points_spend(m.pk, 120, "spend:a", T0.replace(year=2025, month=6))  # retried: nothing more
    acc = account(m)
    assert acc.balance == 30 and acc.debt == 0
    assert dict(PointsLot.objects.values_list("ref", "remaining")) == {"order:1": 0, "order:2": 30}
    assert PointsEntry.objects.filter(kind="spend").count() == 2  # 100 from the 2024 lot, 20 from 2025
    assert points_check(acc) == ()


def test_spend_more_than_available_is_409_and_changes_nothing():
    m, _ = member()
    points_earn(m.pk, 10, "order:1", T0)
    with pytest.raises(Conflict) as exc:
        points_spend(m.pk, 11, "spend:x", T0)
    assert exc.value.code == "insufficient_points" and exc.value.details == {"requested": 11, "available": 10}
    assert account(m).balance == 10 and PointsEntry.objects.filter(kind="spend").count() == 0


def test_bad_input_is_4xx():
    m, _ = member()
    with pytest.raises(InvalidInput):
        points_earn(m.pk, 0, "order:1", T0)
    with pytest.raises(InvalidInput):
        points_earn(m.pk, 5, "order:1", datetime(2024, 1, 1))  # naive  # noqa: DTZ001
    with pytest.raises(NotFound):
        points_earn(999_999, 5, "order:1", T0)
    with pytest.raises(InvalidInput):
        points_reverse(m.pk, "order:nope", 5, T0)
    assert PointsEntry.objects.count() == 0


def test_expiry_end_of_next_year_and_command(capsys):
    m, _ = member()
    points_earn(m.pk, 40, "order:1", T0)  # expires 2026-01-01 00:00 China time
    assert points_expire(datetime(2025, 12, 31, 23, 59, tzinfo=CHINA_TZ)) == (0, 0)
    assert points_expire(datetime(2026, 1, 1, tzinfo=CHINA_TZ)) == (1, 40)
    assert points_expire(datetime(2026, 1, 2, tzinfo=CHINA_TZ)) == (0, 0)  # idempotent
    assert account(m).balance == 0 and points_check(account(m)) == ()
    call_command("expire-points")  # nothing due any more
    assert "expired 0 point(s)" in capsys.readouterr().out


def test_reverse_after_spending_makes_debt_repaid_by_the_next_earning():
    m, _ = member()
    points_earn(m.pk, 100, "order:1", T0)
    points_spend(m.pk, 80, "spend:1", T0 + timedelta(days=1))
    points_reverse(m.pk, "order:1", 100, T0 + timedelta(days=2), ref="return:1")
    points_reverse(m.pk, "order:1", 100, T0 + timedelta(days=2), ref="return:1")  # retried
    acc = account(m)
    assert (acc.balance, acc.debt, acc.net) == (0, 80, -80)
    with pytest.raises(Conflict):
        points_spend(m.pk, 1, "spend:2", T0 + timedelta(days=3))
    points_earn(m.pk, 100, "order:2", T0 + timedelta(days=4))
    acc = account(m)
    assert (acc.balance, acc.debt) == (20, 0) and points_check(acc) == ()


def test_restore_puts_points_back_into_their_lot_once():
    m, _ = member()
    points_earn(m.pk, 100, "order:1", T0)
    points_spend(m.pk, 60, "pay:9", T0 + timedelta(days=1))
    points_restore(m.pk, "pay:9", T0 + timedelta(days=2), points=20, ref="refund:1")
    points_restore(m.pk, "pay:9", T0 + timedelta(days=2), points=20, ref="refund:1")  # retried
    points_restore(m.pk, "pay:9", T0 + timedelta(days=3), ref="refund:2")  # the rest
    assert account(m).balance == 100 and points_check(account(m)) == ()
    with pytest.raises(InvalidInput):
        points_restore(m.pk, "pay:9", T0 + timedelta(days=3), ref="refund:3")  # nothing left


def test_check_points_finds_a_tampered_balance(capsys):
    m, _ = member()
    points_earn(m.pk, 30, "order:1", T0)
    call_command("check-points")
    assert "0 with problems" in capsys.readouterr().out
    PointsAccount.objects.filter(member=m).update(balance=31)
    with pytest.raises(SystemExit) as exc:
        call_command("check-points")
    assert exc.value.code == 1
    assert f"member#{m.pk}" in capsys.readouterr().out


def test_channel_rate_from_settings(settings):
    from o2o.core.loyalty import earn_for_order
    from o2o.members.points import earn_rule

    settings.O2O = {**settings.O2O, "POINTS": {"EARN_CHANNEL_RATES": {"pos": "1/10"}}}
    assert earn_for_order(12_345, "pos", None, earn_rule()) == 12  # ¥123.45 at 1 point / ¥10
    assert earn_for_order(12_345, "mini_program", None, earn_rule()) == 123
