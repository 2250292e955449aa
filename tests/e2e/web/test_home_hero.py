"""The storefront home's hero as a page-element A/B experiment: a member sees their variant (the same on every
visit, exposure logged once); visitors and a stopped experiment get the default headline."""

from __future__ import annotations

import pytest

from o2o.core.experiments import Variant, assign
from o2o.experiments.models import Experiment, Exposure
from o2o.web.auth import SESSION_MEMBER
from tests.factories import member

pytestmark = pytest.mark.django_db

NUDGE = {"title": "新人领券 满30减5", "text": "领取后下单立减", "link": "/shop/coupons"}


def signed_in(client, m) -> None:  # noqa: ANN001
    session = client.session
    session[SESSION_MEMBER] = m.pk
    session.save()


def test_members_see_their_variant_and_visitors_the_default(client):
    exp = Experiment.objects.create(key="home-hero", name="hero", target="page", status="running",
                                    variants=[{"key": "control", "weight": 1, "config": {}},
                                              {"key": "nudge", "weight": 1, "config": NUDGE}])
    seen = {"control": 0, "nudge": 0}
    for _ in range(20):  # both variants appear (all 20 alike: 2 in a million)
        m, _ = member()
        client.cookies.clear()
        signed_in(client, m)
        want = assign("home-hero", m.pk, [Variant("control", 1), Variant("nudge", 1)])
        for _ in range(2):
            html = client.get("/shop/").content.decode()
            assert ("新人领券 满30减5" in html) == (want == "nudge")
            assert ('href="/shop/coupons"' in html) or want == "control"
        seen[want] += 1
        assert Exposure.objects.get(experiment=exp, member=m).variant == want
    assert Exposure.objects.count() == 20 and min(seen.values()) > 0
    client.cookies.clear()
    assert "新人领券" not in client.get("/shop/").content.decode()  # a visitor: no exposure, default hero
    assert Exposure.objects.count() == 20
    exp.status = "stopped"
    exp.save()
    m, _ = member()
    signed_in(client, m)
    assert "新人领券" not in client.get("/shop/").content.decode()
