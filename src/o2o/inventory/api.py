"""Inventory API: stock, receipts, adjustments, reservations, transfers, the ledger, availability.

Every endpoint checks object-level access with ``require`` at the location it touches. Every
POST write accepts an ``Idempotency-Key`` header: the first response is stored with the work
(per actor and operation) and replayed for the same key and body; the same key with another
body is a 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Header, Query, Router, Schema
from pydantic import model_validator

from o2o.accounts.permissions import actor_of, require
from o2o.common.errors import Conflict, NotFound
from o2o.core.access import Actor, ActorKind, Perm
from o2o.core.geo import in_china_bbox
from o2o.inventory import ownership, selectors, stock, transfers
from o2o.inventory import reservations as res_service
from o2o.inventory.idempotency import run_idempotent
from o2o.inventory.ledger import Who
from o2o.inventory.models import Reservation
from o2o.inventory.validation import MAX_QTY, Line

try:
    from ninja import Status
except ImportError:  # django-ninja < 1.6: a (status, body) tuple means the same
    def Status(status_code: int, value: Any) -> tuple[int, Any]:  # type: ignore[no-redef]  # noqa: N802
        return status_code, value

router = Router(tags=["inventory"])

Qty = Field(gt=0, le=MAX_QTY, description="a positive whole number of units")
IdemKey = Header(None, alias="Idempotency-Key", description="repeat-safe key (1-120 chars), kept 24 h")


class ErrorOut(Schema):
    code: str
    message: str
    details: Any


def _with_errors(ok: dict[int, Any], *codes: int) -> dict[int, Any]:
    return {**ok, **{c: ErrorOut for c in (401, 403, 404, 422, *codes)}}


class LineIn(Schema):
    sku_id: int = Field(gt=0)
    qty: int = Qty


class LineOut(Schema):
    sku_id: int
    qty: int


class StockItemOut(Schema):
    location_id: int
    sku_id: int
    on_hand: int
    reserved: int
    available: int


class StockItemDetailOut(StockItemOut):
    buckets: int


class StockPageOut(Schema):
    items: list[StockItemOut]
    total: int
    limit: int
    offset: int


class ReceiptIn(Schema):
    location_id: int = Field(gt=0)
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    reference: str = Field("", max_length=100)
    reason: str = Field("入库 goods received", min_length=1, max_length=200)


class ReceiptOut(Schema):
    location_id: int
    reference: str
    lines: list[LineOut]
    stock: list[StockItemOut]


class AdjustmentIn(Schema):
    location_id: int = Field(gt=0)
    sku_id: int = Field(gt=0)
    delta: int = Field(ge=-MAX_QTY, le=MAX_QTY, description="units added (+) or removed (-); not zero")
    reason: str = Field(min_length=1, max_length=200, description="required: damage, loss, found...")
    reference: str = Field("", max_length=100)

    @model_validator(mode="after")
    def _checks(self) -> AdjustmentIn:
        if self.delta == 0:
            raise ValueError("delta must not be zero")
        if not self.reason.strip():
            raise ValueError("reason is required")
        return self


class AdjustmentOut(Schema):
    location_id: int
    sku_id: int
    delta: int
    reason: str
    stock: StockItemDetailOut


class ReservationIn(Schema):
    location_id: int = Field(gt=0)
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    ttl_s: int | None = Field(None, ge=1, le=7 * 24 * 3600)
    reference: str = Field("", max_length=100)


class ReservationOut(Schema):
    id: int
    location_id: int
    status: str
    reference: str
    expires_at: datetime
    lines: list[LineOut]


class TransferIn(Schema):
    source_id: int = Field(gt=0)
    destination_id: int = Field(gt=0)
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    reference: str = Field("", max_length=100)


class ReceivedLineIn(Schema):
    sku_id: int = Field(gt=0)
    qty: int = Field(ge=0, le=MAX_QTY, description="units that arrived (0..shipped)")


class TransferReceiveIn(Schema):
    received: list[ReceivedLineIn] | None = Field(None, description="lines that arrived short; others in full")


class TransferLineOut(Schema):
    sku_id: int
    qty: int
    received_qty: int | None
    lost_in_transit: int


class TransferOut(Schema):
    id: int
    source_id: int
    destination_id: int
    status: str
    reference: str
    shipped_at: datetime
    received_at: datetime | None
    lines: list[TransferLineOut]


class TransitLineOut(Schema):
    transfer_id: int
    source_id: int
    destination_id: int
    sku_id: int
    qty: int
    shipped_at: datetime


class InTransitOut(Schema):
    location_id: int
    incoming: list[TransitLineOut]
    outgoing: list[TransitLineOut]
    incoming_by_sku: list[LineOut]


class MovementOut(Schema):
    id: int
    sku_id: int
    kind: str
    qty: int
    delta_on_hand: int
    delta_reserved: int
    reason: str
    reference: str
    actor_id: int | None
    actor_label: str
    reservation_id: int | None
    transfer_id: int | None
    details: dict[str, Any]
    occurred_at: datetime
    created_at: datetime


class LedgerPageOut(Schema):
    items: list[MovementOut]
    next_before_id: int | None


Coord = Literal["gcj02", "wgs84", "bd09"]


class _Point(Schema):
    lat: float = Field(description="latitude in the datum named by coord")
    lng: float = Field(description="longitude in the datum named by coord")
    coord: Coord = "gcj02"
    limit: int = Field(50, ge=1, le=200)
    complete_only: bool = Field(False, description="only nodes that have every line")

    @model_validator(mode="after")
    def _in_china(self) -> _Point:
        if not in_china_bbox(self.lat, self.lng):
            raise ValueError("coordinates are outside China")
        return self


class AvailabilityQuery(_Point):
    sku_id: int = Field(gt=0)
    qty: int = Field(1, gt=0, le=MAX_QTY)


class AvailabilityIn(_Point):
    lines: list[LineIn] = Field(min_length=1, max_length=100)


class PointOut(Schema):
    lat: float
    lng: float
    coord: str


class NodeLineOut(Schema):
    sku_id: int
    qty: int
    available: int


class NodeOut(Schema):
    location_id: int
    code: str
    name: str
    kind: str
    distance_m: int
    modes: list[str]
    lines: list[NodeLineOut]
    has_all: bool


class AvailabilityOut(Schema):
    point: PointOut
    lines: list[LineOut]
    nodes: list[NodeOut]


# --- helpers ------------------------------------------------------------------------------

def who_of(actor: Actor, label: str = "") -> Who:
    user_id = actor.id if actor.kind is ActorKind.STAFF else None
    return Who(user_id=user_id, label=label or f"{actor.kind.value}:{actor.id}")


def _idempotent(request: HttpRequest, op: str, key: str | None, payload: Any, work) -> Status:  # noqa: ANN001
    """Run ``work`` once per (actor, operation, key); replays answer with the stored response."""
    actor = actor_of(request)
    out = run_idempotent(operation=f"{op}:{actor.kind.value}:{actor.id}"[:64], key=key, payload=payload, work=work)
    return Status(out.status, out.body)


def _lines(lines: list[LineIn]) -> list[Line]:
    return [Line(ln.sku_id, ln.qty) for ln in lines]


def _reservation_location(reservation_id: int) -> int:
    loc = Reservation.objects.filter(pk=reservation_id).values_list("location_id", flat=True).first()
    if loc is None:
        raise NotFound("预占不存在 Unknown reservation", code="unknown_reservation",
                       details={"reservation_id": reservation_id})
    return loc


def _dump(schema: type[Schema], data: Any) -> dict:
    return schema.model_validate(data).model_dump(mode="json")


# --- stock ----------------------------------------------------------------------------------

@router.get("/locations/{location_id}/stock", response=_with_errors({200: StockPageOut}),
            summary="Stock of a location, by SKU (paginated)")
def stock_page(request: HttpRequest, location_id: int, limit: int = Query(50, ge=1, le=500),
               offset: int = Query(0, ge=0), in_stock_only: bool = False):
    require(request, Perm.STOCK_VIEW, location=location_id)
    return selectors.stock_list(location_id=location_id, limit=limit, offset=offset, in_stock_only=in_stock_only)


@router.get("/locations/{location_id}/stock/{sku_id}", response=_with_errors({200: StockItemDetailOut}),
            summary="Stock of one item")
def stock_item(request: HttpRequest, location_id: int, sku_id: int):
    require(request, Perm.STOCK_VIEW, location=location_id)
    selectors.check_sku(sku_id)
    return selectors.item_stock(location_id=location_id, sku_id=sku_id)


@router.post("/receipts", response=_with_errors({201: ReceiptOut}, 409), summary="Goods received at a location")
def receipt(request: HttpRequest, body: ReceiptIn, idempotency_key: str | None = IdemKey):
    who = who_of(require(request, Perm.STOCK_RECEIVE, location=body.location_id))

    def work() -> tuple[int, dict]:
        lines = stock.stock_receive(location_id=body.location_id, lines=_lines(body.lines), who=who,
                                    reference=body.reference, reason=body.reason)
        items = [selectors.item_stock(location_id=body.location_id, sku_id=ln.sku_id) for ln in lines]
        return 201, _dump(ReceiptOut, {"location_id": body.location_id, "reference": body.reference,
                                       "lines": [ln.__dict__ for ln in lines], "stock": items})

    return _idempotent(request, "inventory.receipt", idempotency_key, body.model_dump(mode="json"), work)


@router.post("/adjustments", response=_with_errors({201: AdjustmentOut}, 409),
             summary="Correct on hand with a reason (damage, loss, found)")
def adjustment(request: HttpRequest, body: AdjustmentIn, idempotency_key: str | None = IdemKey):
    who = who_of(require(request, Perm.STOCK_ADJUST, location=body.location_id))

    def work() -> tuple[int, dict]:
        stock.stock_adjust(location_id=body.location_id, sku_id=body.sku_id, delta=body.delta,
                           reason=body.reason.strip(), who=who, reference=body.reference)
        return 201, _dump(AdjustmentOut, {**body.model_dump(include={"location_id", "sku_id", "delta"}),
                                          "reason": body.reason.strip(),
                                          "stock": selectors.item_stock(location_id=body.location_id,
                                                                        sku_id=body.sku_id)})

    return _idempotent(request, "inventory.adjustment", idempotency_key, body.model_dump(mode="json"), work)


# --- reservations ---------------------------------------------------------------------------

@router.post("/reservations", response=_with_errors({201: ReservationOut}, 409), summary="Reserve stock")
def reservation_create(request: HttpRequest, body: ReservationIn, idempotency_key: str | None = IdemKey):
    who = who_of(require(request, Perm.STOCK_RESERVE, location=body.location_id))

    def work() -> tuple[int, dict]:
        v = res_service.reservation_create(location_id=body.location_id, lines=_lines(body.lines), who=who,
                                           reference=body.reference, ttl_s=body.ttl_s)
        return 201, _dump(ReservationOut, v.as_dict())

    return _idempotent(request, "inventory.reservation", idempotency_key, body.model_dump(mode="json"), work)


@router.get("/reservations/{reservation_id}", response=_with_errors({200: ReservationOut}),
            summary="A reservation")
def reservation_get(request: HttpRequest, reservation_id: int):
    require(request, Perm.STOCK_VIEW, location=_reservation_location(reservation_id))
    return res_service.view(Reservation.objects.get(pk=reservation_id)).as_dict()


def _close(request: HttpRequest, reservation_id: int, key: str | None, fulfil: bool) -> Status:
    who = who_of(require(request, Perm.STOCK_RESERVE, location=_reservation_location(reservation_id)))
    owner = ownership.owner_of(reservation_id)
    if owner is not None:  # an order's hold: the order center releases or hands it over
        raise Conflict("这是订单的库存预占，请通过订单处理 This hold belongs to an order; use the order's endpoints",
                       code="owned_reservation", details={"reservation_id": reservation_id, "owner": owner})
    service = res_service.reservation_fulfil if fulfil else res_service.reservation_release

    def work() -> tuple[int, dict]:
        return 200, _dump(ReservationOut, service(reservation_id=reservation_id, who=who).as_dict())

    op = "inventory.fulfil" if fulfil else "inventory.release"
    return _idempotent(request, op, key, {"reservation_id": reservation_id}, work)


@router.post("/reservations/{reservation_id}/release", response=_with_errors({200: ReservationOut}, 409),
             summary="Release a reservation (idempotent)")
def reservation_release(request: HttpRequest, reservation_id: int, idempotency_key: str | None = IdemKey):
    return _close(request, reservation_id, idempotency_key, fulfil=False)


@router.post("/reservations/{reservation_id}/fulfil", response=_with_errors({200: ReservationOut}, 409),
             summary="The reserved goods left the location (idempotent)")
def reservation_fulfil(request: HttpRequest, reservation_id: int, idempotency_key: str | None = IdemKey):
    return _close(request, reservation_id, idempotency_key, fulfil=True)


# --- transfers ------------------------------------------------------------------------------

@router.post("/transfers", response=_with_errors({201: TransferOut}, 409), summary="Ship a transfer")
def transfer_ship(request: HttpRequest, body: TransferIn, idempotency_key: str | None = IdemKey):
    who = who_of(require(request, Perm.STOCK_TRANSFER, location=body.source_id))

    def work() -> tuple[int, dict]:
        v = transfers.transfer_ship(source_id=body.source_id, destination_id=body.destination_id,
                                    lines=_lines(body.lines), who=who, reference=body.reference)
        return 201, _dump(TransferOut, v.as_dict())

    return _idempotent(request, "inventory.transfer", idempotency_key, body.model_dump(mode="json"), work)


@router.get("/transfers/in-transit", response=_with_errors({200: InTransitOut}),
            summary="Shipped, not yet received transfer lines into and out of a location")
def transfer_in_transit(request: HttpRequest, location_id: int = Query(..., gt=0)):
    require(request, Perm.STOCK_VIEW, location=location_id)
    return selectors.in_transit(location_id=location_id)


@router.post("/transfers/{transfer_id}/receive", response=_with_errors({200: TransferOut}, 409),
             summary="Receive a transfer at its destination (once; short receipts allowed)")
def transfer_receive(request: HttpRequest, transfer_id: int, body: TransferReceiveIn | None = None,
                     idempotency_key: str | None = IdemKey):
    t = transfers.get_transfer(transfer_id)
    who = who_of(require(request, Perm.STOCK_TRANSFER, location=t.destination_id))
    received = None if body is None or body.received is None else [Line(r.sku_id, r.qty) for r in body.received]
    payload = {"transfer_id": transfer_id, **(body.model_dump(mode="json") if body else {})}

    def work() -> tuple[int, dict]:
        v = transfers.transfer_receive(transfer_id=transfer_id, who=who, received=received)
        return 200, _dump(TransferOut, v.as_dict())

    return _idempotent(request, "inventory.transfer_receive", idempotency_key, payload, work)


# --- ledger and availability ----------------------------------------------------------------

@router.get("/locations/{location_id}/ledger", response=_with_errors({200: LedgerPageOut}),
            summary="Movements at a location, newest first")
def ledger(request: HttpRequest, location_id: int, sku_id: int | None = Query(None, gt=0),
           limit: int = Query(50, ge=1, le=500), before_id: int | None = Query(None, gt=0)):
    require(request, Perm.LEDGER_VIEW, location=location_id)
    return selectors.ledger(location_id=location_id, sku_id=sku_id, limit=limit, before_id=before_id)


@router.get("/availability", response=_with_errors({200: AvailabilityOut}),
            summary="Where one SKU can be had near a point: same-city delivery, pickup, express")
def availability_one(request: HttpRequest, q: Query[AvailabilityQuery]):
    actor = require(request, Perm.LOCATION_VIEW)
    return selectors.availability(lat=q.lat, lng=q.lng, coord=q.coord, lines=[Line(q.sku_id, q.qty)],
                                  limit=q.limit, complete_only=q.complete_only,
                                  exact=actor.kind is not ActorKind.MEMBER)


@router.post("/availability", response=_with_errors({200: AvailabilityOut}),
             summary="Where a basket can be had near a point; has_all tells complete nodes")
def availability_basket(request: HttpRequest, body: AvailabilityIn):
    actor = require(request, Perm.LOCATION_VIEW)
    return selectors.availability(lat=body.lat, lng=body.lng, coord=body.coord, lines=_lines(body.lines),
                                  limit=body.limit, complete_only=body.complete_only,
                                  exact=actor.kind is not ActorKind.MEMBER)
