"""Helpers of the PostgreSQL race tests (two threads, own connections, a forced lock wait)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection

from o2o.common.errors import Conflict


def someone_waits_on_a_lock() -> bool:
    """True when another session of this database waits on a lock (lets a test force a real race)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction the view is a frozen snapshot
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")
        return cur.fetchone()[0] > 0


TIMEOUT = 20


def hold_first(fn: Callable) -> Callable:
    """``fn``, but its first caller then waits (holding its locks) until another transaction waits on a lock:
    patched into a service, it turns "two at once" into a real lock wait instead of a lucky ordering."""
    entered = threading.Lock()

    def wrapped(*args, **kw):  # noqa: ANN002, ANN003, ANN202
        out = fn(*args, **kw)
        if entered.acquire(blocking=False):
            deadline = time.monotonic() + 5
            while not someone_waits_on_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
        return out

    return wrapped


def race(*jobs: Callable[[], object]) -> list[object]:
    """Run the jobs in threads released together (each on its own connection); their results, a
    Conflict counting as its code. Any other exception fails the test."""
    start = threading.Barrier(len(jobs))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        try:
            start.wait(TIMEOUT)
            results.append(job())
        except Conflict as exc:
            results.append(exc.code)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    return results
