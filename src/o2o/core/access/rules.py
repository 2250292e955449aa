"""Role and scope rules, as plain data.

A staff actor has a role (what it may do) and a scope (where): HQ (everywhere), a region
(every location whose region, or an ancestor of it, is that region) or one store. A member
may act only on objects that it owns. The Django side turns requests and rows into
``Actor`` and ``Target`` and asks :func:`allows`; nothing else decides access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    HQ_ADMIN = "hq_admin"
    REGION_MANAGER = "region_manager"
    STORE_MANAGER = "store_manager"
    CLERK = "clerk"
    CUSTOMER_SERVICE = "customer_service"
    MARKETING = "marketing"
    CHANNEL_BACKEND = "channel_backend"  # a trusted channel's server (mini-program, app, Douyin): signs members in

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.HQ_ADMIN: "总部管理员 HQ admin",
    Role.REGION_MANAGER: "区域经理 region manager",
    Role.STORE_MANAGER: "店长 store manager",
    Role.CLERK: "店员 clerk",
    Role.CUSTOMER_SERVICE: "客服 customer service",
    Role.MARKETING: "市场 marketing",
    Role.CHANNEL_BACKEND: "渠道后端 channel backend",
}


class ScopeKind(StrEnum):
    HQ = "hq"
    REGION = "region"
    STORE = "store"


class ActorKind(StrEnum):
    STAFF = "staff"
    MEMBER = "member"


class Perm(StrEnum):
    CATALOG_VIEW = "catalog.view"
    CATALOG_EDIT = "catalog.edit"
    LOCATION_VIEW = "location.view"
    LOCATION_EDIT = "location.edit"
    STOCK_VIEW = "stock.view"
    STOCK_RECEIVE = "stock.receive"
    STOCK_ADJUST = "stock.adjust"
    STOCK_RESERVE = "stock.reserve"
    STOCK_TRANSFER = "stock.transfer"
    POS_SYNC = "pos.sync"
    LEDGER_VIEW = "ledger.view"
    ORDER_VIEW = "order.view"
    ORDER_FULFIL = "order.fulfil"  # pick, pack, mark ready, hand over, verify pickup codes
    ORDER_CANCEL = "order.cancel"
    RETURN_ACCEPT = "return.accept"  # take back goods at the counter, refund a return
    PII_REVEAL = "pii.reveal"  # see a member's phone number unmasked (every reveal is logged)
    MEMBER_IDENTIFY = "member.identify"  # a trusted channel backend: sign members in / link identities
    MEMBER_MERGE_UNDO = "member.merge_undo"  # undo a merge of two members (HQ)
    SEGMENT_VIEW = "segment.view"  # list segments and their members (marketing)
    SEGMENT_EDIT = "segment.edit"  # save segment rules (marketing)
    COUPON_REDEEM = "coupon.redeem"  # 核销: use a member's coupon at the store counter
    COUPON_ISSUE = "coupon.issue"  # hand a staff-issuable coupon to a member in store
    CAMPAIGN_EDIT = "campaign.edit"  # coupon campaigns and promotions; targeted (3 km) issuing


_STORE_OPS = {
    Perm.CATALOG_VIEW, Perm.LOCATION_VIEW, Perm.STOCK_VIEW, Perm.STOCK_RECEIVE, Perm.STOCK_ADJUST,
    Perm.STOCK_RESERVE, Perm.STOCK_TRANSFER, Perm.POS_SYNC, Perm.LEDGER_VIEW,
    Perm.ORDER_VIEW, Perm.ORDER_FULFIL, Perm.RETURN_ACCEPT,
}

ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.HQ_ADMIN: frozenset(Perm),
    Role.REGION_MANAGER: frozenset(_STORE_OPS | {Perm.ORDER_CANCEL}),
    Role.STORE_MANAGER: frozenset(_STORE_OPS | {Perm.ORDER_CANCEL}),
    Role.CLERK: frozenset(_STORE_OPS - {Perm.STOCK_ADJUST}),
    Role.CUSTOMER_SERVICE: frozenset({Perm.CATALOG_VIEW, Perm.LOCATION_VIEW, Perm.STOCK_VIEW, Perm.ORDER_VIEW,
                                      Perm.ORDER_CANCEL, Perm.RETURN_ACCEPT, Perm.PII_REVEAL}),
    Role.MARKETING: frozenset({Perm.CATALOG_VIEW, Perm.LOCATION_VIEW, Perm.STOCK_VIEW}),
}
# Segments (profiles): marketing and HQ (HQ admin has every permission).
ROLE_PERMS[Role.MARKETING] = ROLE_PERMS[Role.MARKETING] | {Perm.SEGMENT_VIEW, Perm.SEGMENT_EDIT}
# Coupons: store staff redeem and hand out at their stores; marketing (and HQ) run the campaigns.
for _role in (Role.REGION_MANAGER, Role.STORE_MANAGER, Role.CLERK):
    ROLE_PERMS[_role] = ROLE_PERMS[_role] | {Perm.COUPON_REDEEM, Perm.COUPON_ISSUE}
ROLE_PERMS[Role.MARKETING] = ROLE_PERMS[Role.MARKETING] | {Perm.CAMPAIGN_EDIT}
# A channel backend (least privilege, HQ scope): signs members in and links their identities, for its one
# channel only (``accounts.ChannelBackend``); nothing else, not even the staff view of the catalog or the
# stores (inactive SKUs, warehouses, capacity): the public reads need no token.
ROLE_PERMS[Role.CHANNEL_BACKEND] = frozenset({Perm.MEMBER_IDENTIFY})

# What a signed-in member may do on public things (no location scope involved).
MEMBER_PERMS: frozenset[Perm] = frozenset({Perm.CATALOG_VIEW, Perm.LOCATION_VIEW})


def role_perms(role: Role) -> frozenset[Perm]:
    return ROLE_PERMS[role]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int
    role: Role | None = None
    scope: ScopeKind | None = None
    region_id: int | None = None
    location_id: int | None = None


@dataclass(frozen=True)
class Target:
    """What an action touches. Leave a field empty when it does not apply."""

    location_id: int | None = None
    # The location's region and all its ancestors (any order).
    region_ids: frozenset[int] = field(default_factory=frozenset)
    owner_member_id: int | None = None


def allows(actor: Actor, perm: Perm, target: Target | None = None) -> bool:
    """True when ``actor`` may do ``perm`` on ``target`` (or chain-wide when ``target`` is None)."""
    if actor.kind is ActorKind.MEMBER:
        if target is not None and target.owner_member_id is not None:
            return target.owner_member_id == actor.id
        return perm in MEMBER_PERMS
    if actor.role is None or perm not in ROLE_PERMS[actor.role]:
        return False
    if target is None or (target.location_id is None and not target.region_ids):
        # Chain-wide action: HQ scope always; narrower scopes only for read-only public data.
        return actor.scope is ScopeKind.HQ or perm in {Perm.CATALOG_VIEW, Perm.LOCATION_VIEW}
    if actor.scope is ScopeKind.HQ:
        return True
    if actor.scope is ScopeKind.REGION:
        return actor.region_id is not None and actor.region_id in target.region_ids
    return actor.location_id is not None and actor.location_id == target.location_id
