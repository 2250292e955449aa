"""Member profile tags (用户画像): a vectorised tag engine, CLV models and segment rules.

Pure core (numpy/scipy, no Django, no I/O, no clock: ``as_of`` is passed in).

* :mod:`.history` -- the input: purchase lines (and behaviour events) of all members, as columns.
* :mod:`.behaviour` -- the optional behaviour input (sign-ins, reviews, channels, identities per member).
* :mod:`.engine` -- :func:`compute_tags`: 60+ tags per member, each with a version and an explanation.
* :mod:`.specs` -- the tag catalogue (names, labels, visibility, explanation templates).
* :mod:`.rules` -- RFM quintiles, RFM segments, lifecycle stage, thresholds (:class:`ProfileConfig`).
* :mod:`.clv` -- BG/NBD and Gamma-Gamma by maximum likelihood (scipy).
* :mod:`.segments` -- saved segment rules over tags: check and evaluate.
"""

from o2o.core.profile.behaviour import BEHAVIOUR_FIELDS, Behaviour
from o2o.core.profile.clv import CDNOW_BGNBD, CDNOW_GAMMA_GAMMA, BgNbd, GammaGamma, bgnbd_fit, gamma_gamma_fit
from o2o.core.profile.engine import compute_tags
from o2o.core.profile.history import EVENT_KINDS, MODES, Events, HistoryBuilder, Purchases
from o2o.core.profile.rules import ProfileConfig
from o2o.core.profile.segments import RuleError, evaluate, parse_rule, tags_in_rule
from o2o.core.profile.specs import SPECS, TAG_NAMES, TagSpec
from o2o.core.profile.table import Tag, TagTable

__all__ = [
    "BEHAVIOUR_FIELDS", "CDNOW_BGNBD", "CDNOW_GAMMA_GAMMA", "EVENT_KINDS", "MODES", "SPECS", "TAG_NAMES", "Behaviour", "BgNbd",
    "Events", "GammaGamma",
    "HistoryBuilder", "ProfileConfig", "Purchases", "RuleError", "Tag", "TagSpec", "TagTable", "bgnbd_fit",
    "compute_tags", "evaluate", "gamma_gamma_fit", "parse_rule", "tags_in_rule",
]
