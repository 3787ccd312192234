"""The inequalities between distinct counts (overlap.py): the relations and their true slacks, overlap
cells that no release lists, and the attacks on a group or a consortium published next to its parts
that they stop (each shown to succeed without them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hub.disclosure import GateConfig, apply_gate, combine_cells, overlap
from hub.disclosure.frames import KEY, OVERLAP_VARIABLE, PRIMARY
from hub.disclosure.overlap import OVERLAP, relations
from hub.disclosure.rules import primary_reasons
from hub.disclosure.tables import Catalogue, build_table
from hub.disclosure.world import attacker_bounds, targets
from shared.groupings import DEFAULT_GROUPINGS, Group, Grouping, Groupings

from .attacker import Attack, inequalities_of, narrowed, public, width
from .helpers import T, contributions, key, parents, schools, truth

P1, P2, P3, P4 = "11111111", "22222222", "33333333", "44444444"  # P4 is in no consortium
CONSORTIA = {P1: "alfa", P2: "alfa", P3: "beta"}
OTHERS = "andere aanbieders"


def _school(vest, clients, zorgtype=None, groups=None, consortia=None, providers=None, node="0356"):
    cells = [(node, vest, "leerlingen", "", 400), (node, vest, "clienten", "", clients)]
    for measure, values in (("clienten_zorgtype", zorgtype), ("clienten_zorgintensiteit", groups),
                            ("clienten_consortium", consortia), ("clienten_aanbieder", providers)):
        cells += [(node, vest, measure, c, n) for c, n in (values or {}).items()]
    return cells


def _combined(cells, types):
    return combine_cells(contributions(cells), schools(types))


def _slacks(table, unit: str, level: str = "vestiging") -> dict[str, int]:
    c = table.cells
    sel = (c["measure"] == OVERLAP) & (c["unit"] == unit) & (c["level"] == level)
    return dict(zip(c.loc[sel, "category"], c.loc[sel, "value"].astype(int)))


# 01AA00: 30 clients, five care types over two groups, three consortia (alfa = P1 + P2, beta = P3, and
# P4 outside the table), every relation with a known slack. 02BB00 has only P2 of alfa.
SCHOOL_A = _school("01AA00", 30,
                   zorgtype={"jeugd-ggz": 12, "daghulp": 10, "kindergeneeskunde": 4, "ambulant": 20, "wijkteam": 5},
                   groups={"specialistisch": 20, "basis": 22},
                   consortia={"alfa": 18, "beta": 15, OTHERS: 5},
                   providers={P1: 10, P2: 9, P3: 15, P4: 5})
SCHOOL_B = _school("02BB00", 20, zorgtype={"ambulant": 20}, groups={"basis": 20},
                   consortia={"alfa": 6, "beta": 14}, providers={P2: 6, P3: 14})
TYPES_AB = {"01AA00": "BO", "02BB00": "BO"}


def test_relations_are_the_documented_ones_with_their_true_slacks():
    table = build_table(_combined(SCHOOL_A + SCHOOL_B, TYPES_AB), Catalogue(consortia=CONSORTIA))
    slack = _slacks(table, "01AA00")
    expected = {
        # Z_z <= G_g(z): the group minus the care type
        "zg:jeugd-ggz": 8, "zg:daghulp": 10, "zg:kindergeneeskunde": 16, "zg:ambulant": 2, "zg:wijkteam": 17,
        "zg:persoonlijke-verzorging": 22, "zg:maatwerk": 22, "zg:onbekend": 22, "zg:verblijf": 0, "zg:crisis": 0,
        # G_g <= sum of its care types: the children counted in two of them
        "gz:specialistisch": 26 - 20, "gz:basis": 25 - 22, "gz:verblijf-crisis": 0,
        # G_g <= C and C <= sum of the groups
        "gc:specialistisch": 10, "gc:basis": 8, "gc:verblijf-crisis": 30, "cg": 42 - 30,
        # K_k <= C and C <= sum of the consortia
        "kc:alfa": 12, "kc:beta": 15, f"kc:{OTHERS}": 25, "ck": 38 - 30,
        # P_p <= K_k(p), P4 under the other providers
        f"pk:{P1}": 8, f"pk:{P2}": 9, f"pk:{P3}": 0, f"pk:{P4}": 0,
        # K_k <= sum of its members where every member has a cell; never for the open list of others
        "kp:alfa": 10 + 9 - 18, "kp:beta": 0,
        # N <= C (no new clients are given here, so N = 0); C, JB, JR <= L: they count pupils
        "nc": 30, "cl": 400 - 30, "bl": 400, "rl": 400,
    }
    assert slack == expected
    # Every line with an overlap variable holds: Σ big − Σ small − s = 0 at the true values.
    value = table.cells["value"].to_numpy(np.int64)
    residual = np.add.reduceat(table.line_coef.astype(np.int64) * value[table.line_idx], table.line_ptr[:-1])
    assert (residual == 0).all()

    # The members of a few relations, as relations() lists them (+1 big side, -1 small side).
    rel = relations(table.cells[table.cells["measure"] != OVERLAP], DEFAULT_GROUPINGS, CONSORTIA)
    at_a = rel[(rel["unit"] == "01AA00") & (rel["level"] == "vestiging")]

    def sides(label):
        r = at_a[at_a["rel"] == label]
        return ({(m, c) for m, c, s in zip(r["measure"], r["category"], r["side"]) if s < 0},
                {(m, c) for m, c, s in zip(r["measure"], r["category"], r["side"]) if s > 0})

    assert sides("gz:specialistisch") == ({("clienten_zorgintensiteit", "specialistisch")},
                                          {("clienten_zorgtype", z) for z in ("jeugd-ggz", "daghulp", "kindergeneeskunde")})
    assert sides("cg") == ({("clienten", "")}, {("clienten_zorgintensiteit", g)
                                                 for g in ("basis", "specialistisch", "verblijf-crisis")})
    assert sides("ck") == ({("clienten", "")}, {("clienten_consortium", k) for k in ("alfa", "beta", OTHERS)})
    assert sides("kp:alfa") == ({("clienten_consortium", "alfa")}, {("clienten_aanbieder", P1), ("clienten_aanbieder", P2)})
    assert sides(f"pk:{P4}") == ({("clienten_aanbieder", P4)}, {("clienten_consortium", OTHERS)})


def test_a_consortium_is_bounded_by_its_providers_only_where_every_member_has_a_cell():
    table = build_table(_combined(SCHOOL_A + SCHOOL_B, TYPES_AB), Catalogue(consortia=CONSORTIA))
    at_b = _slacks(table, "02BB00")
    # 02BB00 has P2 but no P1 cell: a reader cannot tell an absent P1 from a hidden one.
    assert "kp:alfa" not in at_b and at_b["kp:beta"] == 0 and at_b[f"pk:{P2}"] == 0
    # At the school type both members have a cell (P1 through 01AA00).
    assert _slacks(table, "BO", "schooltype")["kp:alfa"] == (10 + 15) - (18 + 6)
    # Under a hub without this consortium table every provider is among the others: no relation bounds a
    # consortium by its providers, and P1 <= others (10 > 5: counted with another table) is dropped.
    plain = _slacks(build_table(_combined(SCHOOL_A + SCHOOL_B, TYPES_AB)), "01AA00")
    assert {r: v for r, v in plain.items() if r[:3] in ("pk:", "kp:")} == {f"pk:{P4}": 0}


def test_a_relation_whose_slack_would_be_negative_is_dropped():
    # 03CC00 (SO) counts 30 in 'specialistisch' from care types that add up to 26: a node with another
    # groupings table. That relation is no fact; the others at the school still are.
    odd = _school("03CC00", 40, zorgtype={"jeugd-ggz": 12, "daghulp": 10, "kindergeneeskunde": 4, "ambulant": 20},
                  groups={"specialistisch": 30, "basis": 20})
    types = dict(TYPES_AB, **{"03CC00": "SO"})
    table = build_table(_combined(SCHOOL_A + SCHOOL_B + odd, types), Catalogue(consortia=CONSORTIA))
    at_c = _slacks(table, "03CC00")
    assert "gz:specialistisch" not in at_c and "gz:specialistisch" not in _slacks(table, "SO", "schooltype")
    assert at_c["gz:basis"] == 0 and at_c["zg:jeugd-ggz"] == 18 and at_c["gc:specialistisch"] == 10
    assert _slacks(table, "01AA00")["gz:specialistisch"] == 6
    rel = relations(table.cells[table.cells["measure"] != OVERLAP], DEFAULT_GROUPINGS, CONSORTIA)
    assert ((rel["unit"] == "03CC00") & (rel["rel"] == "gz:specialistisch")).any()  # listed, then dropped


def test_a_group_of_one_care_type_stands_in_with_that_care_types_cell():
    # A table where wijkteam is a group of its own (no cell): a child with only wijkteam care is in no
    # group cell, so C <= sum of the groups needs wijkteam's own cell to be true.
    base = DEFAULT_GROUPINGS.zorgintensiteit.groups[0]
    zi = Grouping("zorgintensiteit", (Group("wijk", "Wijkteam", ("wijkteam",)),
                                      Group("basis", base.label, tuple(m for m in base.members if m != "wijkteam")))
                  + DEFAULT_GROUPINGS.zorgintensiteit.groups[1:])
    groupings = Groupings(zi, DEFAULT_GROUPINGS.verwijzergroep, DEFAULT_GROUPINGS.leeftijdsfase)
    cells = _school("01AA00", 30, zorgtype={"wijkteam": 12, "ambulant": 20}, groups={"basis": 20})
    table = build_table(_combined(cells, {"01AA00": "BO"}), Catalogue(groupings=groupings))
    slack = _slacks(table, "01AA00")
    assert ("clienten_zorgintensiteit", "wijk") not in set(zip(table.cells["measure"], table.cells["category"]))
    assert slack["cg"] == 12 + 20 - 30 and slack["zc:wijkteam"] == 30 - 12 and "zg:wijkteam" not in slack


def test_the_attackers_inequalities_are_the_auditors_relations_on_a_fully_listed_table():
    """tests' attacker.py derives them on its own: on a release that listed every cell they agree."""
    table = build_table(_combined(SCHOOL_A + SCHOOL_B, TYPES_AB), Catalogue(consortia=CONSORTIA))
    cells = table.cells[table.cells["measure"] != OVERLAP]
    theirs = {frozenset(ineq) for ineq in inequalities_of(cells[KEY], DEFAULT_GROUPINGS, CONSORTIA)}
    rel = relations(cells, DEFAULT_GROUPINGS, CONSORTIA)
    ours = set()
    for _, r in rel.groupby(["level", "unit", "schooljaar", "rel"]):
        if (r["side"] > 0).any() and (r["side"] < 0).any():
            ours.add(frozenset((tuple(k), -int(s)) for k, s in zip(r[KEY].itertuples(index=False, name=None), r["side"])))
    assert theirs == ours and len(ours) > 50


