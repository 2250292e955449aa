"""POS sync API: a till sends batches of sales, returns and counts (see ``o2o.inventory.pos``).

Events are idempotent by ``pos_event_id``, so a till simply resends a batch it is unsure
about: events already applied come back under ``duplicates``. The online availability
reflects the batch when the request returns.

Access: ``pos.sync`` at the location; a batch with a ``count`` event also needs
``stock.adjust`` there (a count sets the stock level, like an adjustment), else 403 and
nothing is applied.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from pydantic import AwareDatetime, field_validator, model_validator

from o2o.accounts.permissions import require
from o2o.core.access import Perm
from o2o.inventory.api import ErrorOut, who_of
from o2o.inventory.pos import CLOCK_SKEW, MAX_DEVICE_ID, MAX_EVENT_ID, PosEvent, pos_ingest
from o2o.inventory.validation import MAX_QTY

router = Router(tags=["pos"])

# A hard cap on what is parsed at all; the configurable limit (O2O["POS_MAX_BATCH"]) is a 413.
HARD_MAX_EVENTS = 10_000
_SKEW_MIN = int(CLOCK_SKEW.total_seconds() // 60)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class PosEventIn(Schema):
    kind: Literal["sale", "return", "count"]
    pos_event_id: str = Field(min_length=1, max_length=MAX_EVENT_ID, description="unique per location")
    seq: int = Field(ge=1, lt=2**62, description="the till's own sequence number")
    sku_id: int = Field(gt=0)
    qty: int = Field(ge=0, le=MAX_QTY, description="sale/return: units (> 0); count: counted units (>= 0)")
    occurred_at: AwareDatetime = Field(
        description=f"with a time zone; from 2000-01-01 to at most {_SKEW_MIN} minutes ahead of the server clock")

    _pos_event_id = field_validator("pos_event_id")(_no_nul)

    @model_validator(mode="after")
    def _qty(self) -> PosEventIn:
        if self.kind != "count" and self.qty < 1:
            raise ValueError("qty must be positive for a sale or a return")
        return self


class PosBatchIn(Schema):
    location_id: int = Field(gt=0)
    device_id: str = Field(min_length=1, max_length=MAX_DEVICE_ID)
    events: list[PosEventIn] = Field(max_length=HARD_MAX_EVENTS)

    _device_id = field_validator("device_id")(_no_nul)


class DiscrepancyOut(Schema):
    pos_event_id: str
    sku_id: int
    missing: int


class PosResultOut(Schema):
    applied: list[str]
    duplicates: list[str]
    superseded: list[str]
    shorted_reservations: list[int]
    discrepancies: list[DiscrepancyOut]
    last_seq: int
    missing_seqs: list[list[int]] = Field(description="[first, last] ranges of sequence numbers not yet received")
    missing_count: int
    received_at: datetime


@router.post("/stock-events", response={200: PosResultOut, **{c: ErrorOut for c in (401, 403, 404, 409, 413, 422)}},
             summary="Ingest a batch of POS sales, returns and counts (idempotent per event)")
def stock_events(request: HttpRequest, body: PosBatchIn):
    actor = require(request, Perm.POS_SYNC, location=body.location_id)
    if any(e.kind == "count" for e in body.events):
        require(request, Perm.STOCK_ADJUST, location=body.location_id)  # a count sets the stock level
    events = [PosEvent(e.kind, e.pos_event_id, e.seq, e.sku_id, e.qty, e.occurred_at) for e in body.events]
    result = pos_ingest(location_id=body.location_id, device_id=body.device_id, events=events,
                        who=who_of(actor, f"pos:{body.device_id}"[:100]))
    return {**result.as_dict(), "received_at": timezone.now()}
