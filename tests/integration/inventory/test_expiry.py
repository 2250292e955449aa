"""Reservations past their expiry are released by the periodic job; their stock is free again.
A hold extended after the job picked it as due (a pickup marked ready) is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.utils import timezone

from o2o.inventory import checks, reservations
from o2o.inventory.ledger import SYSTEM
from o2o.inventory.models import Movement, MovementKind, Reservation, ReservationStatus
from tests.factories import figures, location, reserve, sku, stock_in

pytestmark = pytest.mark.django_db


def test_job_releases_expired_reservations_only(capsys):
    loc, s = location(), sku()
    stock_in(loc, s, 10)
    expired = reserve(loc, {s: 4}, ttl_s=60, at=timezone.now() - timedelta(minutes=2))
    live = reserve(loc, {s: 3}, ttl_s=600)
    assert figures(loc, s) == (10, 7)
    call_command("release-expired-reservations")
    assert "released 1" in capsys.readouterr().out
    assert Reservation.objects.get(pk=expired.id).status == ReservationStatus.EXPIRED
    assert Reservation.objects.get(pk=live.id).status == ReservationStatus.ACTIVE
    assert figures(loc, s) == (10, 3)
    assert Movement.objects.filter(reservation_id=expired.id, kind=MovementKind.RELEASE).get().delta_reserved == -4
    assert checks.run() == []
    call_command("release-expired-reservations")  # nothing left to do
    assert "released 0" in capsys.readouterr().out
    assert figures(loc, s) == (10, 3)


def test_job_drains_more_than_one_batch(monkeypatch):
    import importlib

    job = importlib.import_module("o2o.inventory.management.commands.release-expired-reservations")
    monkeypatch.setattr(job, "BATCH", 2)
    loc, s = location(), sku()
    stock_in(loc, s, 10)
    for _ in range(5):
        reserve(loc, {s: 1}, ttl_s=1, at=timezone.now() - timedelta(seconds=5))
    assert job.release_all_due() == 5
    assert figures(loc, s) == (10, 0) and checks.run() == []


def test_loop_option(capsys):
    call_command("release-expired-reservations", "--loop", "0.01", "--max-passes", "2")
    assert capsys.readouterr().out.count("released") == 2
    with pytest.raises(CommandError):
        call_command("release-expired-reservations", "--loop", "0")


def test_a_hold_extended_after_selection_is_not_expired(monkeypatch):
    loc, s = location(), sku()
    stock_in(loc, s, 10)
    extended = reserve(loc, {s: 4}, ttl_s=60, at=timezone.now() - timedelta(minutes=2))
    due = reserve(loc, {s: 1}, ttl_s=60, at=timezone.now() - timedelta(minutes=2))
    later = timezone.now() + timedelta(days=1)
    real = reservations._expire_due

    def extend_first(reservation_id: int, *, now):  # noqa: ANN001, ANN202 - a clerk marks it ready meanwhile
        if reservation_id == extended.id:
            assert reservations.reservation_extend(reservation_id=reservation_id, expires_at=later)
        return real(reservation_id, now=now)

    monkeypatch.setattr(reservations, "_expire_due", extend_first)
    assert reservations.reservations_release_expired() == 1
    assert Reservation.objects.get(pk=extended.id).status == ReservationStatus.ACTIVE
    assert Reservation.objects.get(pk=extended.id).expires_at == later
    assert Reservation.objects.get(pk=due.id).status == ReservationStatus.EXPIRED
    assert figures(loc, s) == (10, 4)
    assert not Movement.objects.filter(reservation_id=extended.id, kind=MovementKind.RELEASE).exists()
    assert checks.run() == []


def test_expire_due_checks_again_and_close_honours_its_condition():
    loc, s = location(), sku()
    stock_in(loc, s, 10)
    view = reserve(loc, {s: 3}, ttl_s=60, at=timezone.now() - timedelta(minutes=2))
    now = timezone.now()
    stale = Reservation.objects.get(pk=view.id)  # read while due...
    Reservation.objects.filter(pk=view.id).update(expires_at=now + timedelta(hours=1))  # ...then extended
    assert reservations._expire_due(view.id, now=now) is False
    # the conditional UPDATE itself refuses, even for a row read before the extension
    assert reservations._close(stale, ReservationStatus.EXPIRED, SYSTEM, "reservation expired", now,
                               only_if=Q(expires_at__lte=now)) is False
    assert Reservation.objects.get(pk=view.id).status == ReservationStatus.ACTIVE
    assert figures(loc, s) == (10, 3) and not Movement.objects.filter(kind=MovementKind.RELEASE).exists()
    # other callers (release, fulfil) keep closing an active reservation whatever its expiry
    assert reservations._close(stale, ReservationStatus.RELEASED, SYSTEM, "released", now) is True
    assert figures(loc, s) == (10, 0) and checks.run() == []