def test_overlap_cells_are_never_listed_published_or_targets():
    combined = _combined(SCHOOL_A + SCHOOL_B, TYPES_AB)
    result = apply_gate(combined, GateConfig(), catalogue=Catalogue(consortia=CONSORTIA))
    assert result.audit["failed"] == 0
    rel = result.release
    assert not (rel["measure"] == OVERLAP).any() and not rel["category"].str.contains(":").any()
    table = build_table(combined, Catalogue(consortia=CONSORTIA))
    cells = table.cells
    is_overlap = cells["measure"].to_numpy() == OVERLAP
    assert is_overlap.sum() > 50
    reason = primary_reasons(cells, GateConfig())
    assert (reason[is_overlap] == OVERLAP_VARIABLE).all() and not (reason[~is_overlap] == OVERLAP_VARIABLE).any()
    status = np.where(reason != "", PRIMARY, "published").astype(object)
    is_target, kind, _, _ = targets(cells, status, reason, GateConfig())
    assert not is_target[is_overlap].any() and (kind[is_overlap] == 0).all()
    lo, hi = attacker_bounds(cells, status, GateConfig())
    assert (lo[is_overlap] == 0).all() and np.isinf(hi[is_overlap]).all()  # the attacker knows s >= 0, nothing more


def _without_overlap_lines(monkeypatch):
    monkeypatch.setattr(overlap, "relations", lambda cells, *a, **k: pd.DataFrame(
        columns=["level", "unit", "schooljaar", "measure", "category", "rel", "side"]))


