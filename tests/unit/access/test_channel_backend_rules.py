"""What a channel backend may vouch for (pure rules): its one channel, that channel's kinds, its app ids."""

from __future__ import annotations

import pytest

from o2o.accounts.identity_rules import BACKEND_KINDS, backend_refusal
from o2o.core.access import Perm, Role, role_perms


def code(**kw: object) -> str | None:
    refusal = backend_refusal(**{"app_ids": [], "app_id": "", **kw})  # type: ignore[arg-type]
    return refusal[0] if refusal else None


def test_the_role_is_identify_only():
    assert role_perms(Role.CHANNEL_BACKEND) == {Perm.MEMBER_IDENTIFY}


@pytest.mark.parametrize(("channel", "kinds"), [
    ("mini_program", {"wechat_openid", "wechat_unionid", "phone"}),
    ("douyin", {"douyin_openid", "phone"}),
    ("app", {"app_account", "phone"}),
    ("pos", {"pos_card"}),
    ("h5", {"phone"}),
])
def test_each_channel_vouches_for_its_own_kinds(channel, kinds):
    assert {k.value for k in BACKEND_KINDS[channel]} == kinds
    for kind in ("phone", "wechat_openid", "wechat_unionid", "app_account", "pos_card", "douyin_openid"):
        got = code(bound_channel=channel, channel=channel, kind=kind, app_ids=["app1"], app_id="app1")
        assert got == (None if kind in kinds else "identity_kind_not_allowed"), kind


def test_another_channel_an_unbound_backend_and_a_foreign_app_id_are_refused():
    assert code(bound_channel="app", channel="mini_program", kind="phone") == "channel_not_allowed"
    assert code(bound_channel="", channel="h5", kind="phone") == "channel_not_allowed"
    assert code(bound_channel="pc", channel="pc", kind="phone") == "channel_not_allowed"
    assert code(bound_channel="mini_program", channel="mini_program", kind="wechat_openid",
                app_ids=["wxa"], app_id="wxb") == "app_not_allowed"
    assert code(bound_channel="douyin", channel="douyin", kind="douyin_openid", app_ids=[], app_id="tt1") \
        == "app_not_allowed"
    assert code(bound_channel="mini_program", channel="mini_program", kind="nonsense") == "identity_kind_not_allowed"
