"""The tier on the pages: the storefront member center (tier, benefits, progress, history, in Chinese
and English), the console's member look-up, and the HQ dashboard's tier mix from the real states."""

from __future__ import annotations

import pytest
from django.conf import settings

from o2o.accounts.models import User
from o2o.accounts.pii_services import member_set_phone
from o2o.members.handlers import on_order_event
from o2o.members.models import TierState
from o2o.outbox.services import events_relay
from tests.e2e.orders.test_returns_support import pos_order
from tests.e2e.web.test_hq_dashboard import figures
from tests.e2e.web.test_shop_helpers import by_testid, fresh_cache, sign_in  # noqa: F401
from tests.factories import member, staff
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.fixture
def silver(w):
    """A member who spent ¥1,200.00 at store A's till: silver, ¥3,800.00 short of gold."""
    m, _ = member("李四")
    member_set_phone(member=m, phone="13812345678")
    pos_order(w.a, "TIER-WEB-1", [(w.s1, 2, 60_000)], 120_000, member=m)
    events_relay(handlers=[on_order_event])
    return m


def test_member_center_shows_the_real_tier_benefits_and_progress(client, silver):
    sign_in(client, silver)
    html = client.get("/shop/me").content.decode()
    assert by_testid(html, "member-tier") == "白银会员" and 'data-tier="silver"' in html
    assert "98 折" in html and "¥1200.00" in by_testid(html, "tier-value").replace(",", "")
    assert by_testid(html, "tier-progress") == "再消费 ¥3800.00 即可升级为黄金会员"
    assert "消费升级" in by_testid(html, "tier-history") and "等级保护至" in html
    assert "issue 5" not in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.get("/shop/me").content.decode()
    assert by_testid(en, "member-tier") == "Silver member"
    assert by_testid(en, "tier-progress") == "Spend ¥3800.00 more to become a Gold member"
    assert "白银会员" not in en


def test_a_new_member_is_normal_and_the_top_tier_has_no_progress(client):
    m, _ = member()
    sign_in(client, m)
    html = client.get("/shop/me").content.decode()
    assert by_testid(html, "member-tier") == "普通会员"
    assert by_testid(html, "tier-progress") == "再消费 ¥1000.00 即可升级为白银会员"
    TierState.objects.create(member=m, tier="diamond")
    html = client.get("/shop/me").content.decode()
    assert by_testid(html, "member-tier") == "钻石会员" and by_testid(html, "tier-progress") == "已是最高等级"
    assert "专属客服" in html and "免费安装/上门服务" in html


def test_console_lookup_shows_the_tier(client, w, silver):
    client.force_login(staff("clerk", loc=w.a)[0])
    r = client.post(f"/console/s/{w.a.pk}/counter/member", {"phone": "138 1234 5678"})
    html = r.content.decode()
    assert r.status_code == 200 and "李四" in html
    assert "白银会员" in by_testid(html, "member-tier") and "98 折" in html
    assert "再消费 ¥3800.00 即可升级为黄金会员" in html


def test_hq_tier_mix_reads_the_tier_states(client, silver):
    for tier in ("gold", "gold", "diamond"):
        TierState.objects.create(member=member()[0], tier=tier)
    member()  # no state row: normal
    client.force_login(User.objects.create(username="hq-tiers", role="hq_admin", scope="hq"))
    html = client.get("/hq/").content.decode()
    rows = {r["key"]: r["value"] for r in figures(html)["tiers"]["rows"]}
    assert rows == {"normal": 1, "silver": 1, "gold": 2, "diamond": 1}
    assert figures(html)["tiers"]["total"] == 5 and "黄金会员" in html and "占位" not in html
