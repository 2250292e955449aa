"""PostgreSQL: linking an identity racing the erasure of its owner never deadlocks (both lock the members, in id
order, before the identity rows), and an erasure racing a merge into the erased member locks the whole chain
at once (never a second, out-of-order round)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from o2o.accounts.identities import identity_key, identity_owned, member_identify
from o2o.accounts.models import Member
from o2o.members import merge as merge_mod
from o2o.members import privacy
from o2o.members.merge import Linked, member_link, member_merge
from tests.concurrency import hold_first, race
from tests.factories import member, staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 12  # per way of forcing the order, plus as many free races
HOW = ["erase_holds", "link_holds", "free"]


def _signed_in(value: str) -> Member:
    return member_identify(kind="app_account", value=value, channel="app", now=timezone.now()).member


@pytest.mark.parametrize("how", HOW)
def test_link_racing_the_erasure_of_the_owner_never_deadlocks(monkeypatch, how):
    assert connection.vendor == "postgresql"
    hq = staff("hq_admin")[0]
    lock_with_merged, lock_members = privacy._lock_with_merged, merge_mod._lock_members
    for n in range(ROUNDS):
        first, second = _signed_in(f"race-a-{how}-{n}"), _signed_in(f"race-b-{how}-{n}")
        # alternate which of the two has the lower id
        target, owner = (first, second) if n % 2 else (second, first)
        value = f"race-b-{how}-{n}" if owner is second else f"race-a-{how}-{n}"
        if how == "erase_holds":  # the erasure holds the owner's row until the link waits on it
            monkeypatch.setattr(privacy, "_lock_with_merged", hold_first(lock_with_merged))
        elif how == "link_holds":  # the link holds both members' rows until the erasure waits on them
            monkeypatch.setattr(merge_mod, "_lock_members", hold_first(lock_members))

        def link(target_id: int = target.pk, value: str = value) -> Linked:
            return member_link(member_id=target_id, kind="app_account", value=value, channel="app",
                               now=timezone.now(), by_user=hq)

        def erase(owner_id: int = owner.pk) -> object:
            return privacy.member_erase(member_id=owner_id, reason="本人申请注销 own request", user=hq)

        results = race(link, erase)  # a deadlock ("deadlock detected") is an error and fails the test
        [linked] = [r for r in results if isinstance(r, Linked)]
        [erased] = [r for r in results if not isinstance(r, Linked)]
        key, index = identity_key("app_account", value)
        assert identity_owned(key, index).member_id == target.pk  # in either order the identifier is the target's
        gone = Member.objects.get(pk=owner.pk)
        if linked.merge is not None:  # the link first: the owner merged, the erasure refused
            assert erased == "member_merged" and gone.merged_into_id == target.pk and gone.deleted_at is None
        else:  # the erasure first: its identity went with it, the link attached a new one
            assert isinstance(erased, dict) and gone.deleted_at is not None and gone.merged_into_id is None
        monkeypatch.setattr(privacy, "_lock_with_merged", lock_with_merged)
        monkeypatch.setattr(merge_mod, "_lock_members", lock_members)


def test_erasure_racing_a_merge_of_a_lower_id_member_into_it_stays_consistent():
    assert connection.vendor == "postgresql"
    hq = staff("hq_admin")[0]
    for n in range(ROUNDS):
        lower, _ = member(f"甲{n}")
        erased, _ = member(f"乙{n}")
        assert lower.pk < erased.pk

        def merge(s: int = erased.pk, m: int = lower.pk) -> object:
            return member_merge(survivor_id=s, merged_id=m, now=timezone.now())

        def erase(e: int = erased.pk) -> object:
            return privacy.member_erase(member_id=e, reason="本人申请注销 own request", user=hq)

        results = race(merge, erase)
        low = Member.objects.get(pk=lower.pk)
        if "member_inactive" in results:  # the erasure first: nothing merged into an erased member
            assert low.merged_into_id is None and low.display_name == f"甲{n}"
        else:  # the merge first: the erasure found the merged member and anonymised it too
            assert low.merged_into_id == erased.pk and low.display_name == privacy.ANONYMISED


def test_a_sign_in_on_a_new_channel_racing_a_link_of_its_phone_never_deadlocks():
    """The sign-in holds the phone identity's row and then inserts the owner's first row for a new channel (its
    foreign-key check takes KEY SHARE on the member); the link locks both members first. With FOR UPDATE on
    the members the two deadlocked; FOR NO KEY UPDATE does not block the key-share lock."""
    import threading
    import time

    from django.db import transaction

    from o2o.accounts.identities import identity_touch
    from tests.concurrency import someone_waits_on_a_lock

    hq = staff("hq_admin")[0]
    now = timezone.now()
    member_identify(kind="phone", value="13800138000", channel="h5", now=now)
    target = _signed_in("race-target")
    errors: dict[str, BaseException] = {}
    holding = threading.Event()

    def sign_in() -> None:
        try:
            with transaction.atomic():
                key, index = identity_key("phone", "13800138000")
                found = identity_owned(key, index, lock=True)
                holding.set()
                until = time.monotonic() + 5
                while not someone_waits_on_a_lock() and time.monotonic() < until:
                    time.sleep(0.01)
                identity_touch(found, channel="mini_program", now=timezone.now())  # a new MemberChannel row
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors["sign_in"] = exc
        finally:
            connection.close()

    def link() -> None:
        holding.wait(5)
        try:
            member_link(member_id=target.pk, kind="phone", value="13800138000", channel="app", now=timezone.now(),
                        by_user=hq)
        except BaseException as exc:  # noqa: BLE001
            errors["link"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in), threading.Thread(target=link)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, {k: repr(v)[:200] for k, v in errors.items()}
    key, index = identity_key("phone", "13800138000")
    assert identity_owned(key, index).member_id == target.pk  # the link merged the owner into the target
