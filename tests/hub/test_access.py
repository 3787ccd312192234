"""Access: which consortium cells a consortium user sees by name (its own only, and only while it has members)."""

from hub.access import Access
from hub.indicators import figures as f
from hub.indicators.cells import Count
from shared.codes import GEEN_CONSORTIUM


def _dist(*names):
    rows = tuple(f.ShareRow(n, n, Count(10, "published"), 0.1) for n in names)
    return f.Distribution("clienten_consortium", Count(100, "published"), rows)


def test_a_consortium_user_sees_only_its_own_consortium():
    access = Access(1, "c@example.nl", "consortium", "1", frozenset({"11000001"}), "Lek")
    shown = access.visible_consortia(_dist("Lek", "Vaart", GEEN_CONSORTIUM))
    assert [r.category for r in shown.rows] == ["Lek"]
    assert access.may_see_coverage("10AA00", (), (), ["Lek"])
    assert not access.may_see_coverage("10AA00", (), (), ["Vaart", GEEN_CONSORTIUM])


def test_a_consortium_without_members_sees_no_consortium():
    access = Access(1, "c@example.nl", "consortium", "1", frozenset(), "Lek")
    assert access.visible_consortia(_dist("Lek")).rows == ()
    assert not access.may_see_coverage("10AA00", (), (), ["Lek"])


def test_other_roles_see_every_consortium():
    access = Access(1, "g@example.nl", "gemeente", "0356")
    dist = _dist("Lek", "Vaart", GEEN_CONSORTIUM)
    assert access.visible_consortia(dist) is dist


def test_the_cache_key_holds_every_field_an_access_decides_by_and_not_who_asks():
    """hub/cache.py shares answers between equal keys: a scope field left out would share across scopes."""
    from dataclasses import fields, replace

    base = Access(1, "c@example.nl", "consortium", "1", frozenset({"11000001"}), "Lek")
    other = {"role": "swv", "scope": "2", "consortium_agbs": frozenset({"11000002"}), "consortium_name": "Vaart"}
    for f in fields(Access):
        if f.name in ("user_id", "email"):
            assert replace(base, **{f.name: {"user_id": 2, "email": "d@example.nl"}[f.name]}).cache_key == base.cache_key
        else:
            assert f.name in other, f"Access.{f.name} is new: is it part of the scope? Then add it to cache_key"
            assert replace(base, **{f.name: other[f.name]}).cache_key != base.cache_key, f.name
