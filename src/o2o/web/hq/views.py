"""HQ pages: the dashboard (/hq/) for HQ and region staff; master data lives in the admin (/admin/)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from o2o.accounts.permissions import visible_location_ids
from o2o.common.errors import Forbidden
from o2o.core.access import Perm, ScopeKind
from o2o.stores.models import Location
from o2o.web.auth import staff_required
from o2o.web.hq.figures import SHANGHAI, Scope, dashboard_figures
from o2o.web.hq.forms import DashboardFilter, region_tree, subtree


def _chart_text() -> dict[str, str]:
    """The few words the charts draw themselves (axis and series names)."""
    return {"orders": _("订单数"), "rate": _("准时率"), "avg": _("单均成本（元）"), "short": _("拣货缺货"),
            "rejected": _("门店拒单"), "pickup": _("自提"), "delivery": _("配送"), "members": _("会员数"),
            "empty": _("暂无数据")}


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def _kpis(fig: dict) -> dict:
    for row in fig["on_time"]["rows"]:
        row["pct"] = _pct(row["rate"])
    return {
        "orders": fig["channel"]["total"],
        "pickup_share": _pct(fig["pickup"]["share"]),
        "on_time_rate": _pct(fig["on_time"]["rate"]),
        "cost_per_order": fig["cost"]["avg_fen"],
        "stockouts": fig["stockouts"]["total"],
        "members": fig["tiers"]["total"],
    }


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if actor.scope not in (ScopeKind.HQ, ScopeKind.REGION):
        raise PermissionDenied  # a store's staff: the console shows their store's figures
    try:
        visible = visible_location_ids(request, Perm.ORDER_VIEW)
    except Forbidden:
        raise PermissionDenied from None
    parents = region_tree()
    region_ids = None if visible is None else subtree(actor.region_id, parents)
    today = timezone.localtime(timezone.now(), SHANGHAI).date()
    form = DashboardFilter(request.GET, today=today, region_ids=region_ids, location_ids=visible, parents=parents)
    context = {"form": form, "today": today, "region_scope": actor.scope is ScopeKind.REGION}
    if not form.is_valid():
        return render(request, "web/hq/dashboard.html", context, status=400)
    data = form.cleaned_data
    ids = None if visible is None else set(visible)
    if data["region"]:
        in_region = set(Location.objects.filter(region_id__in=subtree(data["region"], parents))
                        .values_list("pk", flat=True))
        ids = in_region if ids is None else ids & in_region
    if data["store"]:
        ids = {data["store"]}
    scope = Scope(first=data["first"], last=data["last"], location_ids=None if ids is None else tuple(sorted(ids)))
    figures = dashboard_figures(scope)
    context.update(scope=scope, figures=figures, kpi=_kpis(figures), chart_text=_chart_text())
    return render(request, "web/hq/dashboard.html", context)
