"""Members reachable on every channel, and queueing notifications for them, for the notifications tests."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.db import transaction

from o2o.accounts.identities import identity_attach, identity_key
from o2o.accounts.models import Member
from o2o.accounts.pii_services import member_set_phone
from o2o.adapters.notify.simulator import SIM_WECHAT_APPID
from o2o.notifications.models import Notification
from o2o.notifications.rules import CHINA
from o2o.notifications.services import device_register, notify

T0 = datetime(2024, 3, 15, 10, 0, tzinfo=CHINA)  # a Friday morning, China time: outside the quiet hours
PICKUP = {"order": "O2O20240315001", "order_id": 1, "store": "徐汇旗舰店", "deadline": "2024年03月15日 18:00"}
COUPON = {"coupon": "满50减10", "until": "2024年03月17日 23:59", "coupon_id": 1}
_n = itertools.count(1)


def reachable_member(*, phone: bool = True, openid: bool = True, device: bool = True, name: str = "王小明") -> Member:
    n = next(_n)
    m = Member.objects.create(display_name=f"{name}{n}")
    if phone:
        member_set_phone(member=m, phone=f"1380000{n:04d}")
    if openid:
        key, index = identity_key("wechat_openid", f"oSimOpenid{n:08d}", SIM_WECHAT_APPID)
        identity_attach(member=m, key=key, index=index, channel="mini_program", now=T0)
    if device:
        device_register(m, registration_id=f"1a00189{n:012d}", platform="android", now=T0)
    m.refresh_from_db()
    return m


def queue(member: Member, cause: str, *, kind: str = "pickup_ready", category: str = "service",
          now: datetime = T0, data: dict[str, Any] | None = None, **kw: Any) -> list[Notification]:
    if data is None:
        data = PICKUP if kind.startswith("pickup") else COUPON
    with transaction.atomic():
        return notify(member_id=member.pk, kind=kind, cause_key=cause, title="标题 Title", body="正文 Body",
                      category=category, data=data, now=now, **kw)


def statuses(cause: str) -> dict[str, tuple[str, str]]:
    return {n.channel: (n.status, n.reason) for n in Notification.objects.filter(cause_key=cause)}
