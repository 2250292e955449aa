"""Signals the inventory sends to the apps above it (which it must not import).

``reservation_shorted``: a POS sale or count shorted active reservations (status
``shorted``: their stock went to walk-in shoppers). Sent once the transaction that shorted
them has committed, with ``reservation_ids`` (a tuple of ints). Receivers must be
idempotent: a crash between the commit and the receiver loses the signal, so a periodic
sweep (``o2o reroute-shorted``) must be able to do the same work again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger("o2o.inventory")

reservation_shorted = Signal()


def send_reservation_shorted(reservation_ids: Iterable[int]) -> None:
    """Send ``reservation_shorted`` after the current transaction commits (at once without one)."""
    ids = tuple(sorted(set(reservation_ids)))
    if not ids:
        return

    def send() -> None:
        for receiver, result in reservation_shorted.send_robust(sender=None, reservation_ids=ids):
            if isinstance(result, Exception):
                log.error("reservation_shorted receiver %r failed for %s", receiver, ids, exc_info=result)

    transaction.on_commit(send)
