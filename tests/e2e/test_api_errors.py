"""The API's answer to database errors a client cannot cause but may retry."""

import json

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from o2o.config.api import _db_busy


class _PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__("pg")
        self.sqlstate = sqlstate


def _raised(sqlstate):
    try:
        try:
            raise _PgError(sqlstate)
        except _PgError as cause:
            raise OperationalError("deadlock detected") from cause
    except OperationalError as exc:
        return exc


@pytest.mark.parametrize("sqlstate", ["40P01", "40001", "55P03"])
def test_deadlock_and_serialization_failures_are_a_retryable_409(sqlstate):
    r = _db_busy(RequestFactory().post("/api/v1/x"), _raised(sqlstate))
    body = json.loads(r.content)
    assert r.status_code == 409 and body["code"] == "retry" and body["details"] == {"sqlstate": sqlstate}


def test_a_lost_database_is_a_503_in_the_error_shape():
    r = _db_busy(RequestFactory().get("/api/v1/x"), _raised("08006"))
    assert r.status_code == 503 and set(json.loads(r.content)) == {"code", "message", "details"}
