"""Stripe-style idempotency for write endpoints.

The same key with the same body returns the first response (status and body) and does
nothing again; the same key with a different body is a 409. The first response is stored
in the same transaction as the work, so a response is stored if and only if the work
committed. Client errors (4xx ``ApiError``) are stored too, as Stripe does, except answers
that only say "try again" (5xx, and ``TRANSIENT_CODES`` such as a lost race or a payment
provider that did not answer). Records are
kept at least 24 h (``o2o purge-idempotency`` removes older ones).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from o2o.common.errors import ApiError, Conflict
from o2o.inventory.models import IdempotencyRecord

KEEP_HOURS = 24
# Answers that say "try again", not "this request is wrong": they are not stored under the key,
# so a retry with the same key does the work instead of replaying the failure for 24 hours.
TRANSIENT_CODES = frozenset({"retry", "order_changed", "shipment_changed", "payment_provider_error",
                             "payments_unavailable", "payments_unconfigured", "courier_unavailable"})


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _stored(operation: str, key: str, digest: str) -> Outcome | None:
    row = IdempotencyRecord.objects.filter(operation=operation, key=key).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise Conflict("幂等键已用于另一个请求 Idempotency-Key was used with a different request",
                       code="idempotency_key_reused", details={"idempotency_key": key})
    if row.status_code >= 400:
        # A stored client error replays as the same error, raised as the first one was.
        body = row.response
        raise ApiError(body.get("message", ""), code=body.get("code"), status=row.status_code,
                       details=body.get("details"))
    return Outcome(row.status_code, row.response, replayed=True)


def run_idempotent(*, operation: str, key: str | None, payload: Any,
                   work: Callable[[], tuple[int, dict[str, Any]]], attempts: int = 3) -> Outcome:
    """Run ``work`` once per (operation, key) in one transaction with the stored response."""
    if key is not None and (not key or len(key) > 120):
        raise ApiError("Idempotency-Key 长度应为 1-120 Idempotency-Key must be 1-120 characters",
                       code="invalid_idempotency_key", status=422)
    if key is None:
        with transaction.atomic():
            status, body = work()
        return Outcome(status, body)
    digest = request_hash(payload)
    last_error: IntegrityError | None = None
    for _ in range(attempts):
        found = _stored(operation, key, digest)
        if found is not None:
            return found
        try:
            with transaction.atomic():
                try:
                    status, body = work()
                except ApiError as exc:
                    transaction.set_rollback(True)
                    error = exc
                else:
                    IdempotencyRecord.objects.create(operation=operation, key=key, request_hash=digest,
                                                     status_code=status, response=body)
                    return Outcome(status, body)
            if error.status >= 500 or error.code in TRANSIENT_CODES:
                raise error  # a passing condition: the same key may be sent again and do the work
            # The work failed with a client error: store that answer on its own.
            with transaction.atomic():
                IdempotencyRecord.objects.create(operation=operation, key=key, request_hash=digest,
                                                 status_code=error.status, response=error.as_dict())
            raise error
        except IntegrityError as exc:
            # A concurrent request with the same key committed first: its stored answer is ours.
            found = _stored(operation, key, digest)
            if found is not None:
                return found
            last_error = exc
    assert last_error is not None
    raise last_error
