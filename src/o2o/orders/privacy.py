"""The orders app's part of a member's deletion (PIPL): free text about the member on their orders.

``o2o.members.privacy.member_erase`` (above this app) calls :func:`erase_order_text` in its transaction,
after it blanked the orders' contact and address. What goes (replaced by ``mark``):

* what a person typed: an order's cancel reason when a member or staff cancelled it (a system's fixed
  reason, e.g. "not paid in time", stays), every return's reason; that text is also cut out wherever it
  was copied (order history reasons, refund reasons);
* what the courier sent: tracking events' ``raw`` payloads (recipient, phone, address) and reasons, the
  courier task's failure reason;
* the order events in the outbox (``aggregate`` order / return of these orders) lose the typed text too;
* payment providers' payloads keep their amounts, statuses and ids, but lose the payer's identifiers
  (openid, buyer account, receiving account, names, phones, addresses: :data:`PERSONAL_KEYS`).

Kept: amounts, statuses, timestamps, numbers (bookkeeping and tax law keep the financial records).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from o2o.orders.models import (
    CourierTask,
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

#: keys of a provider payload (at any depth) that identify or locate the payer; their values are replaced.
PERSONAL_KEYS = frozenset({
    "openid", "sub_openid", "sp_openid", "unionid", "payer", "payer_openid", "buyer_id", "buyer_user_id",
    "buyer_open_id", "buyer_logon_id", "user_received_account", "receiver", "receiver_name", "receiver_phone",
    "receiver_address", "name", "phone", "mobile", "tel", "address", "contact", "contact_name", "contact_phone",
    "recipient", "recipient_name", "recipient_phone", "recipient_address", "user_name", "nickname", "lat",
    "lng", "latitude", "longitude", "receiver_lat", "receiver_lng", "id_card",
})
_CANCELLED = ("cancelled",)


def redact(data: Any, mark: str) -> Any:
    """``data`` (JSON) with the value of every :data:`PERSONAL_KEYS` key replaced by ``mark``."""
    if isinstance(data, dict):
        return {k: (mark if str(k).lower() in PERSONAL_KEYS else redact(v, mark)) for k, v in data.items()}
    if isinstance(data, list):
        return [redact(v, mark) for v in data]
    return data


def typed_texts(order_ids: list[int]) -> set[str]:
    """Free text people typed about these orders: cancel reasons of cancels by a member or staff, return
    reasons."""
    by_person = set(OrderEvent.objects.filter(order_id__in=order_ids, kind=EventKind.ORDER, to_status__in=_CANCELLED)
                    .filter(Q(member_id__isnull=False) | Q(user_id__isnull=False)).values_list("order_id", flat=True))
    texts = set(Order.objects.filter(pk__in=by_person).exclude(cancel_reason="").values_list("cancel_reason",
                                                                                              flat=True))
    texts |= set(Return.objects.filter(order_id__in=order_ids).exclude(reason="").values_list("reason", flat=True))
    return {t for t in texts if t.strip()}


def cut(text: str, texts: set[str], mark: str) -> str:
    """``text`` with each of ``texts`` (longest first) replaced by ``mark``."""
    for t in sorted(texts, key=len, reverse=True):
        if t and t in text:
            text = text.replace(t, mark)
    return text


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
                                      | Q(aggregate="return", aggregate_id__in=returns))
    n = 0
    for pk, payload in rows.values_list("pk", "payload"):
        new = cut_json(payload, texts, mark)
        if new != payload:
            n += OutboxEvent.objects.filter(pk=pk).update(payload=new)
    return n


def _cut_field(model: type, rows: Any, field: str, texts: set[str], mark: str) -> int:
    n = 0
    for pk, value in rows.exclude(**{field: ""}).values_list("pk", field):
        new = cut(value, texts, mark)[:200]
        if new != value:
            model.objects.filter(pk=pk).update(**{field: new})
            n += 1
    return n


def _redact_json(model: type, rows: Any, fields: tuple[str, ...], mark: str) -> int:
    n = 0
    for row in rows.only("pk", *fields):
        changed = {f: redact(getattr(row, f), mark) for f in fields}
        if any(changed[f] != getattr(row, f) for f in fields):
            model.objects.filter(pk=row.pk).update(**changed)
            n += 1
    return n


def erase_order_text(order_ids: list[int], *, texts: set[str], mark: str) -> dict[str, int]:
    """Erase the free text about a member on ``order_ids`` (see the module doc); counts per kind.
    ``texts``: :func:`typed_texts` of the orders, read before anything is erased."""
    orders = Order.objects.filter(pk__in=order_ids)
    tasks = CourierTask.objects.filter(shipment__order_id__in=order_ids)
    events = TrackingEvent.objects.filter(task__in=tasks)
    payments = Payment.objects.filter(order_id__in=order_ids)
    counts = {
        "cancel_reasons": orders.filter(cancel_reason__in=texts).update(cancel_reason=mark),
        "return_reasons": Return.objects.filter(order_id__in=order_ids).exclude(reason="").exclude(
            reason=mark).update(reason=mark),
        "history_reasons": _cut_field(OrderEvent, OrderEvent.objects.filter(order_id__in=order_ids), "reason",
                                      texts, mark),
        "refund_reasons": _cut_field(Refund, Refund.objects.filter(order_id__in=order_ids), "reason", texts, mark),
        "outbox_payloads": _cut_outbox(order_ids, texts, mark),
        "courier_payloads": events.exclude(raw={}).update(raw={}),
        "courier_reasons": (events.exclude(reason="").exclude(reason=mark).update(reason=mark)
                            + tasks.exclude(failed_reason="").exclude(failed_reason=mark).update(failed_reason=mark)),
        "payment_payloads": (_redact_json(Payment, payments, ("client_params",), mark)
                             + _redact_json(Refund, Refund.objects.filter(order_id__in=order_ids), ("raw",), mark)
                             + _redact_json(PaymentNotice, PaymentNotice.objects.filter(
                                 out_trade_no__in=list(payments.values_list("out_trade_no", flat=True))),
                                 ("raw",), mark)),
    }
    return counts
