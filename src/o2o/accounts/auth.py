"""API authentication: a bearer token (staff or member) or a staff session."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from o2o.accounts.models import ApiToken, hash_token
from o2o.accounts.permissions import actor_for_member, actor_for_user


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        row = (ApiToken.objects.select_related("user", "member")
               .filter(key_hash=hash_token(token), revoked=False).first())
        if row is None:
            return None
        if row.user is not None:
            if not row.user.is_active:
                return None
            request.actor = actor_for_user(row.user)  # type: ignore[attr-defined]
            request.user = row.user
            return row.user
        if not row.member.is_active:
            return None
        request.actor = actor_for_member(row.member)  # type: ignore[attr-defined]
        return row.member


class StaffSessionAuth(SessionAuth):
    def _get_key(self, request: HttpRequest):
        # No signed-in session: nothing to protect from CSRF, so answer 401 (sign in), not 403.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user is not None:
            request.actor = actor_for_user(user)  # type: ignore[attr-defined]
        return user


API_AUTH = [TokenAuth(), StaffSessionAuth()]
