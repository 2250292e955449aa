"""The orders app's part of a member's deletion (PIPL): free text about the member on their orders.

``o2o.members.privacy.member_erase`` (above this app) calls :func:`erase_order_text` in its transaction,
after it blanked the orders' contact and address. What goes (replaced by ``mark``):

* what a person typed: an order's cancel reason when a member or staff cancelled it (a system's fixed
  reason, e.g. "not paid in time", stays), every return's reason; and what a courier sent: the courier
  task's failure reason, tracking events' reasons (all of them in place: a status description may name who
  signed). The typed text and the courier's exception text (:func:`typed_texts`: failed / cancelled events
  only, never status descriptions such as "已送达") is also cut out wherever it was copied: order history reasons (where ``history.log`` cut it off at 200 characters too),
  refund reasons, delivery alerts' messages, the outbox's order / return events;
* tracking events' ``raw`` payloads (recipient, phone, address);
* payment providers' payloads keep their amounts, statuses and ids, but lose the payer's identifiers
  (openid, buyer account, receiving account, names, phones, addresses: :data:`PERSONAL_KEYS`): the
  payments' ``client_params``, the refunds' ``raw``, and the payment notices of the member's payments,
  found by ``out_trade_no`` or, for a notice recorded as ignored / rejected with an empty
  ``out_trade_no``, by one of the payments' ``out_trade_no`` / ``transaction_id`` appearing in its body.

Kept: amounts, statuses, timestamps, numbers (bookkeeping and tax law keep the financial records).

What cannot be matched (documented limits):

* a payment notice whose body names none of the member's trades (an undecryptable / unparsable body, a
  notice for a trade never created here) cannot be tied to the member and keeps its payer identifiers;
  such notices are not the member's record and age out with the notice log;
* the stock ledger (``inventory.Movement``, append-only: database triggers refuse UPDATE) gets only fixed
  reasons now (cancel, reroute); rows written before that fix may still hold a cancel / reroute reason a
  person typed. They cannot be rewritten (no migration rewrites the ledger); an export of the ledger for
  a third party must leave the ``reason`` column out for those rows.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from o2o.fulfilment.privacy import cut
from o2o.orders.models import (
    CourierTask,
    DeliveryAlert,
    EventKind,
    Order,
    OrderEvent,
    Payment,
    PaymentNotice,
    Refund,
    Return,
    TrackingEvent,
)
from o2o.outbox.models import OutboxEvent

__all__ = ["PERSONAL_KEYS", "cut", "cut_json", "erase_order_text", "redact", "typed_texts"]

#: keys of a provider payload (at any depth) that identify or locate the payer; their values are replaced.
PERSONAL_KEYS = frozenset({
    "openid", "sub_openid", "sp_openid", "unionid", "payer", "payer_openid", "buyer_id", "buyer_user_id",
    "buyer_open_id", "buyer_logon_id", "user_received_account", "receiver", "receiver_name", "receiver_phone",
    "receiver_address", "name", "phone", "mobile", "tel", "address", "contact", "contact_name", "contact_phone",
    "recipient", "recipient_name", "recipient_phone", "recipient_address", "user_name", "nickname", "lat",
    "lng", "latitude", "longitude", "receiver_lat", "receiver_lng", "id_card",
})
_CANCELLED = ("cancelled",)
_COURIER_EXCEPTIONS = ("failed", "cancelled")  # TaskStatus values whose event reason is the courier's own text
_BATCH = 200


def redact(data: Any, mark: str) -> Any:
    """``data`` (JSON) with the value of every :data:`PERSONAL_KEYS` key replaced by ``mark``."""
    if isinstance(data, dict):
        return {k: (mark if str(k).lower() in PERSONAL_KEYS else redact(v, mark)) for k, v in data.items()}
    if isinstance(data, list):
        return [redact(v, mark) for v in data]
    return data


def typed_texts(order_ids: list[int]) -> set[str]:
    """Free text people or couriers typed about these orders: cancel reasons of cancels by a member or
    staff, return reasons, courier tasks' failure reasons, the reasons of failed / cancelled tracking events
    (the courier's exception text, copied into the history and alerts). Other tracking events' reasons are
    the courier's status descriptions ("已送达" on every SF update): not typed, never cut out elsewhere."""
    if not order_ids:
        return set()
    by_person = set(OrderEvent.objects.filter(order_id__in=order_ids, kind=EventKind.ORDER, to_status__in=_CANCELLED)
                    .filter(Q(member_id__isnull=False) | Q(user_id__isnull=False)).values_list("order_id", flat=True))
    texts = set(Order.objects.filter(pk__in=by_person).exclude(cancel_reason="").values_list("cancel_reason",
                                                                                              flat=True))
    texts |= set(Return.objects.filter(order_id__in=order_ids).exclude(reason="").values_list("reason", flat=True))
    tasks = CourierTask.objects.filter(shipment__order_id__in=order_ids)
    texts |= set(tasks.exclude(failed_reason="").values_list("failed_reason", flat=True))
    texts |= set(TrackingEvent.objects.filter(task__in=tasks, status__in=_COURIER_EXCEPTIONS).exclude(reason="")
                 .values_list("reason", flat=True))
    return {t for t in texts if t.strip()}


def cut_json(data: Any, texts: set[str], mark: str) -> Any:
    """:func:`cut` in every string of ``data`` (JSON)."""
    if isinstance(data, dict):
        return {k: cut_json(v, texts, mark) for k, v in data.items()}
    if isinstance(data, list):
        return [cut_json(v, texts, mark) for v in data]
    return cut(data, texts, mark) if isinstance(data, str) else data


def _cut_outbox(order_ids: list[int], texts: set[str], mark: str) -> int:
    if not texts:
        return 0
    returns = [str(pk) for pk in Return.objects.filter(order_id__in=order_ids).values_list("pk", flat=True)]
    rows = OutboxEvent.objects.filter(Q(aggregate="order", aggregate_id__in=[str(pk) for pk in order_ids])
                                      | Q(aggregate="return", aggregate_id__in=returns)).only("pk", "payload")
    changed = []
    for row in rows:
        new = cut_json(row.payload, texts, mark)
        if new != row.payload:
            row.payload = new
            changed.append(row)
    OutboxEvent.objects.bulk_update(changed, ["payload"], batch_size=_BATCH)
    return len(changed)


def _cut_field(model: type, rows: Any, field: str, texts: set[str], mark: str, size: int = 200) -> int:
    if not texts:
        return 0
    changed = []
    for row in rows.exclude(**{field: ""}).only("pk", field):
        value = getattr(row, field)
        new = cut(value, texts, mark)[:size]
        if new != value:
            setattr(row, field, new)
            changed.append(row)
    model.objects.bulk_update(changed, [field], batch_size=_BATCH)
    return len(changed)


def _redact_json(model: type, rows: Any, fields: tuple[str, ...], mark: str) -> int:
    changed = []
    for row in rows.only("pk", *fields):
        new = {f: redact(getattr(row, f), mark) for f in fields}
        if any(new[f] != getattr(row, f) for f in fields):
            for f in fields:
                setattr(row, f, new[f])
            changed.append(row)
    model.objects.bulk_update(changed, list(fields), batch_size=_BATCH)
    return len(changed)


def _notices(payments: Any) -> Any:
    """The payment notices of these payments: by ``out_trade_no``, or (ignored / rejected, no
    ``out_trade_no`` recorded) by a trade number or transaction id of theirs in the body."""
    ids = [v for pair in payments.values_list("out_trade_no", "transaction_id") for v in pair if v]
    if not ids:
        return PaymentNotice.objects.none()
    nos = list(payments.values_list("out_trade_no", flat=True))
    in_body = Q()
    for v in ids:
        in_body |= Q(raw_text__contains=f'"{v}"')
    return (PaymentNotice.objects.annotate(raw_text=Cast("raw", TextField()))
            .filter(Q(out_trade_no__in=nos) | (Q(out_trade_no="") & in_body)))


def erase_order_text(order_ids: list[int], *, texts: set[str], mark: str) -> dict[str, int]:
    """Erase the free text about a member on ``order_ids`` (see the module doc); counts per kind.
    ``texts``: :func:`typed_texts` of the orders, read before anything is erased."""
    if not order_ids:
        return {}
    orders = Order.objects.filter(pk__in=order_ids)
    tasks = CourierTask.objects.filter(shipment__order_id__in=order_ids)
    events = TrackingEvent.objects.filter(task__in=tasks)
    payments = Payment.objects.filter(order_id__in=order_ids)
    refunds = Refund.objects.filter(order_id__in=order_ids)
    counts = {
        "cancel_reasons": orders.filter(cancel_reason__in=texts).update(cancel_reason=mark) if texts else 0,
        "return_reasons": Return.objects.filter(order_id__in=order_ids).exclude(reason="").exclude(
            reason=mark).update(reason=mark),
        "history_reasons": _cut_field(OrderEvent, OrderEvent.objects.filter(order_id__in=order_ids), "reason",
                                      texts, mark),
        "refund_reasons": _cut_field(Refund, refunds, "reason", texts, mark),
        "alert_messages": _cut_field(DeliveryAlert, DeliveryAlert.objects.filter(shipment__order_id__in=order_ids),
                                     "message", texts, mark, size=300),
        "outbox_payloads": _cut_outbox(order_ids, texts, mark),
        "courier_payloads": events.exclude(raw={}).update(raw={}),
        "courier_reasons": (events.exclude(reason="").exclude(reason=mark).update(reason=mark)
                            + tasks.exclude(failed_reason="").exclude(failed_reason=mark).update(failed_reason=mark)),
        "payment_payloads": (_redact_json(Payment, payments, ("client_params",), mark)
                             + _redact_json(Refund, refunds, ("raw",), mark)
                             + _redact_json(PaymentNotice, _notices(payments), ("raw",), mark)),
    }
    return counts
