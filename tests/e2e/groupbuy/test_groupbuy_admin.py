"""The HQ admin pages of group buying render: deals and leaders editable, groups and community orders read-only."""

from __future__ import annotations

import pytest
from django.db import transaction

from o2o.accounts.models import User
from o2o.groupbuy import community
from o2o.groupbuy.models import CommunityRun
from tests.factories import member
from tests.integration.fulfilment.world import build
from tests.integration.groupbuy.support import by, deal, leader, open_group

pytestmark = pytest.mark.django_db


def test_admin_pages_render(client, monkeypatch):
    w = build(monkeypatch)
    user = User.objects.create(username="hq-admin", is_staff=True, is_superuser=True, role="hq_admin", scope="hq")
    client.force_login(user)
    d = deal(w)
    place = open_group(w, d, member()[0])
    boss, buyer = member()[0], member()[0]
    point = leader(w, boss)
    with transaction.atomic():
        placed = community.community_order_place(leader_id=point.pk, member=buyer, lines=[(w.s1.pk, 1)],
                                                 channel="app", by=by(buyer))
    pages = ["groupbuy/groupdeal/", "groupbuy/groupdeal/add/", f"groupbuy/groupdeal/{d.pk}/change/",
             "groupbuy/group/", f"groupbuy/group/{place.group_id}/change/", "groupbuy/communityleader/",
             f"groupbuy/communityleader/{point.pk}/change/", "groupbuy/communityorder/",
             f"groupbuy/communityorder/{placed.pk}/change/", "groupbuy/communityrun/",
             f"groupbuy/communityrun/{CommunityRun.objects.get().pk}/change/"]
    for page in pages:
        r = client.get(f"/admin/{page}")
        assert r.status_code == 200, page
    assert "拼团价（分）" in client.get("/admin/groupbuy/groupdeal/").content.decode()
    assert client.get("/admin/groupbuy/group/add/").status_code == 403  # records change through services only
    assert client.get("/admin/groupbuy/communityrun/add/").status_code == 403