def _status(release, unit, measure, category=""):
    r = release[(release["unit"] == unit) & (release["level"] == "vestiging") & (release["measure"] == measure)
                & (release["category"] == category)]
    return r["status"].iloc[0] if len(r) else None


# 01AA00: 'specialistisch' (30) has no child in two of its care types: jeugd-ggz 12 + daghulp 10 +
# kindergeneeskunde 8 (below the threshold). Shown as 30, 10 and 10, the first two tell that
# kindergeneeskunde >= 28 - 12 - 12 = 4.
GROUP_CASE = (
    _school("01AA00", 40, zorgtype={"jeugd-ggz": 12, "daghulp": 10, "kindergeneeskunde": 8, "ambulant": 20},
            groups={"specialistisch": 30, "basis": 20})
    + _school("02BB00", 45, zorgtype={"jeugd-ggz": 20, "daghulp": 15, "kindergeneeskunde": 3, "ambulant": 25},
              groups={"specialistisch": 30, "basis": 25})
    + _school("03CC00", 50, zorgtype={"jeugd-ggz": 22, "daghulp": 18, "kindergeneeskunde": 2, "ambulant": 30},
              groups={"specialistisch": 35, "basis": 30})
    + _school("04DD00", 60, zorgtype={"jeugd-ggz": 25, "daghulp": 20, "kindergeneeskunde": 5, "ambulant": 40},
              groups={"specialistisch": 40, "basis": 40})
)
TYPES4 = {"01AA00": "BO", "02BB00": "BO", "03CC00": "BO", "04DD00": "SO"}


