import pytest
from django.core.exceptions import ValidationError

from o2o.accounts.permissions import _region_chain
from tests.factories import region

pytestmark = pytest.mark.django_db


def test_region_cannot_become_its_own_ancestor():
    east = region("华东")
    city = region("上海", parent=east)
    east.parent = city
    with pytest.raises(ValidationError):
        east.clean()


def test_reparenting_counts_at_once_and_a_cycle_never_hangs():
    a = region("A")
    b = region("B")
    child = region("C", parent=a)
    assert a.pk in _region_chain(child.pk) and b.pk not in _region_chain(child.pk)
    child.parent = b
    child.save()
    assert b.pk in _region_chain(child.pk) and a.pk not in _region_chain(child.pk)
    type(a).objects.filter(pk=a.pk).update(parent=child)  # a cycle written around the admin's check
    type(child).objects.filter(pk=child.pk).update(parent=a)
    assert _region_chain(child.pk) == frozenset({child.pk, a.pk})
