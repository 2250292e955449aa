"""The one permission helper every API endpoint uses for object-level access.

``actor_of(request)`` turns the authenticated principal into a core ``Actor``;
``require(request, perm, location=...)`` raises ``Forbidden`` unless the core rule allows it.
"""

from __future__ import annotations

from django.http import HttpRequest

from o2o.common.errors import Forbidden, NotFound, Unauthorized
from o2o.core.access import Actor, ActorKind, Perm, Role, ScopeKind, Target, allows
from o2o.stores.models import Location, Region


def actor_for_user(user) -> Actor:  # noqa: ANN001 - accounts.User
    return Actor(
        kind=ActorKind.STAFF,
        id=user.pk,
        role=Role(user.role),
        scope=ScopeKind(user.scope),
        region_id=user.region_id,
        location_id=user.location_id,
    )


def actor_for_member(member) -> Actor:  # noqa: ANN001 - accounts.Member
    return Actor(kind=ActorKind.MEMBER, id=member.pk)


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "actor", None)
    if actor is None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = actor_for_user(user)
            request.actor = actor  # type: ignore[attr-defined]
    if actor is None:
        raise Unauthorized("请先登录 Sign in first")
    return actor


def _region_parents() -> dict[int, int | None]:
    """The region tree, read fresh (a few dozen rows), so a re-parented region counts at once."""
    return dict(Region.objects.values_list("pk", "parent_id"))


def _region_chain(region_id: int, parents: dict[int, int | None] | None = None) -> frozenset[int]:
    """The region and its ancestors. Stops at a cycle instead of looping (admin rejects cycles)."""
    parents = _region_parents() if parents is None else parents
    ids: list[int] = []
    current: int | None = region_id
    while current is not None and current not in ids:
        ids.append(current)
        current = parents.get(current)
    return frozenset(ids)


def location_target(location: Location | int) -> Target:
    if isinstance(location, int):
        region_id = Location.objects.filter(pk=location).values_list("region_id", flat=True).first()
        if region_id is None:
            raise NotFound("网点不存在 Unknown location", code="unknown_location", details={"location_id": location})
        return Target(location_id=location, region_ids=_region_chain(region_id))
    return Target(location_id=location.pk, region_ids=_region_chain(location.region_id))


def require(request: HttpRequest, perm: Perm, *, location: Location | int | None = None,
            owner_member_id: int | None = None) -> Actor:
    """Return the actor if it may do ``perm`` (at ``location`` / on a member's object), else raise."""
    actor = actor_of(request)
    if location is not None:
        target: Target | None = location_target(location)
    elif owner_member_id is not None:
        target = Target(owner_member_id=owner_member_id)
    else:
        target = None
    if not allows(actor, perm, target):
        details = {"permission": perm.value}
        if target is not None and target.location_id is not None:
            details["location_id"] = target.location_id
        raise Forbidden("无权访问 Not allowed here", details=details)
    return actor


def visible_location_ids(request: HttpRequest, perm: Perm) -> list[int] | None:
    """The locations an actor may see for ``perm``; ``None`` means all of them."""
    actor = actor_of(request)
    if actor.kind is ActorKind.MEMBER or actor.role is None or perm not in _perms(actor.role):
        raise Forbidden("无权访问 Not allowed here", details={"permission": perm.value})
    if actor.scope is ScopeKind.HQ:
        return None
    if actor.scope is ScopeKind.STORE:
        return [actor.location_id] if actor.location_id else []
    parents = _region_parents()
    return [pk for pk, region_id in Location.objects.values_list("pk", "region_id")
            if actor.region_id in _region_chain(region_id, parents)]


def _perms(role: Role) -> frozenset[Perm]:
    from o2o.core.access import role_perms

    return role_perms(role)
