"""Reading tags and segment membership.

Segment membership is evaluated in Python by the core's rule evaluator over the stored tags
the rule reads (one query per tag name set, all members at once): the same evaluator as the
one that checked the rule, on SQLite and PostgreSQL alike. 25,000 members x a few tags is a
few hundred thousand small rows; a rule over tags never computed matches members as if those
tags were empty (only ``exists: false`` / ``ne``).
"""

from __future__ import annotations

from collections import defaultdict

from o2o.accounts.models import Member
from o2o.common.errors import NotFound
from o2o.core.profile import SPECS, parse_rule, tags_in_rule
from o2o.profiles.models import MemberTag, Segment

__all__ = ["member_tags", "segment_get", "segment_members", "segments_list"]

_ORDER = {s.name: i for i, s in enumerate(SPECS)}


def member_tags(member_id: int, *, visible_only: bool) -> dict:
    rows = MemberTag.objects.filter(member_id=member_id)
    if visible_only:
        rows = rows.filter(visible=True)
    tags = sorted(rows, key=lambda t: _ORDER.get(t.name, len(_ORDER)))
    as_of = max((t.as_of for t in tags), default=None)
    computed = max((t.computed_at for t in tags), default=None)
    return {"member_id": member_id, "as_of": as_of, "computed_at": computed,
            "tags": [{"name": t.name, "value": t.value, "version": t.version, "explanation": t.explanation,
                      "visible": t.visible} for t in tags]}


def segment_get(segment_id: int) -> Segment:
    seg = Segment.objects.filter(pk=segment_id).first()
    if seg is None:
        raise NotFound("人群不存在 Unknown segment", code="unknown_segment", details={"segment_id": segment_id})
    return seg


def segments_list() -> list[Segment]:
    return list(Segment.objects.order_by("pk"))


def segment_member_ids(segment: Segment) -> list[int]:
    """Ids of the (unmerged) members whose stored tags satisfy the segment's rule, ascending."""
    test = parse_rule(segment.rule)
    names = tags_in_rule(segment.rule)
    tags: dict[int, dict] = defaultdict(dict)
    for member_id, name, value in MemberTag.objects.filter(name__in=names).values_list("member_id", "name", "value"):
        tags[member_id][name] = value
    ids = Member.objects.filter(merged_into__isnull=True, deleted_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    return [pk for pk in ids if test(tags.get(pk, {}))]


def segment_members(segment: Segment, *, limit: int = 100, offset: int = 0) -> dict:
    ids = segment_member_ids(segment)
    page = ids[offset:offset + limit]
    names = dict(Member.objects.filter(pk__in=page).values_list("pk", "display_name"))
    return {"segment_id": segment.pk, "count": len(ids), "limit": limit, "offset": offset,
            "members": [{"member_id": pk, "display_name": names.get(pk, "")} for pk in page]}
