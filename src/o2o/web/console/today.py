"""The store's figures for today: store managers and above (a clerk gets the 403 page)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from o2o.common.errors import Forbidden
from o2o.core.access import Perm
from o2o.stores.models import Location
from o2o.web.console import labels
from o2o.web.console.common import is_manager, page, refuse, store_page
from o2o.web.console.figures import store_figures


@store_page(Perm.ORDER_VIEW)
def figures(request: HttpRequest, loc: Location) -> HttpResponse:
    if not is_manager(request):
        return refuse(request, Forbidden("仅店长及以上可查看 Store managers only"))
    f = store_figures(loc.pk)
    modes = sorted({r["mode"] for r in f["by_mode_status"]})
    statuses = [s for s in labels.SHIPMENT_STATUS if any(r["status"] == s for r in f["by_mode_status"])]
    cells = {(r["mode"], r["status"]): r["n"] for r in f["by_mode_status"]}
    table = [{"mode": labels.MODE.get(m, m), "cells": [cells.get((m, s), 0) for s in statuses],
              "total": sum(cells.get((m, s), 0) for s in statuses)} for m in modes]
    share = None if f["pickup_share"] is None else round(f["pickup_share"] * 100)
    return page(request, "web/console/figures.html", loc, "figures",
                {"f": f, "table": table, "status_heads": [labels.SHIPMENT_STATUS[s] for s in statuses],
                 "pickup_share_pct": share})
