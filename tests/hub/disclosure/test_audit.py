"""The auditor's orchestration (Auditor.run): exact on a small region, and which families are trees."""

from __future__ import annotations

import numpy as np
import pytest

from hub.disclosure.audit import Auditor
from hub.disclosure.config import GateConfig
from hub.disclosure.frames import AUDIT_PARTNER, PUBLISHED, SECONDARY
from hub.disclosure.gate import _prepare_history
from hub.disclosure.tables import build_table
from hub.disclosure.world import ReleaseState, build_world, satisfied

from .attacker import interval, public
from .helpers import (
    assert_within_exact, combine_cells, contributions, distinct_region, gate, key, lp_reference, parents, region, schools,
    suppressed, truth, world_of,
)


def test_on_a_small_region_the_audit_fails_exactly_the_cells_the_full_lp_fails():
    """Trees, networks and whole-family LPs together decide each hidden cell as the full problem does."""
    rng = np.random.default_rng(53)  # a region where secondary suppression leaves a cell for the audit
    cells, units = region(rng, 5)
    _, world = world_of(cells, units)  # secondary suppression only: some cells are still unprotected
    auditor = Auditor(world)
    got_lo, got_hi = auditor.run()
    expected = np.zeros(len(world.target_var), dtype=bool)
    for fam in np.unique(world.family[world.target_var]):
        block = np.flatnonzero(world.family == fam)  # families share no line
        tpos = np.flatnonzero(world.family[world.target_var] == fam)
        ref = lp_reference(world, block, 4 * float(np.max(np.abs(world.t[block]))) + 1e6,
                           only=np.searchsorted(block, world.target_var[tpos]))
        expected[tpos] = ~satisfied(world.target_kind[tpos], world.req_lo[tpos], world.req_hi[tpos], ref[:, 0], ref[:, 1])
    assert expected.any() and not expected.all()
    assert list(auditor.stats.failed) == list(np.flatnonzero(expected))
    assert auditor.stats.network_proven > 0 and auditor.stats.closed_form > 0


