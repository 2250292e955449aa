"""Reservations past their expiry are released by the periodic job; their stock is free again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from o2o.inventory import checks
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
