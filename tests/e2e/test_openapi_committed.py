"""The committed OpenAPI document must equal the one generated from the code."""

from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_matches_generated(tmp_path):
    generated = tmp_path / "openapi.json"
    call_command("export-openapi", str(generated))
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert generated.read_text(encoding="utf-8") == committed, "docs/openapi.json is stale: run `make openapi`"


def test_every_path_is_under_api_v1():
    import json

    doc = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert doc["info"]["title"] == "o2o API"
    assert all(p.startswith("/api/v1/") for p in doc["paths"])