def test_a_group_published_next_to_two_of_its_three_care_types_keeps_the_third_protected(monkeypatch):
    combined = _combined(GROUP_CASE, TYPES4)
    target = key("01AA00", "clienten_zorgtype", "kindergeneeskunde")
    parts = [("clienten_zorgintensiteit", "specialistisch"), ("clienten_zorgtype", "jeugd-ggz"),
             ("clienten_zorgtype", "daghulp")]

    def gate_and_attack():
        result = apply_gate(combined, GateConfig())
        assert result.audit["failed"] == 0
        rel = result.release
        assert _status(rel, "01AA00", "clienten_zorgtype", "kindergeneeskunde") == "suppressed_primary"
        attack = Attack([public(rel)], parents(TYPES4), truth=[truth(combined)])
        return rel, attack, attack.interval(target)

    rel, attack, (lo, hi) = gate_and_attack()
    # The gate hides more than the small cell: the group and both other care types are not all shown ...
    assert any(_status(rel, "01AA00", m, c) != "published" for m, c in parts)
    # ... and the small cell keeps its whole [0, T-1]; no hidden count is narrowed below T values.
    assert lo <= 1e-6 and hi >= T - 1 - 1e-6
    assert narrowed(attack) == []

    # Without the overlap lines the auditor does not see the relation: the three are published and the
    # attacker (with the documented inequalities) tells that the small cell is at least 4.
    _without_overlap_lines(monkeypatch)
    rel, attack, (lo, hi) = gate_and_attack()
    assert all(_status(rel, "01AA00", m, c) == "published" for m, c in parts)
    shown = {c: int(rel.loc[(rel["unit"] == "01AA00") & (rel["level"] == "vestiging") & (rel["measure"] == m)
                            & (rel["category"] == c), "value"].iloc[0]) for m, c in parts}
    assert shown == {"specialistisch": 30, "jeugd-ggz": 10, "daghulp": 10}
    by_hand = (shown["specialistisch"] - 2) - (shown["jeugd-ggz"] + 2) - (shown["daghulp"] + 2)  # rounding windows
    assert by_hand == 4 and abs(lo - by_hand) < 1e-6  # the LP finds what the windows alone give