def test_a_school_new_in_a_late_submission_is_not_audited_as_a_tree():
    """Old A+B+D=T and new A+B+C+D=T pin C when T is unchanged: the gate must notice, not publish."""
    from shared.codes import AGE_BANDS, VERWIJZERS

    verw, ages = list(VERWIJZERS), [a for a, _, _ in AGE_BANDS]

    def school(node, v, jb, clients, per):
        c = [(node, v, "leerlingen", "", 400), (node, v, "clienten", "", clients), (node, v, "jeugdbescherming", "", jb)]
        c += [(node, v, "nieuwe_clienten", "", per * len(verw))]
        c += [(node, v, "nieuwe_clienten_verwijzer", x, per) for x in verw]
        spread = [per * len(verw) // len(ages)] * len(ages)
        spread[0] += per * len(verw) - sum(spread)
        c += [(node, v, "nieuwe_clienten_leeftijd", x, n) for x, n in zip(ages, spread)]
        return c

    types1 = {"01AA00": "BO", "02BB00": "BO", "04DD00": "BO"}
    types2 = dict(types1, **{"03CC00": "BO"})
    cells1 = school("0356", "01AA00", 3, 20, 30) + school("0356", "02BB00", 12, 30, 30) + school("0356", "04DD00", 40, 60, 30)
    combined1, result1 = gate(cells1, types1)
    assert result1.audit["failed"] == 0
    # A late municipality: children at 01AA00 and at a new school 03CC00, no jeugdbescherming anywhere.
    cells2 = cells1 + school("0357", "01AA00", 0, 14, 14)[1:]
    cells2 += [("0357", "03CC00", "leerlingen", "", 200), ("0357", "03CC00", "clienten", "", 15)]
    cells2 = [c for c in cells2 if not (c[0] == "0357" and c[2] == "jeugdbescherming")]
    combined2, result2 = gate(cells2, types2, history=[(combined1, result1.release)])
    # The two releases together pin the new school's jeugdbescherming to exactly 0 ...
    lo, hi = interval([public(result1.release), public(result2.release)], parents(types2), key("03CC00", "jeugdbescherming"),
                      truth=[truth(combined1), truth(combined2)])
    assert (lo, hi) == (0.0, 0.0)
    # ... so the gate must report unproven cells (the hub then keeps the previous release).
    assert result2.audit["failed"] > 0


def test_what_an_earlier_round_proved_stays_proven_when_more_is_hidden():
    """A round of the gate only hides more: its world is a relaxation of the round before, so that round's
    certified intervals (``Auditor.certified``) still lie within the exact bounds, and carry over."""
    rng = np.random.default_rng(31)
    cells, units = distinct_region(rng, 8)
    table, world1 = world_of(cells, units)
    first = Auditor(world1)
    first.run()
    # Hide a few more published cells, as an audit partner would.
    config = GateConfig()
    status, reason = suppressed(table, config)
    shown = np.flatnonzero(status == PUBLISHED)
    more = rng.choice(shown, size=min(4, len(shown)), replace=False)
    status[more], reason[more] = SECONDARY, AUDIT_PARTNER
    world2, _ = build_world([ReleaseState(table, status, reason)], config)
    second = Auditor(world2, prior=first.certified)
    lo, hi = second.run()
    assert (world2.lo <= world1.lo + 1e-9).all() and (world2.hi >= world1.hi - 1e-9).all()  # only wider
    fam = world2.family[world2.target_var]
    for f in np.unique(fam):
        assert_within_exact(world2, lo, hi, np.flatnonzero(fam == f), np.flatnonzero(world2.family == f))
    carried = np.isfinite(first.certified[0][world2.target_var])
    assert carried.any()
    assert (lo[carried] <= first.certified[0][world2.target_var][carried] + 1e-9).all()


def test_after_a_late_submission_the_distinct_counts_keep_their_column_trees_and_stay_sound():
    """A late municipality changes a few distinct counts: the column trees still run, with every changed
    variable held at its truth, and every interval the audit certifies lies within the exact bounds of
    both releases together."""
    rng = np.random.default_rng(37)
    cells1, units = distinct_region(rng, 10)
    combined1, result1 = gate(cells1, units)
    assert result1.audit["failed"] == 0
    late = [("0357", "03AA00", "clienten", "", 2), ("0357", "03AA00", "clienten_zorgtype", "ambulant", 2),
            ("0357", "03AA00", "clienten_zorgintensiteit", "basis", 2)]
    combined2 = combine_cells(contributions(cells1 + late), schools(units))
    table = build_table(combined2)
    config = GateConfig()
    status, reason = suppressed(table, config)
    earlier = _prepare_history([(combined1, result1.release)], config)
    world, _ = build_world([ReleaseState(table, status, reason)] + earlier, config)
    auditor = Auditor(world)
    lo, hi = auditor.run()
    fam = world.family[world.target_var]
    distinct = world.family[np.flatnonzero(world.overlap)[0]]
    keys, counts = np.unique(world.key[world.family == distinct], return_counts=True)
    assert (counts > 1).any()  # the late municipality changed this family
    assert auditor.stats.closed_form > 0
    assert_within_exact(world, lo, hi, np.flatnonzero(fam == distinct), np.flatnonzero(world.family == distinct))


def test_a_reveal_stales_only_the_ends_whose_point_could_have_the_count_below_the_threshold():
    from types import SimpleNamespace

    from hub.disclosure.audit import Provenance

    w = SimpleNamespace(family=np.array([0, 0, 0, 0, 1]), column=np.array([0, 1, 1, 2, 0]), overlap=np.zeros(5, bool))
    prov = Provenance()
    block = prov.of_set(np.array([0, 1, 2]))
    with_loose = prov.of_set(np.array([1]), loose=np.array([3]))  # a loose variable lies outside the block
    point = (np.array([0, 1, 2]), np.array([4.0, 12.0, 0.0]))  # variable 1 at 12, variable 0 at 4
    kept = prov.certificate(block, point)
    below = prov.certificate(block, (np.array([0, 1, 2]), np.array([4.0, 9.5, 0.0])))
    truth = prov.certificate(block, ())
    no_point = prov.certificate(block)
    other = prov.certificate(prov.of_set(np.array([2, 4])))
    loose = prov.certificate(with_loose, (np.array([1, -1]), np.array([15.0, 3.0])))
    column = prov.certificate(prov.of_key(("column", 0, 1)))
    family = prov.certificate(prov.of_key(("family", 1)))
    stale = prov.stale(w, np.array([1]), 10)
    assert not stale[kept]  # variable 1 is 12 ≥ 10 at the point behind it
    assert stale[below]  # 9.5: below the threshold there, so that point is no longer feasible
    assert not stale[truth]  # the truth is always feasible
    assert stale[no_point]  # no point kept (a closed form): stale once the count could move
    assert not stale[other]  # variable 1 could not move there: it sat at its true value
    assert stale[column] and not stale[family]  # the revealed count's category; another family
    assert not stale[loose]  # 1 moved on its own, at 15
    assert prov.stale(w, np.array([3]), 10)[loose]  # 3 moved only inside a sum: no value of its own


def test_a_revealed_provider_stales_the_ends_whose_point_had_its_units_clients_below_the_new_floor():
    """Without consortium cells a revealed provider raises its unit's ``clienten`` floor (world.py's
    ``provider_floors``), a box the reveal did not name: the gate finds it by comparing the two rounds'
    worlds (``narrowed``), and a point with the clients below the new floor no longer carries its end."""
    from types import SimpleNamespace

    from hub.disclosure.audit import Provenance, narrowed
    from hub.disclosure.frames import PRIMARY

    p1, p3 = "11111111", "33333333"

    def school(vest, clients, providers):
        return ([("0356", vest, "leerlingen", "", 400), ("0356", vest, "clienten", "", clients)]
                + [("0356", vest, "clienten_aanbieder", p, n) for p, n in providers.items()])

    types = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO"}
    cells = school("01AA00", 28, {p1: 23, p3: 5}) + school("02BB00", 40, {p1: 20, p3: 20}) + school("03CC00", 60, {p1: 30, p3: 30})
    table = build_table(combine_cells(contributions(cells), schools(types)))
    c = table.cells
    status = np.full(len(c), PUBLISHED, dtype=object)
    reason = np.full(len(c), "", dtype=object)
    at_a = c["unit"].to_numpy() == "01AA00"
    provider = at_a & (c["measure"].to_numpy() == "clienten_aanbieder") & (c["category"].to_numpy() == p1)
    clients = at_a & (c["measure"].to_numpy() == "clienten")
    status[provider | clients] = SECONDARY
    status[at_a & (c["category"].to_numpy() == p3)] = PRIMARY  # 5 < threshold
    config = GateConfig()
    before, _ = build_world([ReleaseState(table, status, reason, np.zeros(len(c), dtype=bool))], config)
    after, _ = build_world([ReleaseState(table, status, reason, provider.copy())], config)
    changed, lo, hi = narrowed(before, after)
    client_var = int(np.flatnonzero((before.t == 28) & (before.level == 0) & (before.lo == 0))[0])
    provider_var = int(np.flatnonzero((before.t == 23) & (before.level == 0))[0])
    assert {client_var, provider_var} <= set(changed.tolist())  # the clients' floor rose with the provider's
    assert lo[list(changed).index(client_var)] == config.threshold

    prov = Provenance()
    problem = prov.of_set(np.array([client_var]))
    block = np.array([client_var])
    below = prov.certificate(problem, (block, np.array([4.0])))  # the clients at 4 < the provider's 10
    above = prov.certificate(problem, (block, np.array([15.0])))
    # One values array behind two problems' points with other variables (a cached block reused): checked apart.
    other_var = int(np.flatnonzero(~np.isin(np.arange(len(before.t)), changed))[0])
    shared = np.array([4.0])
    at_client = prov.certificate(problem, (block, shared))
    elsewhere = prov.certificate(prov.of_set(np.array([client_var, other_var])), (np.array([other_var]), shared))
    stale = prov.stale(after, changed, lo, hi)
    assert stale[below] and not stale[above]
    assert stale[at_client] and not stale[elsewhere]  # the other variable's box did not narrow
    # A reveal that narrowed an overlap variable (none does) would stale every end.
    w = SimpleNamespace(family=np.array([0, 0]), column=np.array([0, 1]), overlap=np.array([False, True]))
    assert prov.stale(w, np.array([1]), 0.0).all()


@pytest.mark.parametrize("seed", [0, 2, 4, 5])
def test_carrying_the_ends_a_reveal_leaves_feasible_solves_fewer_lps_and_narrows_nothing(seed):
    """The gate's rounds reveal partners as ≥ threshold; what their points still prove carries over. The
    release a reader gets is audited as before: an independent attacker narrows no hidden count."""
    from hub.disclosure import GateConfig, apply_gate, lps

    from .attacker import Attack, narrowed

    rng = np.random.default_rng(seed)
    cells, units = region(rng, 12)
    combined = combine_cells(contributions(cells), schools(units))
    solved = {}
    try:
        for flag in (False, True):
            lps.CARRY_WITNESSES = flag
            result = apply_gate(combined, GateConfig())
            assert result.audit["failed"] == 0
            solved[flag] = result.audit["lps_solved_all_rounds"]
    finally:
        lps.CARRY_WITNESSES = True
    assert solved[True] < solved[False]
    assert narrowed(Attack([public(result.release)], parents(units), truth=[truth(combined)])) == []


def test_a_var_set_answers_membership_exactly_in_either_form():
    from hub.disclosure.audit import VarSet

    rng = np.random.default_rng(3)
    for values in (np.arange(100, 200), np.array([5, 10_000_000]), rng.choice(5000, 700, replace=False),
                   np.array([], dtype=np.int64), np.array([7])):
        s = VarSet(values)
        probe = np.arange(-3, int(max(values, default=0)) + 20) if len(values) < 1000 and max(values, default=0) < 10_000 \
            else np.concatenate([values, values + 1, values - 1])
        assert np.array_equal(s.contains(probe), np.isin(probe, values))
        assert np.array_equal(s.to_array(), np.unique(values))
        assert len(s) == len(np.unique(values))
    assert VarSet(np.arange(100, 200)).bits is not None  # dense: a bitmap
    assert VarSet(np.array([5, 10_000_000])).bits is None  # sparse: the numbers
    with pytest.raises(ValueError):
        VarSet(np.array([2**31]))
