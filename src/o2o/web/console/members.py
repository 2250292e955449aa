"""Member look-up at the counter: by phone (blind index, nothing decrypted), shown masked.

Which members a staff user may see is the members API's rule (``members.selectors.member_for_staff``):
HQ all, store and region staff only members with an order at one of their stores. Shown: the
masked phone, the tier with its benefits and progress (``web.shop.member.tier_card``), points
(``members.selectors.points_view``) and recent orders this user may see. Tags come later (#5).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from o2o.accounts.permissions import visible_location_ids
from o2o.accounts.pii_services import members_by_phone
from o2o.common.errors import NotFound
from o2o.core.access import Perm
from o2o.members import selectors as member_selectors
from o2o.orders import selectors as order_selectors
from o2o.stores.models import Location
from o2o.web.console import labels
from o2o.web.console.common import store_page
from o2o.web.console.counter import counter_page
from o2o.web.console.forms import MemberLookupForm
from o2o.web.shop.member import tier_card

RECENT_ORDERS = 5


@require_POST
@store_page(Perm.ORDER_VIEW)
def member_lookup(request: HttpRequest, loc: Location) -> HttpResponse:
    """A POST, so that the phone number never lands in a URL or an access log."""
    form = MemberLookupForm(request.POST)
    if not form.is_valid():
        return counter_page(request, loc, {"member_form": form}, status=400)
    locations = visible_location_ids(request, Perm.ORDER_VIEW)
    found = []
    for m in members_by_phone(form.cleaned_data["phone"]):
        try:
            member = member_selectors.member_for_staff(request, m.pk)
        except NotFound:
            continue
        points = member_selectors.points_view(member.pk)
        orders = (order_selectors.visible_orders(locations=locations).filter(member_id=member.pk)
                  .order_by("-created_at", "-pk")[:RECENT_ORDERS])
        found.append({"member": member, "points": points, "tier": tier_card(member.pk),
                      "orders": [{"o": o, "status_label": labels.ORDER_STATUS.get(o.status, o.status),
                                  "channel_label": labels.CHANNEL.get(o.channel, o.channel)} for o in orders]})
    return counter_page(request, loc, {"member_form": MemberLookupForm(), "members": found, "member_searched": True},
                        status=200 if found else 404)
