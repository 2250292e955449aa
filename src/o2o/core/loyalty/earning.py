"""How many points an order or an action earns: :class:`EarnRule`.

Orders: ``floor(paid_fen / 100 x rate(channel) x multiplier(campaign))`` points, computed
exactly with :class:`~fractions.Fraction` and rounded down **once**, at the end (rounding
the yuan first and then multiplying would lose points on every ¥x.99 order and make a 1.5x
campaign worth less on small orders). ``paid_fen`` is the money the member actually paid for
the goods: after discounts and points deduction, without the delivery fee (the caller
decides; points bought with points would let a member earn on money they never paid).

Rates and multipliers are ``int`` or ``Fraction`` (1 point per 10 yuan is
``Fraction(1, 10)``, a 1.5x campaign ``Fraction(3, 2)``), never ``float``: a float rate
makes the points of an order depend on binary rounding.

A channel without its own rate earns ``default_rate`` (set it to 0 to exclude channels by
default). A campaign code the rule does not know raises ValueError: a campaign that silently
earns 1x is a promise broken to every member who joined it, so it must be a visible bug.

Actions (review, sign-in, ...) earn a fixed number of points, capped per local day: the
caller passes what that action already earned today (sum its lots from
``local_day_start(now)``) and :func:`earn_for_action` returns what is still allowed, 0 when
the cap is reached. Capping in points, not in times, lets a cap be a part of one action's
points (sign-in 5 points, at most 5 a day; reviews 10 points, at most 30 a day).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from math import floor
from types import MappingProxyType

__all__ = ["Action", "ActionRule", "EarnRule", "earn_for_action", "earn_for_order"]

Rate = int | Fraction


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_rate(value: object, what: str) -> None:
    if not (_is_int(value) or isinstance(value, Fraction)) or value < 0:  # type: ignore[operator]
        raise ValueError(
            f"{what} 必须是非负整数或分数(不接受浮点数) must be a non-negative int or Fraction, not float: {value!r}"
        )


class Action(StrEnum):
    REVIEW = "review"  # 评价
    SIGN_IN = "sign_in"  # 签到


@dataclass(frozen=True, slots=True)
class ActionRule:
    """``points`` per action, at most ``daily_cap`` points a local day (None: no cap)."""

    points: int
    daily_cap: int | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.points) or self.points < 0:
            raise ValueError(
                f"行为积分必须是非负整数 Action points must be a non-negative integer: {self.points!r}"
            )
        if self.daily_cap is not None and (not _is_int(self.daily_cap) or self.daily_cap < 0):
            raise ValueError(
                f"每日上限必须是非负整数 Daily cap must be a non-negative integer or None: {self.daily_cap!r}"
            )


@dataclass(frozen=True, slots=True)
class EarnRule:
    """Points per yuan per channel, campaign multipliers, and points for actions."""

    default_rate: Rate = 1
    channel_rates: Mapping[str, Rate] = field(default_factory=dict)
    campaign_multipliers: Mapping[str, Rate] = field(default_factory=dict)
    actions: Mapping[str, ActionRule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_rate(self.default_rate, "默认积分比例 default_rate")
        for channel, rate in self.channel_rates.items():
            _check_rate(rate, f"渠道 {channel!r} 积分比例 channel rate")
        for campaign, mult in self.campaign_multipliers.items():
            _check_rate(mult, f"活动 {campaign!r} 倍数 campaign multiplier")
        for action, rule in self.actions.items():
            if not isinstance(rule, ActionRule):
                raise ValueError(f"行为规则无效 Rule for action {action!r} is not an ActionRule: {rule!r}")
        for name in ("channel_rates", "campaign_multipliers", "actions"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


def earn_for_order(paid_fen: int, channel: str, campaign: str | None, rules: EarnRule) -> int:
    """Points earned by an order that paid ``paid_fen`` on ``channel`` in ``campaign`` (rounded down)."""
    if not _is_int(paid_fen) or paid_fen < 0:
        raise ValueError(f"实付金额必须是非负整数(分) paid_fen must be a non-negative integer: {paid_fen!r}")
    rate = rules.channel_rates.get(channel, rules.default_rate)
    multiplier: Rate = 1
    if campaign is not None:
        if campaign not in rules.campaign_multipliers:
            raise ValueError(f"未知的积分活动 Unknown points campaign: {campaign!r}")
        multiplier = rules.campaign_multipliers[campaign]
    return floor(Fraction(paid_fen, 100) * rate * multiplier)


def earn_for_action(action: str, earned_today: int, rules: EarnRule) -> int:
    """Points one more ``action`` earns, given the points that action already earned today."""
    if not _is_int(earned_today) or earned_today < 0:
        raise ValueError(
            f"今日已得积分必须是非负整数 earned_today must be a non-negative integer: {earned_today!r}"
        )
    rule = rules.actions.get(action)
    if rule is None:
        raise ValueError(f"该行为没有积分规则 No points rule for action: {action!r}")
    if rule.daily_cap is None:
        return rule.points
    return max(0, min(rule.points, rule.daily_cap - earned_today))
