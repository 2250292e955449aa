"""HQ page /hq/notifications: the latest 200 notifications (every channel), why each was or was not sent.

For HQ staff who see orders or run campaigns (``order.view`` or ``campaign.edit`` chain-wide); anyone else
signed in gets 403, a visitor goes to the sign-in page. Filters: channel, status, kind. The member shows
masked (name and ``138****5678``); the message is what was sent, which never holds a pickup code.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from o2o.core.access import Perm, allows
from o2o.notifications import selectors
from o2o.notifications.models import Channel, Status
from o2o.web.auth import staff_required

LIMIT = 200


class NotificationFilter(forms.Form):
    channel = forms.ChoiceField(label=_("渠道"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False)
    kind = forms.ChoiceField(label=_("类型"), required=False)

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        every = [("", _("全部"))]
        self.fields["channel"].choices = every + list(Channel.choices)
        self.fields["status"].choices = every + list(Status.choices)
        self.fields["kind"].choices = every + [(k, k) for k in selectors.kinds()]


@staff_required
def notifications(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if not (allows(actor, Perm.ORDER_VIEW) or allows(actor, Perm.CAMPAIGN_EDIT)):
        raise PermissionDenied  # chain-wide only: HQ staff
    form = NotificationFilter(request.GET)
    context = {"form": form, "limit": LIMIT}
    if not form.is_valid():
        return render(request, "web/hq/notifications.html", context, status=400)
    rows = selectors.latest(limit=LIMIT, **{k: form.cleaned_data[k] or "" for k in ("channel", "status", "kind")})
    context["rows"] = list(rows)
    return render(request, "web/hq/notifications.html", context)
