"""Member look-up at the counter: by phone (blind index, nothing decrypted) or by the member code (会员码) the
customer shows (a scanner types its 18 digits, which start 88; a phone number starts 1), shown masked.

Who may be found is ``members.lookup.member_lookup``'s rule (the API's too): by phone HQ all, store and
region staff only members who shop at or are served by one of their stores; by a live member code any
member (they are at the counter showing it). Every member found is written to the personal-data access
log. Shown: the masked phone, the tier with its benefits and progress (``web.shop.member.tier_card``),
points (``members.selectors.points_view``), recent orders this user may see and the tags that help serve
the member (``profiles.api_lookup.serving_tags``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from o2o.common.errors import ApiError, NotFound
from o2o.core.access import Perm
from o2o.members import selectors as member_selectors
from o2o.members.lookup import member_lookup as find_members
from o2o.profiles.api_lookup import recent_orders, serving_tags
from o2o.stores.models import Location
from o2o.web.console import labels
from o2o.web.console.common import store_page
from o2o.web.console.counter import counter_page
from o2o.web.console.forms import MemberLookupForm
from o2o.web.shop.member import tier_card
from o2o.web.templatetags.o2o_web import yuan

# The serving tags (``profiles.api_lookup.SERVING_TAGS``) as the counter names them (translatable: the tag
# catalogue's labels are Chinese only), and their coded values.
TAG_LABEL = {
    "lifecycle_stage": _("生命周期"), "value_segment": _("价值分层"), "rfm_segment": _("RFM分群"),
    "churn_risk": _("流失风险"), "big_spender": _("高消费会员"), "preferred_channel": _("偏好渠道"),
    "preferred_store": _("常去门店"), "preferred_fulfilment": _("偏好履约方式"), "price_sensitivity": _("价格敏感度"),
    "top_category": _("最爱品类"), "top_categories": _("偏好品类"), "avg_basket_fen": _("客单价"),
    "days_since_last_purchase": _("距上次购买天数"), "purchase_overdue": _("购买逾期"),
    "preferred_daypart": _("偏好时段"),
}
TAG_VALUE = {
    "new": _("新客"), "active": _("活跃"), "at_risk": _("有流失风险"), "churned": _("已流失"),
    "high": _("高"), "medium": _("中"), "low": _("低"),
    "champions": _("重要价值"), "loyal": _("忠诚"), "potential_loyalist": _("潜力忠诚"), "recent": _("新近"),
    "lost": _("已流失"), "hibernating": _("沉睡"), "needs_attention": _("需关注"),
    "delivery": _("配送"), "morning": _("上午"), "midday": _("中午"), "afternoon": _("下午"), "evening": _("傍晚"),
    "night": _("夜间"), **labels.MODE, **labels.CHANNEL,
}


def tag_text(tag: dict[str, Any]) -> str:
    """A tag's value as a clerk reads it: yes/no, yuan, a list joined, a known code in words."""
    value = tag["value"]
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if tag["name"].endswith("_fen") and isinstance(value, int | float):
        return yuan(round(value))
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, list):
        return "、".join(str(TAG_VALUE.get(v, v)) for v in value)
    return str(TAG_VALUE.get(value, value)) if isinstance(value, str) else str(value)


def tag_rows(member_id: int) -> list[dict[str, Any]]:
    return [{**t, "label": TAG_LABEL.get(t["name"], t["label"]), "text": tag_text(t)}
            for t in serving_tags(member_id)]


@require_POST
@store_page(Perm.ORDER_VIEW)
def member_lookup(request: HttpRequest, loc: Location) -> HttpResponse:
    """A POST, so that the phone number or code never lands in a URL or an access log."""
    form = MemberLookupForm(request.POST)
    if not form.is_valid():
        return counter_page(request, loc, {"member_form": form}, status=400)
    try:
        found = find_members(request, **form.lookup(), source="console")
    except NotFound as exc:
        return counter_page(request, loc, {"member_searched": True, "members": [], "member_missing": exc.code},
                            status=404)
    except ApiError as exc:  # a malformed value the form let through, a missing right
        return counter_page(request, loc, {"member_searched": True, "members": [], "member_error": exc.message},
                            status=exc.status)
    rows = []
    for member in found.members:
        orders = [{**o, "status_label": labels.ORDER_STATUS.get(o["status"], o["status"]),
                   "channel_label": labels.CHANNEL.get(o["channel"], o["channel"])}
                  for o in recent_orders(member.pk, found.locations)]
        rows.append({"member": member, "points": member_selectors.points_view(member.pk),
                     "tier": tier_card(member.pk), "orders": orders, "tags": tag_rows(member.pk)})
    return counter_page(request, loc, {"members": rows, "member_searched": True, "found_by": found.way})