# alfa = P1 + P2. 01AA00: alfa 14, all of them P1's; 02BB00: alfa 3 (below the threshold), P2's. The
# column alfa over BO makes 01AA00's alfa a partner of 02BB00's; a published P1 (14, shown 15) then
# says alfa >= 13 at 01AA00, and so alfa <= 6 at 02BB00.
CONSORTIUM_CASE = (
    _school("01AA00", 30, consortia={"alfa": 14, "beta": 20}, providers={P1: 14, P3: 20})
    + _school("02BB00", 25, consortia={"alfa": 3, "beta": 22}, providers={P2: 3, P3: 22})
    + _school("03CC00", 50, consortia={"alfa": 30, "beta": 22}, providers={P1: 20, P2: 12, P3: 22})
    + _school("04DD00", 60, consortia={"alfa": 35, "beta": 30}, providers={P1: 20, P2: 16, P3: 30})
)


def test_a_published_provider_does_not_pin_its_hidden_consortium(monkeypatch):
    combined = _combined(CONSORTIUM_CASE, TYPES4)
    catalogue = Catalogue(consortia=CONSORTIA)
    partner, small = key("01AA00", "clienten_consortium", "alfa"), key("02BB00", "clienten_consortium", "alfa")

    def gate_and_attack():
        result = apply_gate(combined, GateConfig(), catalogue=catalogue)
        assert result.audit["failed"] == 0
        rel = result.release
        assert _status(rel, "01AA00", "clienten_consortium", "alfa") != "published"
        assert _status(rel, "02BB00", "clienten_consortium", "alfa") == "suppressed_primary"
        attack = Attack([public(rel)], parents(TYPES4), truth=[truth(combined)], consortia=CONSORTIA)
        return rel, attack

    rel, attack = gate_and_attack()
    lo, hi = attack.interval(partner)
    assert width(lo, hi) >= T
    lo, hi = attack.interval(small)
    assert lo <= 1e-6 and hi >= T - 1 - 1e-6
    assert narrowed(attack) == []

    # Without the overlap lines P1 is published next to the hidden partner, which it pins to 6 values.
    _without_overlap_lines(monkeypatch)
    rel, attack = gate_and_attack()
    assert _status(rel, "01AA00", "clienten_aanbieder", P1) == "published"
    assert attack.interval(partner) == (13.0, 18.0)
    assert attack.interval(small) == (1.0, 6.0)
    assert {k for k, _, _ in narrowed(attack)} >= {partner, small}


@pytest.mark.parametrize("seed", range(6))
def test_a_reader_who_tells_partners_by_their_intervals_narrows_nothing(seed):
    """An outside attack: a hidden count whose interval leaves out 0 is no threshold cell, so it holds at
    least the threshold, which narrowed it (a partner in [4, 14] became [10, 14]) and the small cells of
    its lines. The gate grants readers that inference (world.py's ``targets``), so the attacker that
    makes it, again and again, still narrows no hidden count below the threshold's width."""
    from .helpers import distinct_region

    rng = np.random.default_rng(seed)
    cells, units = distinct_region(rng, 8, types=("BO", "VO", "SO"))
    combined = combine_cells(contributions(cells), schools(units))
    result = apply_gate(combined, GateConfig())
    assert result.audit["failed"] == 0
    attack = Attack([public(result.release)], parents(units), truth=[truth(combined)])
    assert narrowed(attack) == []
    attack.infer_classes()
    assert narrowed(attack) == []


