"""Helpers of the PostgreSQL race tests (two threads, own connections, a forced lock wait)."""

from __future__ import annotations

from django.db import connection


def someone_waits_on_a_lock() -> bool:
    """True when another session of this database waits on a lock (lets a test force a real race)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction the view is a frozen snapshot
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")
        return cur.fetchone()[0] > 0
