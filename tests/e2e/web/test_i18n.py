"""Chinese first, English second: the pages speak the visitor's language, and the catalogues stay complete.

* With the language cookie (what the 中文/English button sets) the storefront, the console sign-in, the HQ
  dashboard and the admin render English; by default they render Chinese, whatever the browser's
  Accept-Language says (Chinese first: only the button switches).
* ``locale/en/LC_MESSAGES/django.po`` has an English msgstr for every msgid, no fuzzy entry, and the
  committed ``django.mo`` matches it; every literal ``{% translate %}`` / ``_("...")`` string of the web
  pages is in it (a new string forgotten by ``makemessages`` would silently stay Chinese in English).
* ``locale/zh_Hans`` translates django-unfold's own strings (unfold ships no Chinese), so the admin is Chinese.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

from o2o.accounts.models import User
from tests.factories import staff

pytestmark = pytest.mark.django_db

WEB = Path(__file__).resolve().parents[3] / "src" / "o2o" / "web"
EN_PO = WEB / "locale" / "en" / "LC_MESSAGES" / "django.po"
ZH_PO = WEB / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# (page, what an English reader sees, the Chinese for the same words)
PAGES = [
    ("/shop/", "Order online from stores near you", "附近门店，线上下单"),
    ("/shop/", "Categories", "商品分类"),
    ("/shop/", "(Xuhui)", "（徐汇区）"),  # the default point: a district name kept as its msgid in the session
    ("/console/login", "Sign in", "员工登录"),
    ("/console/login", "Store console", "门店工作台"),
    ("/hq/", "HQ dashboard", "总部看板"),
    ("/hq/", "On-time rate", "准时率"),
]
UNFOLD_ZH = {  # unfold msgid -> what a zh-hans admin user reads
    "Search apps and models...": "搜索应用和模型…",
    "All applications": "全部应用",
    "No results found": "没有找到结果",
    "Filters": "筛选",
    "Type to search": "输入以搜索",
    "Choose file to upload": "选择要上传的文件",
    "Select format": "选择格式",
    "Reset filters": "重置筛选",
}


@pytest.fixture
def hq_client(client):
    user = User.objects.create(username="hq-i18n", is_staff=True, is_superuser=True, role="hq_admin", scope="hq")
    client.force_login(user)
    return client


def _get(client, url: str, **headers) -> str:  # noqa: ANN001, ANN003
    r = client.get(url, **headers)
    assert r.status_code == 200, (url, r.status_code)
    return r.content.decode()


@pytest.mark.parametrize(("url", "english", "chinese"), PAGES)
def test_pages_are_chinese_by_default_and_english_with_the_cookie(client, url, english, chinese):
    if url.startswith("/hq/"):
        client.force_login(User.objects.create(username="hq-i18n", role="hq_admin", scope="hq"))
    zh = _get(client, url)
    assert chinese in zh and english not in zh and '<html lang="zh-hans">' in zh
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = _get(client, url)
    assert english in en and chinese not in en and '<html lang="en">' in en


def test_chinese_first_then_the_language_button(client):
    english_browser = _get(client, "/console/login", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "员工登录" in english_browser and '<html lang="zh-hans">' in english_browser
    assert "员工登录" in _get(client, "/console/login", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    # The 中文/English button posts to set_language, which remembers the choice in the cookie.
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/shop/"})
    assert r.status_code == 302 and r["Location"] == "/shop/"
    page = _get(client, "/shop/", HTTP_ACCEPT_LANGUAGE="zh-CN")  # the cookie wins over the browser
    assert "Order online from stores near you" in page and 'value="zh-hans"' in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/shop/"})
    assert "附近门店，线上下单" in _get(client, "/shop/")


def test_console_pages_in_english_for_a_clerk(client, monkeypatch):
    from tests.integration.fulfilment.world import build

    w = build(monkeypatch)
    client.force_login(staff("clerk", loc=w.a)[0])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    queue = _get(client, f"/console/s/{w.a.pk}/queue")
    assert "Today's work" in queue and "To pick" in queue and "今日工作" not in queue and "待拣货" not in queue
    counter = _get(client, f"/console/s/{w.a.pk}/counter")
    assert "Redeem" in counter and "Pickup code" in counter and "核销" not in counter


def test_admin_speaks_chinese_with_unfold_strings_translated(hq_client):
    index = _get(hq_client, "/admin/")
    assert "搜索应用和模型" in index and "全部应用" in index
    assert "Search apps and models" not in index and "All applications" not in index
    empty = _get(hq_client, "/admin/catalog/sku/?q=nothing-matches-this")
    assert "没有找到结果" in empty and "筛选" in empty and "No results found" not in empty
    hq_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Search apps and models" in _get(hq_client, "/admin/")


# --- the catalogues -----------------------------------------------------------------------------------


def _unquote(s: str) -> str:
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


def parse_po(path: Path) -> list[dict]:
    """Entries of a PO file (a small parser: polib is not a dependency): flags, msgctxt, msgid, msgstr(s).
    Obsolete (#~) entries are skipped."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        entry: dict = {"flags": set(), "msgstr": {}}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif m := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) "(.*)"$', line):
                key = m.group(1) if not m.group(1).startswith("msgstr") else ("msgstr", m.group(2) or "0")
                value = _unquote(m.group(3))
                if isinstance(key, tuple):
                    entry["msgstr"][key[1]] = value
                else:
                    entry[key] = value
            elif line.startswith('"') and key is not None:
                value = _unquote(line[1:-1])
                if isinstance(key, tuple):
                    entry["msgstr"][key[1]] += value
                else:
                    entry[key] += value
        if "msgid" in entry:
            entries.append(entry)
    return entries


def _catalogue(po: Path) -> dict:
    with po.with_suffix(".mo").open("rb") as f:
        return gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]


