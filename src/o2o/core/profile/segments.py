"""Segments: saved rules over tags, checked once (:func:`parse_rule`) and evaluated on a member's tags.

Grammar (JSON)::

    rule := {"all": [rule, ...]} | {"any": [rule, ...]} | {"not": rule} | leaf
    leaf := {"tag": NAME, OP: OPERAND}    one operator per leaf
    OP   := eq | ne | gt | gte | lt | lte | in | contains | exists

``eq``/``ne`` take a scalar (string, number, bool); ``gt``/``gte``/``lt``/``lte`` a number or
an ISO date string (compared as text: dates only); ``in`` a non-empty list of scalars;
``contains`` a scalar looked up in a list tag (``top_categories``) or a key of a dict tag
(``department_shares``); ``exists`` true/false (the tag has a value). A tag without a value
(None) matches nothing but ``exists: false`` and ``ne``. Rules are at most 8 deep and 200 nodes.

Example: gold members who prefer pickup and have not bought in 30 days::

    {"all": [{"tag": "tier", "eq": "gold"}, {"tag": "prefers_pickup", "eq": true},
             {"tag": "days_since_last_purchase", "gte": 30}]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from o2o.core.profile.specs import SPECS, TAG_NAMES

__all__ = ["OPERATORS", "RuleError", "evaluate", "parse_rule", "tags_in_rule"]

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "exists")
MAX_DEPTH = 8
MAX_NODES = 200
_KIND = {s.name: s.kind for s in SPECS}


class RuleError(ValueError):
    """A rule that cannot be saved; ``path`` says where (e.g. ``all[2].gte``)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.message = message
        self.path = path


@dataclass(frozen=True, slots=True)
class _Node:
    test: Callable[[Mapping[str, Any]], bool]


def _scalar(v: object) -> bool:
    return isinstance(v, str | int | float | bool) and not (isinstance(v, float) and v != v)


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v


def _leaf(rule: dict, path: str) -> Callable[[Mapping[str, Any]], bool]:
    name = rule.get("tag")
    if not isinstance(name, str) or name not in TAG_NAMES:
        raise RuleError(f"未知标签 unknown tag {name!r}", f"{path}.tag")
    ops = [k for k in rule if k != "tag"]
    if len(ops) != 1 or ops[0] not in OPERATORS:
        raise RuleError(f"需要且仅需一个运算符 need exactly one operator of {list(OPERATORS)}, got {ops}", path)
    op, arg = ops[0], rule[ops[0]]
    where, kind = f"{path}.{op}", _KIND[name]
    if op in ("eq", "ne"):
        if not _scalar(arg):
            raise RuleError("需要标量 needs a string, number or boolean", where)
        if op == "eq":
            return lambda t: t.get(name) is not None and t.get(name) == arg
        return lambda t: t.get(name) != arg
    if op in ("gt", "gte", "lt", "lte"):
        if kind == "date":
            if not isinstance(arg, str):
                raise RuleError("日期标签需要 ISO 日期 a date tag needs an ISO date string", where)
        elif kind not in ("int", "float") or not _number(arg):
            raise RuleError(f"需要数值标签和数值 needs a numeric tag and a number ({name} is {kind})", where)
        cmp = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b,
               "lte": lambda a, b: a <= b}[op]
        return lambda t: t.get(name) is not None and cmp(t[name], arg)
    if op == "in":
        if not isinstance(arg, list) or not arg or not all(_scalar(v) for v in arg) or len(arg) > 100:
            raise RuleError("需要1-100个标量的列表 needs a list of 1-100 scalars", where)
        allowed = list(arg)
        return lambda t: t.get(name) is not None and t[name] in allowed
    if op == "contains":
        if kind not in ("list", "dict") or not _scalar(arg):
            raise RuleError(f"需要列表/字典标签 needs a list or dict tag and a scalar ({name} is {kind})", where)
        return lambda t: isinstance(t.get(name), list | dict) and arg in t[name]
    if not isinstance(arg, bool):
        raise RuleError("exists 需要 true/false exists needs true or false", where)
    return lambda t: (t.get(name) is not None) is arg


def parse_rule(rule: Any) -> Callable[[Mapping[str, Any]], bool]:
    """Check ``rule`` (RuleError with a path if it is bad) and return a predicate over a tag dict."""
    count = [0]

    def walk(node: Any, path: str, depth: int) -> Callable[[Mapping[str, Any]], bool]:
        count[0] += 1
        if count[0] > MAX_NODES:
            raise RuleError(f"规则过大 rule has more than {MAX_NODES} nodes", path)
        if depth > MAX_DEPTH:
            raise RuleError(f"规则嵌套过深 rule nested deeper than {MAX_DEPTH}", path)
        if not isinstance(node, dict) or not node:
            raise RuleError("规则必须是非空对象 a rule must be a non-empty object", path)
        if "tag" in node:
            return _leaf(node, path)
        if len(node) != 1:
            raise RuleError(f"组合规则只能有一个键 a combining rule has one key, got {sorted(node)}", path)
        key, arg = next(iter(node.items()))
        if key in ("all", "any"):
            if not isinstance(arg, list) or not arg:
                raise RuleError("需要非空列表 needs a non-empty list", f"{path}.{key}")
            parts = [walk(sub, f"{path}.{key}[{i}]", depth + 1) for i, sub in enumerate(arg)]
            if key == "all":
                return lambda t: all(p(t) for p in parts)
            return lambda t: any(p(t) for p in parts)
        if key == "not":
            inner = walk(arg, f"{path}.not", depth + 1)
            return lambda t: not inner(t)
        raise RuleError(f"未知组合 unknown key {key!r} (all, any, not or tag)", path)

    return walk(rule, "rule", 1)


def evaluate(rule: Any, tags: Mapping[str, Any]) -> bool:
    return parse_rule(rule)(tags)


def tags_in_rule(rule: Any) -> set[str]:
    """The tag names a (valid) rule reads: what to load from the database."""
    if isinstance(rule, dict):
        if "tag" in rule:
            return {rule["tag"]}
        return set().union(*(tags_in_rule(v) for v in rule.values())) if rule else set()
    if isinstance(rule, list):
        return set().union(*(tags_in_rule(v) for v in rule)) if rule else set()
    return set()