@pytest.mark.parametrize("seed", [0, 8])
def test_a_reveal_a_later_partner_makes_stale_is_dropped(seed, monkeypatch):
    """A count revealed in one round (its interval left out 0) may reach 0 once a later round hides a
    partner of its unit; kept revealed, it made the auditor's reader stronger than any reader of the
    final publication, and its lines paid for it. The gate un-reveals the reveals of a partner's unit
    (gate.py's ``_reset_reveals``) and reveals again what still cannot reach 0: more cells published,
    and the attacker that tells partners by their intervals still narrows nothing."""
    from hub.disclosure import gate as gate_module

    from .helpers import distinct_region

    cells, units = distinct_region(np.random.default_rng(seed), 8, types=("BO", "VO", "SO"))
    combined = combine_cells(contributions(cells), schools(units))
    result = apply_gate(combined, GateConfig())
    assert result.audit["failed"] == 0 and result.audit["unrevealed"] > 0
    attack = Attack([public(result.release)], parents(units), truth=[truth(combined)])
    assert narrowed(attack) == []
    attack.infer_classes()
    assert narrowed(attack) == []
    monkeypatch.setattr(gate_module, "_reset_reveals", lambda *args: 0)  # reveals kept to the end, as before
    stale = apply_gate(combined, GateConfig())
    assert stale.audit["failed"] == 0
    assert result.audit["published"] > stale.audit["published"]


def test_a_correction_the_reset_leaves_unproven_is_gated_again_keeping_the_reveals():
    """Dropping stale reveals takes the partner search another way, which can end with no partner left
    for a cell: here a correction (one school's counts 2 higher) after a first publication. The gate then
    runs again keeping every reveal and publishes that run's release, which passes; a reader of both
    versions narrows nothing."""
    from .helpers import distinct_region

    cells, units = distinct_region(np.random.default_rng(3), 8, types=("BO", "VO", "SO"))
    first = combine_cells(contributions(cells), schools(units))
    r1 = apply_gate(first, GateConfig())
    late = [(n, v, m, c, x + 2) if v == "01AA00" and m != "leerlingen" else (n, v, m, c, x) for n, v, m, c, x in cells]
    second = combine_cells(contributions(late), schools(units))
    r2 = apply_gate(second, GateConfig(), history=[(first, r1.release)])
    assert r1.audit["failed"] == 0 and r2.audit["failed"] == 0 and r2.audit.get("reveals_kept") is True
    attack = Attack([public(r1.release), public(r2.release)], parents(units), truth=[truth(first), truth(second)])
    assert narrowed(attack) == []
    attack.infer_classes()
    assert narrowed(attack) == []


def _new_clients(vest, n, node="0356"):
    """``n`` new clients at ``vest``, all referred by the municipality at ages 6-8 (consistent rows)."""
    return [(node, vest, "nieuwe_clienten", "", n), (node, vest, "nieuwe_clienten_verwijzer", "01", n),
            (node, vest, "nieuwe_clienten_leeftijd", "6-8", n)]


# 02BB00 has 3 clients (below the threshold); the BO column makes 01AA00's clienten (14) its partner.
# All 14 of them are new, and nieuwe_clienten is a figure of its own: shown as 15 it says clienten >= 13
# at 01AA00, and with the BO total (67, shown 65) and 03CC00 (50) that leaves 02BB00 at most 6. (03CC00's
# 12 new clients, the smallest of the BO column, are the partner of 02BB00's 2.)
NEW_CLIENT_CASE = (
    _school("01AA00", 14) + _new_clients("01AA00", 14)
    + _school("02BB00", 3) + _new_clients("02BB00", 2)
    + _school("03CC00", 50) + _new_clients("03CC00", 12)
    + _school("04DD00", 60) + _new_clients("04DD00", 25)
)


def _without_cross_measure_relations(monkeypatch):
    """The auditor as it was: N ≤ C and C, JB, JR ≤ L unknown to it (the new clients and the pupils then
    audited apart from the distinct counts)."""
    real = overlap.relations

    def relations(cells, *args, **kwargs):
        out = real(cells, *args, **kwargs)
        return out[~out["rel"].isin(["nc", "cl", "bl", "rl"])]

    monkeypatch.setattr(overlap, "relations", relations)


