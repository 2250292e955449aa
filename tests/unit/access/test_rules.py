from o2o.core.access import Actor, ActorKind, Perm, Role, ScopeKind, Target, allows

REGION_EAST, REGION_WEST, HQ = 2, 3, 1


def staff(role: Role, scope: ScopeKind, region_id=None, location_id=None) -> Actor:
    return Actor(kind=ActorKind.STAFF, id=7, role=role, scope=scope, region_id=region_id, location_id=location_id)


def store(location_id: int, region: int) -> Target:
    return Target(location_id=location_id, region_ids=frozenset({region, HQ}))


def test_clerk_sees_only_their_store():
    clerk = staff(Role.CLERK, ScopeKind.STORE, location_id=10)
    assert allows(clerk, Perm.STOCK_VIEW, store(10, REGION_EAST))
    assert not allows(clerk, Perm.STOCK_VIEW, store(11, REGION_EAST))


def test_clerk_may_not_adjust_but_store_manager_may():
    assert not allows(staff(Role.CLERK, ScopeKind.STORE, location_id=10), Perm.STOCK_ADJUST, store(10, REGION_EAST))
    assert allows(staff(Role.STORE_MANAGER, ScopeKind.STORE, location_id=10), Perm.STOCK_ADJUST, store(10, REGION_EAST))


def test_region_manager_sees_the_region_not_others():
    rm = staff(Role.REGION_MANAGER, ScopeKind.REGION, region_id=REGION_EAST)
    assert allows(rm, Perm.STOCK_VIEW, store(10, REGION_EAST))
    assert not allows(rm, Perm.STOCK_VIEW, store(20, REGION_WEST))


def test_hq_admin_everywhere_and_chain_wide():
    admin = staff(Role.HQ_ADMIN, ScopeKind.HQ)
    assert allows(admin, Perm.STOCK_ADJUST, store(20, REGION_WEST))
    assert allows(admin, Perm.CATALOG_EDIT)


def test_store_scope_cannot_act_chain_wide_except_public_reads():
    mgr = staff(Role.STORE_MANAGER, ScopeKind.STORE, location_id=10)
    assert not allows(mgr, Perm.STOCK_VIEW)
    assert allows(mgr, Perm.CATALOG_VIEW)


def test_member_only_owns_their_objects_and_reads_public_data():
    member = Actor(kind=ActorKind.MEMBER, id=5)
    assert allows(member, Perm.CATALOG_VIEW)
    assert not allows(member, Perm.STOCK_RESERVE, store(10, REGION_EAST))
    assert allows(member, Perm.STOCK_VIEW, Target(owner_member_id=5))
    assert not allows(member, Perm.STOCK_VIEW, Target(owner_member_id=6))


def test_marketing_cannot_move_stock():
    mk = staff(Role.MARKETING, ScopeKind.HQ)
    assert allows(mk, Perm.STOCK_VIEW, store(10, REGION_EAST))
    assert not allows(mk, Perm.STOCK_RECEIVE, store(10, REGION_EAST))
