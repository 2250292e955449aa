"""Shared test set-up.

With ``O2O_REQUIRE_PG=1`` (``make test-pg``) the run refuses to start unless the database is
PostgreSQL, so the PostgreSQL suite can never silently run on SQLite or skip.
"""

from __future__ import annotations

import fcntl
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("O2O_REQUIRE_PG") == "1":
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            raise pytest.UsageError("O2O_REQUIRE_PG=1 but DATABASE_URL is not PostgreSQL")
    _fast_password_hashing(config)
    _fast_postgres_flush(config)


def _fast_password_hashing(config: pytest.Config) -> None:
    """Tests hash with MD5: production's PBKDF2 (1,000,000 rounds, ~0.3 s a password) made every staff
    user of a fixture cost a third of a second. What a password check decides is unchanged."""
    if not config.pluginmanager.hasplugin("django"):
        return  # browser and `make test-unit` runs (-p no:django)
    from django.conf import settings as django_settings

    if not django_settings.configured:
        return
    from django.contrib.auth import hashers

    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()


# Tables whose own triggers refuse DELETE (the append-only inventory ledger): emptied with their user
# triggers switched off for the statement, inside the flush's transaction.
_USER_TRIGGERS_SQL = """
SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND pg_table_is_visible(c.oid)
"""


def _fast_postgres_flush(config: pytest.Config) -> None:
    """After each transactional test (``django_db(transaction=True)``: the race tests) Django empties the
    database with one ``TRUNCATE`` of every table: on PostgreSQL that costs ~25 ms a table (a new file per
    table and index), 2-3 s a test for ~110 empty or nearly empty tables. ``DELETE FROM`` each table in one
    transaction empties them just the same (foreign keys are checked once all are empty; sequences are not
    reset by either) in a few milliseconds. Flushes that reset sequences or cascade keep TRUNCATE."""
    if not config.pluginmanager.hasplugin("django"):
        return
    from django.conf import settings as django_settings

    if not django_settings.configured:
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush
    if getattr(truncate, "o2o_delete_flush", False):
        return

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):  # noqa: ANN001, ANN202
        if reset_sequences or allow_cascade or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        with self.connection.cursor() as cursor:
            cursor.execute(_USER_TRIGGERS_SQL)
            with_triggers = {name for (name,) in cursor.fetchall()}
        guarded = [style.SQL_FIELD(self.quote_name(t)) for t in tables if t in with_triggers]
        return [
            "SET CONSTRAINTS ALL DEFERRED;",
            *(f"ALTER TABLE {name} DISABLE TRIGGER USER;" for name in guarded),
            *(f"DELETE FROM {style.SQL_FIELD(self.quote_name(t))};" for t in tables),
            # Check the deferred foreign keys now (all empty), so no trigger event is pending on a table
            # that ALTER TABLE touches next.
            "SET CONSTRAINTS ALL IMMEDIATE;",
            *(f"ALTER TABLE {name} ENABLE TRIGGER USER;" for name in guarded),
        ]

    sql_flush.o2o_delete_flush = True
    DatabaseOperations.sql_flush = sql_flush


@pytest.fixture(autouse=True)
def _one_race_test_at_a_time(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Under pytest-xdist (``make test-pg`` runs 2 workers) the PostgreSQL race tests (marked ``postgres``)
    take a lock shared by the workers, so two never run at once: each opens its own connections (up to 64
    threads, two at once could pass the server's max_connections) and forces real lock waits on a timer."""
    if request.node.get_closest_marker("postgres") is None or "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    lock_path = tmp_path_factory.getbasetemp().parent / "postgres-races.lock"  # shared by this run's workers
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
