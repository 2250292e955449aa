"""Helpers of the storefront page tests (no tests here): a customer at P of the fulfilment test world."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from o2o.accounts.models import Member
from o2o.web.auth import SESSION_MEMBER
from o2o.web.shop.state import SESSION_POINT, SESSION_STORE
from tests.integration.fulfilment.world import P


@pytest.fixture(autouse=True)
def fresh_cache():
    """The storefront keeps the category tree and the default store a minute in the cache: not across tests."""
    cache.clear()
    yield
    cache.clear()


def at_point(client, store=None) -> None:  # noqa: ANN001
    """The customer stands at P; ``store`` (a Location) is their current store."""
    session = client.session
    session[SESSION_POINT] = {"lat": P.lat, "lng": P.lng, "label": "P", "source": "manual"}
    if store is not None:
        session[SESSION_STORE] = {"id": store.pk, "name": store.name}
    session.save()


def sign_in(client, member: Member) -> None:  # noqa: ANN001
    session = client.session
    session[SESSION_MEMBER] = member.pk
    session.save()


def by_testid(html: str, name: str) -> str:
    """The text inside the first element with ``data-testid=name`` (tags stripped)."""
    m = re.search(rf'data-testid="{re.escape(name)}"[^>]*>(.*?)</', html, re.S)
    assert m, f"no data-testid={name}"
    return re.sub(r"<[^>]+>", "", m.group(1)).strip()


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)" name="{re.escape(name)}"', html)
    assert m, f"no field {name}"
    return m.group(1)
