"""Turning the services' dicts into what a console row shows: labels, a lines summary, the timer."""

from __future__ import annotations

from typing import Any

from o2o.web.console import labels
from o2o.web.console.common import message_text

SUMMARY_LINES = 3


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


def alert_row(a: dict[str, Any]) -> dict[str, Any]:
    return {**a, "kind_label": labels.ALERT_KIND.get(a["kind"], a["kind"]), "text": message_text(a["message"])}