def _key(e: dict) -> str:
    return f'{e["msgctxt"]}\x04{e["msgid"]}' if "msgctxt" in e else e["msgid"]


def test_english_catalogue_is_complete_and_compiled():
    entries = [e for e in parse_po(EN_PO) if e["msgid"]]
    assert len(entries) > 600
    untranslated = [e["msgid"] for e in entries if not all(s.strip() for s in e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not untranslated, f"English missing for: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy entries: {fuzzy[:10]}"
    header = parse_po(EN_PO)[0]
    assert "fuzzy" not in header["flags"]
    compiled = _catalogue(EN_PO)  # django.mo is committed: it must say what django.po says
    for e in entries:
        got = compiled.get((_key(e), 0)) if "msgid_plural" in e else compiled.get(_key(e))
        assert got == e["msgstr"]["0"], f"django.mo is stale for {e['msgid']!r}: run compilemessages"


_TEMPLATE_TAG = re.compile(r"""\{%\s*(?:translate|trans)\s+(["'])(.+?)\1(?:\s+context\s+(["'])(.+?)\3)?\s*(?:as\s+\w+\s*)?%\}""")
_PY_CALL = re.compile(r"""\b(?:_|gettext|gettext_lazy|gettext_noop)\(\s*"((?:[^"\\\n])+)"\s*\)""")


def test_every_literal_page_string_is_in_the_english_catalogue():
    """A string added to a page but not to the catalogue would stay Chinese in English: run makemessages."""
    known = {_key(e) for e in parse_po(EN_PO) if e["msgid"]}
    missing = []
    for path in sorted((WEB / "templates").rglob("*.html")):
        for m in _TEMPLATE_TAG.finditer(path.read_text(encoding="utf-8")):
            key = f"{m.group(4)}\x04{m.group(2)}" if m.group(4) else m.group(2)
            if re.search(r"[\u4e00-\u9fff]", key) and key not in known:
                missing.append(f"{path.relative_to(WEB)}: {m.group(2)}")
    for path in sorted(WEB.rglob("*.py")):
        for m in _PY_CALL.finditer(path.read_text(encoding="utf-8")):
            if re.search(r"[\u4e00-\u9fff]", m.group(1)) and m.group(1) not in known:
                missing.append(f"{path.relative_to(WEB)}: {m.group(1)}")
    assert not missing, "not in locale/en (run `cd src/o2o/web && o2o makemessages -l en`, translate, " \
                        f"compilemessages): {missing[:15]}"


def test_chinese_catalogue_translates_unfold():
    entries = {e["msgid"]: e for e in parse_po(ZH_PO) if e["msgid"]}
    assert len(entries) > 100
    for msgid, chinese in UNFOLD_ZH.items():
        assert entries[msgid]["msgstr"]["0"] == chinese, msgid
    assert not [m for m, e in entries.items() if not all(s.strip() for s in e["msgstr"].values())]
    assert not [m for m, e in entries.items() if "fuzzy" in e["flags"]]
    compiled = _catalogue(ZH_PO)
    assert all(compiled.get(m) == c for m, c in UNFOLD_ZH.items())
