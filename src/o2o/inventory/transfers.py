"""Transfers: stock moved between two locations in two steps, shipped then received.

* **Ship** (``transfer_ship``): the goods leave the source at once -- one ``transfer_out``
  movement per line, on hand down. Only free stock can be shipped (reserved stock belongs
  to someone's order): ``InsufficientStock`` otherwise, and nothing is written.
* **In transit**: the lines of shipped, not yet received transfers. They are in no
  location's stock; :func:`o2o.inventory.selectors.in_transit` lists them.
* **Receive** (``transfer_receive``): one ``transfer_in`` movement per line at the
  destination, on hand up by what arrived. Receiving is a conditional UPDATE on the
  status, so a second receipt (a retry, a double click, two clerks) changes nothing.
* **Short receipt**: ``received`` may name lines that arrived short (``received_qty``
  between 0 and the shipped quantity; lines not named arrived in full). The shortfall is
  *lost in transit*: it stays recorded on the transfer line (``qty - received_qty``) and in
  the ``transfer_in`` movement's details, and appears in no location's stock -- the source
  already gave it up and the destination never had it. Finding it later is an ordinary
  receipt or adjustment with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from o2o.common.errors import InvalidInput, NotFound
from o2o.inventory import buckets
from o2o.inventory.errors import InsufficientStock, shortage
from o2o.inventory.ledger import Entry, Who, record
from o2o.inventory.models import MovementKind, Transfer, TransferLine, TransferStatus
from o2o.inventory.validation import MAX_QTY, Line, check_lines, check_location


@dataclass(frozen=True)
class TransferLineView:
    sku_id: int
    qty: int
    received_qty: int | None

    @property
    def lost_in_transit(self) -> int:
        return 0 if self.received_qty is None else self.qty - self.received_qty


@dataclass(frozen=True)
class TransferView:
    id: int
    source_id: int
    destination_id: int
    status: str
    reference: str
    shipped_at: datetime
    received_at: datetime | None
    lines: list[TransferLineView]

    def as_dict(self) -> dict:
        return {
            "id": self.id, "source_id": self.source_id, "destination_id": self.destination_id,
            "status": self.status, "reference": self.reference, "shipped_at": self.shipped_at.isoformat(),
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "lines": [{"sku_id": ln.sku_id, "qty": ln.qty, "received_qty": ln.received_qty,
                       "lost_in_transit": ln.lost_in_transit} for ln in self.lines],
        }


def view(t: Transfer) -> TransferView:
    lines = sorted(t.lines.all(), key=lambda ln: ln.sku_id)
    return TransferView(t.pk, t.source_id, t.destination_id, str(t.status), t.reference, t.shipped_at,
                        t.received_at, [TransferLineView(ln.sku_id, ln.qty, ln.received_qty) for ln in lines])


def get_transfer(transfer_id: int) -> Transfer:
    t = Transfer.objects.filter(pk=transfer_id).first()
    if t is None:
        raise NotFound("调拨单不存在 Unknown transfer", code="unknown_transfer", details={"transfer_id": transfer_id})
    return t


def transfer_ship(*, source_id: int, destination_id: int, lines: list[Line], who: Who, reference: str = "",
                  key_prefix: str | None = None, now: datetime | None = None) -> TransferView:
    """Ship ``lines`` from the source: free stock leaves it now; the transfer is ``shipped``."""
    if source_id == destination_id:
        raise InvalidInput("调出与调入网点相同 Source and destination must differ", code="same_location",
                           details={"source_id": source_id})
    check_location(source_id)
    check_location(destination_id)
    lines = check_lines(lines)
    now = now or timezone.now()
    with transaction.atomic():
        t = Transfer.objects.create(source_id=source_id, destination_id=destination_id, reference=reference[:100],
                                    shipped_at=now, shipped_by_id=who.user_id)
        TransferLine.objects.bulk_create([TransferLine(transfer=t, sku_id=ln.sku_id, qty=ln.qty) for ln in lines])
        prefix = key_prefix or f"transfer:{t.pk}"
        record([Entry(source_id, ln.sku_id, MovementKind.TRANSFER_OUT, ln.qty, delta_on_hand=-ln.qty,
                      key=f"{prefix}:out:{ln.sku_id}", reason="调拨出库 transfer shipped", reference=reference,
                      transfer_id=t.pk, details={"destination_id": destination_id}, occurred_at=now)
                for ln in lines], who)
        short = []
        for ln in lines:  # sorted by SKU: the global lock order
            try:
                buckets.apply_change(location_id=source_id, sku_id=ln.sku_id, d_on_hand=-ln.qty)
            except buckets.CannotApply as exc:
                short.append(shortage(source_id, ln.sku_id, ln.qty, exc.totals.available))
        if short:
            raise InsufficientStock(short)
        return view(t)


def _received_qty(t: Transfer, received: list[Line] | None) -> dict[int, int]:
    shipped = {ln.sku_id: ln.qty for ln in t.lines.all()}
    got = dict(shipped)
    if received is None:
        return got
    bad, seen = [], set()
    for ln in received:
        if ln.sku_id not in shipped:
            bad.append({"sku_id": ln.sku_id, "problem": "not on this transfer"})
        elif ln.sku_id in seen:
            bad.append({"sku_id": ln.sku_id, "problem": "named twice"})
        elif type(ln.qty) is not int or not 0 <= ln.qty <= min(shipped[ln.sku_id], MAX_QTY):
            bad.append({"sku_id": ln.sku_id, "problem": f"received qty must be 0..{shipped[ln.sku_id]}"})
        else:
            got[ln.sku_id] = ln.qty
        seen.add(ln.sku_id)
    if bad:
        raise InvalidInput("收货数量有误 Invalid received quantities", code="invalid_receipt", details={"lines": bad})
    return got


def transfer_receive(*, transfer_id: int, who: Who, received: list[Line] | None = None,
                     now: datetime | None = None) -> TransferView:
    """Receive a shipped transfer at its destination; receiving it again changes nothing.

    ``received`` names lines that arrived short (0 <= qty <= shipped); other lines arrived in
    full. The shortfall stays on the transfer line as lost in transit (see the module doc).
    """
    now = now or timezone.now()
    with transaction.atomic():
        t = get_transfer(transfer_id)
        got = _received_qty(t, received)
        won = Transfer.objects.filter(pk=t.pk, status=TransferStatus.SHIPPED).update(
            status=TransferStatus.RECEIVED, received_at=now, received_by_id=who.user_id)
        if not won:  # already received: the first receipt stands
            t.refresh_from_db()
            return view(t)
        lines = sorted(t.lines.all(), key=lambda ln: ln.sku_id)
        for ln in lines:
            ln.received_qty = got[ln.sku_id]
        TransferLine.objects.bulk_update(lines, ["received_qty"])
        record([Entry(t.destination_id, ln.sku_id, MovementKind.TRANSFER_IN, ln.received_qty,
                      delta_on_hand=ln.received_qty, key=f"transfer:{t.pk}:in:{ln.sku_id}",
                      reason="调拨入库 transfer received", reference=t.reference, transfer_id=t.pk,
                      details={"source_id": t.source_id, "shipped": ln.qty,
                               "lost_in_transit": ln.qty - ln.received_qty}, occurred_at=now)
                for ln in lines], who)
        for ln in lines:
            buckets.apply_change(location_id=t.destination_id, sku_id=ln.sku_id, d_on_hand=ln.received_qty)
        t.refresh_from_db()
        return view(t)
