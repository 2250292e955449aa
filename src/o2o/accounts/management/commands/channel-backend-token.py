"""Create (or reuse) a channel backend's account, bind it to ONE channel, and issue it an API token.

A channel backend (the mini-program's, the app's, Douyin's, the H5 site's or the tills' server) signs
members in through ``POST /members/identify`` and links identities (``member.identify``), and only for
its own channel, the identity kinds that channel verifies (``accounts.identity_rules.BACKEND_KINDS``)
and, for openids, the app ids given here. The role holds nothing else (no catalog staff view, no
orders, stock, points, coupons or personal data).

    o2o channel-backend-token mini-program-backend --channel mini_program --app-id wxshop
    o2o channel-backend-token douyin-backend --channel douyin --app-id tt01 --app-id tt02
    o2o channel-backend-token app-backend --channel app --label "app 2026-11"   # another token
    o2o channel-backend-token app-backend --channel app --revoke-others          # rotate the tokens

``--channel`` is required and cannot change for an existing account (make another account);
``--app-id`` (repeatable) is required for the channels with per-app identities (mini_program, douyin)
and replaces the account's list. The account has no password (it cannot sign in to the admin or the
console) and HQ scope. The token is printed once; only its SHA-256 is stored.
"""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from o2o.accounts.identity_rules import BACKEND_CHANNELS, BACKEND_KINDS, PER_APP
from o2o.accounts.models import ApiToken, ChannelBackend, User
from o2o.core.access import Role, ScopeKind

_APP_ID = re.compile(r"[A-Za-z0-9_\-]{2,64}")


def _app_ids(channel: str, given: list[str] | None) -> list[str]:
    ids = sorted({a.strip() for a in (given or []) if a.strip()})
    bad = [a for a in ids if not _APP_ID.fullmatch(a)]
    if bad:
        raise CommandError(f"应用 ID 无效 Invalid app id(s): {bad}")
    per_app = bool(BACKEND_KINDS[channel] & PER_APP)
    if per_app and not ids:
        raise CommandError(f"渠道 {channel} 需要 --app-id Channel {channel!r} needs at least one --app-id")
    if not per_app and ids:
        raise CommandError(f"渠道 {channel} 不用应用 ID Channel {channel!r} takes no --app-id")
    return ids


class Command(BaseCommand):
    help = "创建渠道后端账号并签发令牌 Create a channel backend account (one channel, member.identify) and a token"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("username", help="e.g. mini-program-backend")
        parser.add_argument("--channel", required=True, choices=BACKEND_CHANNELS, help="the one channel it serves")
        parser.add_argument("--app-id", action="append", dest="app_ids", default=None,
                            help="a WeChat / Douyin app id it serves (repeatable; required for mini_program, douyin)")
        parser.add_argument("--label", default="", help="the token's label (default: the username)")
        parser.add_argument("--revoke-others", action="store_true", help="revoke the account's earlier tokens")

    def handle(self, *args, username: str, channel: str, app_ids: list[str] | None, label: str,
               revoke_others: bool, **opts) -> None:
        username = username.strip()
        if not username or len(username) > 150:
            raise CommandError("用户名无效 Give a username of 1-150 characters")
        ids = _app_ids(channel, app_ids)
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
            bound = ChannelBackend.objects.select_for_update().filter(user=user).first()
            if bound is not None and bound.channel != channel:
                raise CommandError(f"账号已绑定渠道 {bound.channel} {username!r} is bound to {bound.channel!r}; "
                                   f"make another account for {channel!r}")
            ChannelBackend.objects.update_or_create(user=user, defaults={"channel": channel, "app_ids": ids})
            revoked = 0
            if revoke_others:
                revoked = ApiToken.objects.filter(user=user, revoked=False).update(revoked=True)
            _, raw = ApiToken.issue(user=user, label=(label or username)[:64])
        self.stdout.write(f"user: {user.username} (id {user.pk}, role {user.role}, scope {user.scope})")
        self.stdout.write(f"channel: {channel}" + (f" (app ids: {', '.join(ids)})" if ids else ""))
        if revoked:
            self.stdout.write(f"revoked {revoked} earlier token(s)")
        self.stdout.write(f"token: {raw}")
