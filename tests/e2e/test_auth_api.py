import json

import pytest

from tests.factories import auth, location, member, staff

pytestmark = pytest.mark.django_db


def test_me_for_staff_token(client):
    loc = location()
    user, token = staff("clerk", loc=loc)
    r = client.get("/api/v1/auth/me", **auth(token))
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "staff" and body["id"] == user.pk and body["location_id"] == loc.pk


def test_me_for_member_token(client):
    m, token = member()
    r = client.get("/api/v1/auth/me", **auth(token))
    assert r.status_code == 200 and r.json()["kind"] == "member" and r.json()["id"] == m.pk


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"])
def test_unauthenticated_gets_error_shape(client, header):
    kwargs = {"HTTP_AUTHORIZATION": header} if header else {}
    r = client.get("/api/v1/auth/me", **kwargs)
    assert r.status_code == 401
    assert set(r.json()) == {"code", "message", "details"} and r.json()["code"] == "unauthorized"


def test_unknown_api_path_is_json_404(client):
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404


def test_docs_page_served(client):
    r = client.get("/api/docs", follow=True)
    assert r.status_code == 200 and b"swagger" in r.content.lower()
    # Nothing from a CDN: the Swagger UI comes from the app's own static files.
    assert b"cdn." not in r.content and b"/static/ninja/" in r.content


def test_openapi_json_is_valid(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and json.loads(r.content)["info"]["title"] == "o2o API"