def _gate_and_attack_clients(combined):
    """Gate the four-school cases below: 02BB00's few clients are hidden, 01AA00's are their partner;
    the release and the attacker over it."""
    result = apply_gate(combined, GateConfig())
    assert result.audit["failed"] == 0
    rel = result.release
    assert _status(rel, "01AA00", "clienten") != "published"
    assert _status(rel, "02BB00", "clienten") == "suppressed_primary"
    return rel, Attack([public(rel)], parents(TYPES4), truth=[truth(combined)])


def _assert_nothing_narrowed(attack, small):
    """The small cell keeps its whole [0, T-1], and no hidden count is narrowed, even by a reader who
    tells partners by their intervals."""
    lo, hi = attack.interval(small)
    assert lo <= 1e-6 and hi >= T - 1 - 1e-6
    assert narrowed(attack) == []
    attack.infer_classes()
    assert narrowed(attack) == []


def test_a_published_new_client_count_does_not_pin_a_hidden_clients_partner(monkeypatch):
    combined = _combined(NEW_CLIENT_CASE, TYPES4)
    partner, small = key("01AA00", "clienten"), key("02BB00", "clienten")

    rel, attack = _gate_and_attack_clients(combined)
    _assert_nothing_narrowed(attack, small)

    # Without the relation the new clients are published next to the hidden partner, which they bound
    # from below, and the small cell is left at most 6.
    _without_cross_measure_relations(monkeypatch)
    rel, attack = _gate_and_attack_clients(combined)
    assert _status(rel, "01AA00", "nieuwe_clienten") == "published"
    assert attack.interval(partner)[0] == 13.0
    assert attack.interval(small) == (0.0, 6.0)
    assert small in {k for k, _, _ in narrowed(attack)}


def test_pupils_bound_the_clients_and_the_childrens_protection_measures():
    """C ≤ L, JB ≤ L and JR ≤ L at every unit, N ≤ C, with their true slacks."""
    cells = NEW_CLIENT_CASE + [("0356", "01AA00", "jeugdbescherming", "", 2), ("0356", "01AA00", "jeugdreclassering", "", 1)]
    table = build_table(_combined(cells, TYPES4))
    slack = _slacks(table, "01AA00")
    assert {k: slack[k] for k in ("nc", "cl", "bl", "rl")} == {"nc": 0, "cl": 400 - 14, "bl": 398, "rl": 399}
    assert _slacks(table, "BO", "schooltype")["nc"] == 67 - 28
    family = table.cells.set_index(KEY)["family"]
    assert family.loc[key("01AA00", "nieuwe_clienten_verwijzer", "01")] == family.loc[key("01AA00", "clienten")] \
        == family.loc[key("01AA00", "leerlingen")]


# Without a consortium table a provider is bound by the clients alone (P ≤ C). 01AA00: 28 clients (shown
# 30), 23 of them at P1 (82 %, below the group-disclosure share; shown 25, so at least 23): clienten >= 23
# there, and with the BO total (77, shown 75) and 03CC00 (48, shown 50) 02BB00's 1 client is left at
# most 6.
PROVIDER_CASE = (
    _school("01AA00", 28, providers={P1: 23, P3: 5}) + _school("02BB00", 1, providers={P3: 1})
    + _school("03CC00", 48, providers={P1: 20, P3: 28}) + _school("04DD00", 60, providers={P1: 30, P3: 30})
)


def test_without_consortia_a_published_provider_does_not_pin_a_hidden_clients_partner(monkeypatch):
    combined = _combined(PROVIDER_CASE, TYPES4)
    partner, small = key("01AA00", "clienten"), key("02BB00", "clienten")

    rel, attack = _gate_and_attack_clients(combined)
    _assert_nothing_narrowed(attack, small)

    # The auditor as it was: no P ≤ C without consortium cells (world.py's floors left out).
    from hub.disclosure import world
    monkeypatch.setattr(world, "provider_floors", lambda cells, lo: lo)
    rel, attack = _gate_and_attack_clients(combined)
    assert _status(rel, "01AA00", "clienten_aanbieder", P1) == "published"
    assert attack.interval(partner)[0] == 23.0
    assert attack.interval(small) == (0.0, 6.0)
