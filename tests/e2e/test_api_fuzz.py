"""Every endpoint of the OpenAPI document, sent garbage by every kind of caller: never a 5xx.

For each operation (from the committed-and-checked OpenAPI document) and each caller
(anonymous, member, clerk, HQ admin), path ids are replaced by 0, 1, a huge number and a
missing one, and the body by malformed JSON, wrong shapes and, for each documented field,
wrong-typed or out-of-range values. Every answer must be below 500; the JSON API answers
4xx with the error shape ``{code, message, details}`` (provider callbacks answer the
provider's own acknowledgement instead).
"""

from __future__ import annotations

import json
import re

import pytest

from o2o.config.api import api
from tests.factories import auth, location, member, sku, staff, stock_in

pytestmark = pytest.mark.django_db

HUGE = 2**63
CALLBACKS = ("/notify/", "/callbacks/")
BAD_VALUES = [None, -1, 0, HUGE, "x", "", [], {}, 1.5, "NaN", "\u0000", "9" * 400, True]


def _operations() -> list[tuple[str, str, dict]]:
    schema = api.get_openapi_schema()
    ops = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                ops.append((path, method, op))
    return ops


def _body_fields(op: dict, schema: dict) -> list[str]:
    ref = (op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}) or {})
    if "$ref" in ref:
        ref = schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    return list(ref.get("properties", {}))


def _paths(path: str) -> list[str]:
    if "{" not in path:
        return [path]
    return [re.sub(r"\{[^}]+\}", value, path) for value in ("0", "1", str(HUGE), "987654")]


def _bodies(fields: list[str]) -> list[str]:
    out = ["", "null", "[]", "{}", "{not json", json.dumps({"unexpected": 1}), json.dumps([{"a": 1}])]
    for f in fields:
        for v in BAD_VALUES:
            out.append(json.dumps({f: v}))
    return out


def test_no_endpoint_answers_5xx_to_garbage(client):
    loc = location()
    item = sku()
    stock_in(loc, item, 5)
    _, member_token = member()
    _, clerk = staff("clerk", loc=loc)
    _, admin = staff("hq_admin")
    schema = api.get_openapi_schema()
    callers = {"anonymous": {}, "member": auth(member_token), "clerk": auth(clerk), "admin": auth(admin)}
    failures = []
    checked = 0
    for path, method, op in _operations():
        url_paths = _paths("/api/v1" + path if not path.startswith("/api/v1") else path)
        fields = _body_fields(op, schema)
        bodies = _bodies(fields) if method in ("post", "put", "patch") else [None]
        for name, headers in callers.items():
            for url in url_paths:
                for body in bodies:
                    call = getattr(client, method)
                    if body is None:
                        r = call(url + ("?order_id=" + str(HUGE) if method == "get" else ""), **headers)
                    else:
                        r = call(url, data=body, content_type="application/json",
                                 HTTP_IDEMPOTENCY_KEY=f"fuzz-{checked}", **headers)
                    checked += 1
                    if r.status_code >= 500:
                        failures.append((method.upper(), url, name, body, r.status_code, r.content[:200]))
                    elif r.status_code >= 400 and not any(c in url for c in CALLBACKS):
                        payload = r.json()
                        if set(payload) != {"code", "message", "details"}:
                            failures.append((method.upper(), url, name, body, r.status_code, "shape", payload))
    print(f"{checked} requests")
    assert checked > 1000
    assert failures == [], failures[:10]
