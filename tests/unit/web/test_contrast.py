"""Colour contrast of the web faces, read from the real static CSS (WCAG 2.x AA: 4.5:1 for body text).

The design tokens come from ``:root`` in ``web/o2o.css``; every rule in the four stylesheets that sets both
a text colour and a solid background is checked as a pair (buttons, badges, alerts, headers), and the text
tokens are checked against the page and card backgrounds they are written on.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[3] / "src" / "o2o" / "web" / "static" / "web"
SHEETS = ["o2o.css", "shop.css", "console.css", "hq.css"]
AA_BODY = 4.5
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\b")


def _strip_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def _declarations(body: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for decl in body.split(";"):
        if ":" in decl:
            k, v = decl.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def _rules(name: str) -> list[tuple[str, dict[str, str]]]:
    css = _strip_comments((STATIC / name).read_text())
    return [(sel.strip(), _declarations(body)) for sel, body in RULE.findall(css)]


def tokens() -> dict[str, str]:
    [root] = [d for sel, d in _rules("o2o.css") if sel == ":root"]
    return {k: v for k, v in root.items() if k.startswith("--")}


def resolve(value: str, toks: dict[str, str]) -> str | None:
    """A solid colour as #rrggbb, or None (rgba, gradients, transparent, inherit: not a checkable pair)."""
    for _ in range(5):
        m = re.fullmatch(r"var\((--[\w-]+)\)", value.strip())
        if not m:
            break
        value = toks[m.group(1)]
    value = value.strip().lower()
    if value in ("#fff", "white"):
        return "#ffffff"
    m = HEX.fullmatch(value)
    if not m:
        return None
    h = m.group(1)
    return "#" + ("".join(c * 2 for c in h) if len(h) == 3 else h)


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(fg: str, bg: str) -> float:
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def rule_pairs() -> list[tuple[str, str, str]]:
    """(where, text colour, background) of every rule that sets both, solid."""
    toks, pairs = tokens(), []
    for name in SHEETS:
        for sel, d in _rules(name):
            bg_value = d.get("background-color") or d.get("background")
            if "color" not in d or bg_value is None:
                continue
            fg, bg = resolve(d["color"], toks), resolve(bg_value, toks)
            if fg and bg:
                pairs.append((f"{name}: {sel}", fg, bg))
    return pairs


def test_the_parser_reads_the_real_tokens_and_rules():
    toks = tokens()
    assert {"--ink", "--muted", "--bg", "--card", "--brand", "--info", "--bad", "--ok"} <= toks.keys()
    where = [w for w, _, _ in rule_pairs()]
    assert len(where) >= 10, where  # buttons, badges, alerts, headers: the check must see them
    assert any(".btn-primary" in w for w in where) and any(".badge-ok" in w for w in where)
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the well-known AA grey


@pytest.mark.parametrize("text", ["--ink", "--muted", "--info", "--bad", "--ok", "--warn", "--brand", "--brand-dark"])
@pytest.mark.parametrize("background", ["--bg", "--card"])
def test_text_tokens_on_page_and_card_backgrounds(text, background):
    toks = tokens()
    fg, bg = resolve(toks[text], toks), resolve(toks[background], toks)
    assert fg and bg
    assert ratio(fg, bg) >= AA_BODY, f"{text} {fg} on {background} {bg}: {ratio(fg, bg):.2f}:1"


def test_every_rule_with_text_and_background_meets_aa():
    low = [f"{w}: {fg} on {bg} = {ratio(fg, bg):.2f}:1" for w, fg, bg in rule_pairs() if ratio(fg, bg) < AA_BODY]
    assert not low, "below WCAG AA 4.5:1:\n" + "\n".join(low)
