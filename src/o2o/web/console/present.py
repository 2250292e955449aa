"""Turning the services' dicts into what a console row shows: labels, a lines summary, the timer."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import get_language

from o2o.web.console import labels
from o2o.web.console.common import message_text, split_bilingual

SUMMARY_LINES = 3
# Couriers' reasons as they may arrive in Chinese only, in the services' "中文 English" convention.
KNOWN_REASONS = dict(r.split(" ", 1) for r in (
    "无骑手接单 no rider", "骑手取消 rider cancelled", "配送超时 delivery timeout", "超时未接单 no rider in time",
    "商家取消 cancelled by the merchant", "顾客取消 cancelled by the customer", "联系不上顾客 customer unreachable"))


def timer(minutes_left: int | None) -> dict[str, Any] | None:
    """Minutes left against the promise, split for display; ``late`` when past it."""
    if minutes_left is None:
        return None
    late = minutes_left < 0
    total = -minutes_left if late else minutes_left
    return {"late": late, "soon": not late and total <= 15, "hours": total // 60, "minutes": total % 60,
            "total": total}


def lines_summary(lines: list[dict[str, Any]]) -> dict[str, Any]:
    shown = lines[:SUMMARY_LINES]
    return {"shown": shown, "more": len(lines) - len(shown), "units": sum(int(ln["qty"]) for ln in lines)}


def shipment_row(s: dict[str, Any]) -> dict[str, Any]:
    """A ``store_work.store_shipment_dict`` with what the templates show beside it."""
    return {**s, "status_label": labels.SHIPMENT_STATUS.get(s["status"], s["status"]),
            "mode_label": labels.MODE.get(s["mode"], s["mode"]),
            "provider_label": labels.PROVIDER.get(s.get("courier") or "", s.get("courier") or ""),
            "timer": timer(s.get("minutes_left")), "summary": lines_summary(s["lines"])}
# A shipment status code inside a message ("当前 out_for_delivery"): shown as its label.
_STATUS_CODE = re.compile(r"\b(?:" + "|".join(k for k in labels.SHIPMENT_STATUS if "_" in k) + r")\b")


def _english() -> bool:
    return (get_language() or "").startswith("en")


def reason_text(reason: str) -> str:
    """A courier's reason in the current language: its half of a "中文 English" reason, a known Chinese-only
    reason in English, else the provider's words as they came (never dropped)."""
    zh, en = split_bilingual(reason)
    if _english():
        return en or KNOWN_REASONS.get(zh.strip("。. "), "") or reason.strip()
    return zh or reason.strip()


def alert_text(kind: str, message: str) -> str:
    """A ``DeliveryAlert``'s line in one language, from its kind and the stored bilingual message.

    A courier alert is stored as ``"<provider> 中文 English: <reason>"`` (orders.delivery): the provider
    code becomes its label, the sentence its half in the current language and the reason (Chinese, English,
    both or neither) goes through :func:`reason_text`. Other kinds show their message's half
    (``common.message_text``).
    """
    message = message or ""
    text = _courier_text(message.strip()) if kind in ("courier_failed", "no_courier") else message_text(message)
    return _STATUS_CODE.sub(lambda m: str(labels.SHIPMENT_STATUS[m.group(0)]), text)


def _courier_text(message: str) -> str:
    code, _, body = message.partition(" ")
    provider = labels.PROVIDER.get(code)
    if provider is None:
        body = message
    head, sep, reason = body.partition(": ")  # the Chinese half uses full-width punctuation only
    zh, en = split_bilingual(head)
    sentence = (en or zh) if _english() else (zh or en)
    reason = reason_text(reason) if sep else ""
    if _english():
        text = f"{provider}: {sentence}" if provider else sentence
        return f"{text}: {reason}" if reason else text
    text = f"{provider} {sentence}" if provider else sentence
    return f"{text}：{reason}" if reason else text


def alert_row(a: dict[str, Any]) -> dict[str, Any]:
    return {**a, "kind_label": labels.ALERT_KIND.get(a["kind"], a["kind"]),
            "text": alert_text(a["kind"], a["message"])}
