"""Create (or reuse) a channel backend's account and issue it an API token (least privilege).

A channel backend (the mini-program's, the app's or Douyin's server) signs members in through
``POST /members/identify`` and links identities (``member.identify``); the role gives that and the
public catalog and store reads, nothing else (no orders, stock, points, coupons, personal data).

    o2o channel-backend-token mini-program-backend
    o2o channel-backend-token app-backend --label "app 2026-11"   # another token for the same account
    o2o channel-backend-token app-backend --revoke-others          # rotate: the old tokens stop working

The account has no password (it cannot sign in to the admin or the console) and HQ scope. The token is
printed once; only its SHA-256 is stored.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from o2o.accounts.models import ApiToken, User
from o2o.core.access import Role, ScopeKind


class Command(BaseCommand):
    help = "创建渠道后端账号并签发令牌 Create a channel backend account (member.identify only) and issue a token"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("username", help="e.g. mini-program-backend")
        parser.add_argument("--label", default="", help="the token's label (default: the username)")
        parser.add_argument("--revoke-others", action="store_true", help="revoke the account's earlier tokens")

    def handle(self, *args, username: str, label: str, revoke_others: bool, **opts) -> None:
        username = username.strip()
        if not username or len(username) > 150:
            raise CommandError("用户名无效 Give a username of 1-150 characters")
        with transaction.atomic():
            user = User.objects.select_for_update().filter(username=username).first()
            if user is None:
                user = User(username=username, role=Role.CHANNEL_BACKEND.value, scope=ScopeKind.HQ.value,
                            is_staff=False, is_superuser=False)
                user.set_unusable_password()
                user.save()
            elif user.role != Role.CHANNEL_BACKEND.value:
                raise CommandError(f"用户 {username} 不是渠道后端 {username!r} exists with role {user.role!r}, "
                                   f"not {Role.CHANNEL_BACKEND.value!r}")
            revoked = 0
            if revoke_others:
                revoked = ApiToken.objects.filter(user=user, revoked=False).update(revoked=True)
            _, raw = ApiToken.issue(user=user, label=(label or username)[:64])
        self.stdout.write(f"user: {user.username} (id {user.pk}, role {user.role}, scope {user.scope})")
        if revoked:
            self.stdout.write(f"revoked {revoked} earlier token(s)")
        self.stdout.write(f"token: {raw}")
