"""Who may do what, where: roles, scopes and the pure rule behind every object-level check."""

from o2o.core.access.rules import (
    Actor,
    ActorKind,
    Perm,
    Role,
    ScopeKind,
    Target,
    allows,
    role_perms,
)

__all__ = ["Actor", "ActorKind", "Perm", "Role", "ScopeKind", "Target", "allows", "role_perms"]
