"""An answer that only says "try again" is not kept under the Idempotency-Key; a real refusal is."""

from __future__ import annotations

import pytest

from o2o.common.errors import ApiError, Conflict, InvalidInput
from o2o.inventory.idempotency import run_idempotent
from o2o.inventory.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def test_a_lost_race_is_not_replayed_and_the_retry_does_the_work():
    calls = []

    def work():  # noqa: ANN202
        calls.append(1)
        if len(calls) == 1:
            raise Conflict("changed", code="order_changed")
        return 200, {"ok": True}

    with pytest.raises(Conflict):
        run_idempotent(operation="t", key="k", payload={"a": 1}, work=work)
    assert IdempotencyRecord.objects.count() == 0
    out = run_idempotent(operation="t", key="k", payload={"a": 1}, work=work)
    assert (out.status, out.body, out.replayed, len(calls)) == (200, {"ok": True}, False, 2)
    again = run_idempotent(operation="t", key="k", payload={"a": 1}, work=work)
    assert again.replayed and len(calls) == 2


def test_a_client_error_is_kept_and_replayed():
    calls = []

    def work():  # noqa: ANN202
        calls.append(1)
        raise InvalidInput("bad", code="invalid_quantity")

    for _ in range(2):
        with pytest.raises(ApiError) as err:
            run_idempotent(operation="t", key="k2", payload={}, work=work)
        assert err.value.code == "invalid_quantity" and err.value.status == 422
    assert len(calls) == 1 and IdempotencyRecord.objects.get(key="k2").status_code == 422
