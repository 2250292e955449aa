"""PostgreSQL: two first sign-ins with one new identifier at once make one member."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from o2o.accounts.identities import member_identify
from o2o.accounts.models import Member, MemberChannel, MemberIdentity
from tests.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("kind,value,app_id", [("wechat_openid", "oNEWopenid0001", "wxshop"),
                                               ("phone", "13812340000", "")])
def test_simultaneous_first_sign_ins_make_one_member(kind, value, app_id):
    assert connection.vendor == "postgresql"
    now = timezone.now()
    results = race(*[(lambda: member_identify(kind=kind, value=value, app_id=app_id, channel="mini_program", now=now))
                     for _ in range(4)])
    assert len({r.member.pk for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert Member.objects.count() == 1 and MemberIdentity.objects.count() == 1
    assert MemberChannel.objects.count() == 1
