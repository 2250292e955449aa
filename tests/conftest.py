"""Shared test set-up.

With ``O2O_REQUIRE_PG=1`` (``make test-pg``) the run refuses to start unless the database is
PostgreSQL, so the PostgreSQL suite can never silently run on SQLite or skip.
"""

from __future__ import annotations

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
