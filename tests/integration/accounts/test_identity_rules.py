"""OneID rules: kinds, normalising to one form, the blind-index input, masking (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.accounts.identity_rules import CHANNELS, IdentityKind, check_channel, mask, normalize
from o2o.catalog.models import Channel
from o2o.common.errors import InvalidInput

OPENID = "oAbCdEfGhIjKlMnOpQrStUvW"


def test_phone_spellings_are_one_identifier_with_the_member_phone_index_input():
    keys = {normalize("phone", p) for p in ("13812345678", "+86 138-1234-5678", "0086 13812345678")}
    assert len(keys) == 1
    key = keys.pop()
    assert key.value == key.index_input == "13812345678" and key.masked == "138****5678"


def test_openid_belongs_to_its_app():
    a, b = normalize("wechat_openid", OPENID, "wx1111"), normalize("wechat_openid", OPENID, "wx2222")
    assert a.value == b.value and a.index_input != b.index_input
    assert normalize("wechat_unionid", OPENID).index_input != a.index_input  # kind is part of the index
    with pytest.raises(InvalidInput) as missing:
        normalize("wechat_openid", OPENID)
    assert missing.value.code == "invalid_identity"
    with pytest.raises(InvalidInput):
        normalize("wechat_unionid", OPENID, "wx1111")  # no app for a unionid


def test_app_accounts_ignore_case_and_cards_spaces():
    assert normalize("app_account", " Li.Lei@Example.com ").value == "li.lei@example.com"
    assert normalize("pos_card", "ab12 3456-7890").value == "AB1234567890"


@pytest.mark.parametrize(("kind", "value", "app_id"), [
    ("email", "x@y.z", ""), ("phone", "12345", ""), ("pos_card", "12", ""), ("wechat_unionid", "a b c d e f", ""),
    ("douyin_openid", OPENID, "bad app id!"), ("app_account", "x", ""),
])
def test_bad_input_is_422_and_never_echoed_in_clear(kind, value, app_id):
    with pytest.raises(InvalidInput) as err:
        normalize(kind, value, app_id)
    assert err.value.status == 422 and err.value.code == "invalid_identity"
    assert value not in str(err.value.details) or len(value) < 4


def test_unknown_kind_lists_the_allowed_ones():
    with pytest.raises(InvalidInput) as err:
        normalize("qq", "12345678")
    assert err.value.details["allowed"] == [k.value for k in IdentityKind]


def test_channels_are_the_catalog_channels():
    assert set(CHANNELS) == {c.value for c in Channel}
    assert check_channel("pos") == "pos"
    with pytest.raises(InvalidInput) as err:
        check_channel("fax")
    assert err.value.code == "invalid_channel"


def test_masks():
    assert mask(IdentityKind.POS_CARD, "AB1234567890") == "****7890"
    assert mask(IdentityKind.WECHAT_OPENID, OPENID) == "oAbC****StUvW"[:4] + "****" + OPENID[-4:]
    assert mask(IdentityKind.APP_ACCOUNT, "lilei2024") == "li****24"
    assert mask(IdentityKind.WECHAT_UNIONID, "short1") == "******"


_VALID = {
    IdentityKind.PHONE: r"1[3-9][0-9]{9}",
    IdentityKind.WECHAT_OPENID: r"[A-Za-z0-9_\-]{6,64}",
    IdentityKind.WECHAT_UNIONID: r"[A-Za-z0-9_\-]{6,64}",
    IdentityKind.DOUYIN_OPENID: r"[A-Za-z0-9_\-]{6,64}",
    IdentityKind.APP_ACCOUNT: r"[a-z0-9_.@\-]{3,64}",
    IdentityKind.POS_CARD: r"[A-Z0-9]{4,32}",
}


@st.composite
def identifiers(draw):  # noqa: ANN001, ANN201
    kind = draw(st.sampled_from(list(IdentityKind)))
    return kind, draw(st.from_regex(_VALID[kind], fullmatch=True))


@given(identifiers())
def test_a_mask_never_shows_a_whole_identifier_nor_more_than_eight_characters(kv):
    kind, value = kv
    app = "wxapp01" if kind in (IdentityKind.WECHAT_OPENID, IdentityKind.DOUYIN_OPENID) else ""
    key = normalize(kind.value, value, app)
    visible = len(key.masked.replace("*", ""))
    assert visible <= 8 and visible < len(key.value)
    assert key.value not in key.masked
