"""The 16 districts of Shanghai and their centre points (GCJ-02, as AMap's district centres).

A customer without geolocation picks one; its centre is their point. Checked for plausibility
by ``tests/e2e/web/test_shop_location.py`` (inside Shanghai; 徐汇 between 黄浦 and 闵行...).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop


@dataclass(frozen=True)
class District:
    code: str
    name: str
    lat: float
    lng: float

    @property
    def label(self) -> str:
        """The name in the current language (``name`` stays the Chinese msgid; it is what the session keeps)."""
        return gettext(self.name)


DISTRICTS: tuple[District, ...] = (
    District("huangpu", gettext_noop("黄浦区"), 31.231763, 121.484443),
    District("xuhui", gettext_noop("徐汇区"), 31.188464, 121.436128),
    District("changning", gettext_noop("长宁区"), 31.220367, 121.424026),
    District("jingan", gettext_noop("静安区"), 31.227906, 121.447348),
    District("putuo", gettext_noop("普陀区"), 31.249603, 121.395555),
    District("hongkou", gettext_noop("虹口区"), 31.264582, 121.504994),
    District("yangpu", gettext_noop("杨浦区"), 31.259588, 121.525409),
    District("minhang", gettext_noop("闵行区"), 31.112834, 121.380857),
    District("baoshan", gettext_noop("宝山区"), 31.405242, 121.489431),
    District("jiading", gettext_noop("嘉定区"), 31.375566, 121.265276),
    District("pudong", gettext_noop("浦东新区"), 31.221461, 121.544346),
    District("jinshan", gettext_noop("金山区"), 30.741798, 121.342455),
    District("songjiang", gettext_noop("松江区"), 31.032570, 121.227676),
    District("qingpu", gettext_noop("青浦区"), 31.150980, 121.124249),
    District("fengxian", gettext_noop("奉贤区"), 30.917766, 121.474055),
    District("chongming", gettext_noop("崇明区"), 31.623728, 121.397662),
)

BY_CODE = {d.code: d for d in DISTRICTS}
DEFAULT = BY_CODE["xuhui"]
