"""Who am I: the signed-in principal as the API sees it."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from o2o.accounts.permissions import actor_of

router = Router(tags=["auth"])


class MeOut(Schema):
    kind: str
    id: int
    role: str | None
    scope: str | None
    region_id: int | None
    location_id: int | None


@router.get("/me", response=MeOut, summary="The signed-in staff user or member")
def me(request: HttpRequest) -> MeOut:
    a = actor_of(request)
    return MeOut(kind=a.kind.value, id=a.id, role=a.role.value if a.role else None,
                 scope=a.scope.value if a.scope else None, region_id=a.region_id, location_id=a.location_id)
