"""The auditor's LPs (lps.py): the warm-started single-target LP, blocks, and what a block proves."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from hub.disclosure import lps
from hub.disclosure.audit import AuditStats
from hub.disclosure.world import satisfied

from .helpers import distinct_region, lp_reference, region, world_of


def test_one_warm_model_gives_every_cold_optimum():
    rng = np.random.default_rng(2)
    n, m = 9, 4
    A = rng.integers(-1, 2, size=(m, n)).astype(float)
    t = rng.integers(0, 20, n).astype(float)
    b = A @ t  # the truth is feasible
    lo, hi = t - rng.integers(0, 6, n), t + rng.integers(0, 6, n)
    model = lps.SingleTargetLP(csr_matrix(A), b, lo, hi)
    for j in rng.permutation(n):
        for sign in (-1.0, 1.0):
            c = np.zeros(n)
            c[j] = sign
            cold = linprog(c, A_eq=A, b_eq=b, bounds=list(zip(lo, hi)), method="highs")
            warm = model.optimum(int(j), sign)
            assert abs(warm[j] - cold.x[j]) < 1e-6, (j, sign)
            assert np.allclose(A @ warm, b) and (warm >= lo - 1e-9).all() and (warm <= hi + 1e-9).all()


def test_a_whole_family_block_proves_exactly_what_the_full_lp_proves():
    rng = np.random.default_rng(6)
    cells, units = region(rng, 5)
    _, world = world_of(cells, units)
    stats = AuditStats()
    for fam in np.unique(world.family[world.two_dim]):
        block = np.flatnonzero(world.family == fam)
        free = np.zeros(len(world.t), dtype=bool)
        free[block] = True
        tpos = np.flatnonzero(free[world.target_var])
        assert len(tpos)
        lo, hi = lps.BlockLPs(world, None, stats).solve(block, free, tpos)
        cap = 4 * float(np.max(np.abs(world.t[block]))) + 1e6
        ref = lp_reference(world, block, cap, only=np.searchsorted(block, world.target_var[tpos]))
        # Every certified interval is reached by feasible points (sound) ...
        assert (lo >= ref[:, 0] - 1e-6).all() and (hi <= ref[:, 1] + 1e-6).all()
        # ... and proves a target exactly when the full LP does.
        kind, req_lo, req_hi = world.target_kind[tpos], world.req_lo[tpos], world.req_hi[tpos]
        assert (satisfied(kind, req_lo, req_hi, lo, hi) == satisfied(kind, req_lo, req_hi, ref[:, 0], ref[:, 1])).all()
    assert stats.lps_solved > 0 and stats.closed_form < len(world.target_var)  # the LPs did the work


@pytest.mark.parametrize("seed", range(4))
def test_the_implied_bounds_hold_every_optimum_of_the_lp(seed):
    rng = np.random.default_rng(seed)
    n, m = 12, 6
    A = rng.integers(-1, 2, size=(m, n)).astype(float)
    t = rng.integers(0, 20, n).astype(float)
    b = A @ t
    lo, hi = t - rng.integers(0, 8, n), t + rng.integers(0, 8, n)
    out_lo, out_hi = lps.implied_bounds(csr_matrix(A), b, lo, hi, 3)
    assert (out_lo >= lo).all() and (out_hi <= hi).all()
    for j in range(n):
        for sign in (-1.0, 1.0):
            c = np.zeros(n)
            c[j] = sign
            x = linprog(c, A_eq=A, b_eq=b, bounds=list(zip(lo, hi)), method="highs").x
            assert out_lo[j] - 1e-9 <= x[j] <= out_hi[j] + 1e-9, (j, sign)


def test_a_chain_of_lines_is_propagated_to_its_end():
    # x0 + x1 = 10 with x1 <= 2 puts x0 in [8, 10]; then x0 - x2 = 0 puts x2 there too: two passes.
    A = csr_matrix(np.array([[1.0, 1.0, 0.0], [1.0, 0.0, -1.0]]))
    lo, hi = np.zeros(3), np.array([10.0, 2.0, 10.0])
    out_lo, out_hi = lps.implied_bounds(A, np.array([10.0, 0.0]), lo, hi, 2)
    assert list(out_lo) == [8.0, 0.0, 8.0] and list(out_hi) == [10.0, 2.0, 10.0]


def test_a_point_on_the_implied_bound_is_not_ruled_out():
    # x0 + x1 = 10, x1 in [0, 2]: x0 reaches 8 and 10 exactly, and no further.
    A = csr_matrix(np.array([[1.0, 1.0]]))
    b, lo, hi = np.array([10.0]), np.array([0.0, 0.0]), np.array([10.0, 2.0])
    tl = np.array([0, 0, 0, 0])
    push_lo = np.array([8.0, 7.0, 8.0 + 1e-7, 8.0])
    push_hi = np.array([10.0, 11.0, 10.0 - 1e-7, 10.0])
    width = np.array([False, False, False, True])
    above, below = lps.unreachable_sides(A, b, lo, hi, tl, push_lo, push_hi, width)
    assert list(above) == [False, True, False, False]  # on the bound, beyond it, within it, a width target
    assert list(below) == [False, True, False, False]


def test_without_an_lp_for_unreachable_sides_a_block_proves_the_same(monkeypatch):
    """Bound propagation only skips target sides no feasible point reaches: the same targets are proven,
    with fewer LPs, and every interval is still reached by the full LP's points."""
    rng = np.random.default_rng(5)
    cells, units = distinct_region(rng, 5)  # a region where some targets cannot be proven
    _, world = world_of(cells, units)
    proven, solved = {}, {}
    for rounds in (0, lps.PROPAGATION_ROUNDS):
        monkeypatch.setattr(lps, "PROPAGATION_ROUNDS", rounds)
        stats = AuditStats()
        got = []
        for fam in np.unique(world.family[world.two_dim]):
            block = np.flatnonzero(world.family == fam)
            free = np.zeros(len(world.t), dtype=bool)
            free[block] = True
            tpos = np.flatnonzero(free[world.target_var])
            lo, hi = lps.BlockLPs(world, None, stats).solve(block, free, tpos)
            cap = 4 * float(np.max(np.abs(world.t[block]))) + 1e6
            ref = lp_reference(world, block, cap, only=np.searchsorted(block, world.target_var[tpos]))
            assert (lo >= ref[:, 0] - 1e-6).all() and (hi <= ref[:, 1] + 1e-6).all()
            kind, req_lo, req_hi = world.target_kind[tpos], world.req_lo[tpos], world.req_hi[tpos]
            got.append(satisfied(kind, req_lo, req_hi, lo, hi))
        proven[rounds], solved[rounds] = np.concatenate(got), stats.lps_solved
    assert (proven[0] == proven[lps.PROPAGATION_ROUNDS]).all() and not proven[0].all()  # some targets fail
    assert solved[lps.PROPAGATION_ROUNDS] < solved[0]


def test_blocks_of_a_large_family_hold_every_aggregate_cell(monkeypatch):
    rng = np.random.default_rng(21)
    cells, units = region(rng, 9, types=("BO", "SO", "VO"))
    _, world = world_of(cells, units)
    families = np.unique(world.family[world.two_dim])
    pending = np.zeros(len(world.t), dtype=bool)
    pending[world.target_var] = True
    # A small family of networks alone is one whole block. The distinct counts (overlap.py) have
    # inequalities, which no network holds (only their new clients' rows have arcs): they are always
    # chunked, whatever their size (audit.py gives what the chunks leave the whole family).
    netted = np.array([f for f in families if not world.overlap[world.family == f].any()])
    netless = np.setdiff1d(families, netted)
    assert len(netted) == 1 and len(netless) == 1  # kosten; the distinct counts with the new clients' rows
    whole = lps.BlockLPs(world, None, AuditStats()).block_sets(netted, pending)
    assert [list(b) for b in whole] == [list(np.flatnonzero(world.family == f)) for f in netted]
    chunked = [_pair(b) for b in lps.BlockLPs(world, None, AuditStats()).block_sets(netless, pending)]
    assert len(chunked) > 1 and all(len(b) < int((world.family == netless[0]).sum()) for b, _ in chunked)
    # A chunk solves the targets of its own units and the aggregates; its donor units' are their own chunks'.
    assert all(np.isin(own, b).all() for b, own in chunked) and any(len(own) < len(b) for b, own in chunked)

    monkeypatch.setattr(lps, "WHOLE_FAMILY_VARS", 10)
    monkeypatch.setattr(lps, "TYPE_BLOCK_UNITS", 2)
    monkeypatch.setattr(lps, "CHUNK_UNITS", 3)
    blocks = lps.BlockLPs(world, None, AuditStats()).block_sets(families, pending)
    assert len(blocks) > len(families)
    covered = np.zeros(len(world.t), dtype=bool)
    for block, own in map(_pair, blocks):
        fam = world.family[block[0]]
        assert (world.family[block] == fam).all() and (np.diff(block) > 0).all()
        aggregate = np.flatnonzero((world.family == fam) & (world.level > 0))
        assert np.isin(aggregate, block).all()  # a hidden type or regio cell can always move
        covered[own] = True
    assert covered[pending & np.isin(world.family, families)].all()


def _pair(block):
    """(block, the variables whose targets it solves)."""
    return block if isinstance(block, tuple) else (block, block)


def _netless_world(seed: int):
    rng = np.random.default_rng(seed)
    cells, units = distinct_region(rng, 14)
    _, world = world_of(cells, units)
    families = np.unique(world.family[world.two_dim])
    netless = [f for f in families if world.overlap[world.family == f].any()]
    assert len(netless) == 1
    return world, netless[0]


def test_any_point_of_the_loose_boxes_keeps_every_overlap_line():
    world, _ = _netless_world(23)
    loose, box_lo, box_hi = lps.loose_boxes(world)
    assert loose.any() and (box_hi[loose] - box_lo[loose] > 0).any()
    assert (box_lo[loose] <= world.t[loose]).all() and (world.t[loose] <= box_hi[loose]).all()
    n_lines = len(world.line_ptr) - 1
    line_of = np.repeat(np.arange(n_lines), np.diff(world.line_ptr))
    is_ov = world.overlap[world.line_idx]
    ov_lines = np.unique(line_of[is_ov])
    rng = np.random.default_rng(5)
    for _ in range(200):
        x = world.t.copy()
        # Every loose variable at once, at a corner or inside its box.
        pick = rng.integers(0, 3, len(x))
        x[loose] = np.where(pick == 0, box_lo, np.where(pick == 1, box_hi, (box_lo + box_hi) / 2))[loose]
        for ln in ov_lines:
            s, e = world.line_ptr[ln], world.line_ptr[ln + 1]
            m, a = world.line_idx[s:e], world.line_coef[s:e].astype(float)
            others = ~world.overlap[m]
            slack = float(np.dot(a[others], x[m[others]]))  # the line's overlap variable takes this value
            assert slack >= -1e-9, (ln, slack)


def test_a_chunk_with_outside_columns_is_a_restriction_of_the_whole_family(monkeypatch):
    monkeypatch.setattr(lps, "CHUNK_UNITS", 2)
    world, fam = _netless_world(29)
    pending = np.zeros(len(world.t), dtype=bool)
    pending[world.target_var] = True
    stats = AuditStats()
    blps = lps.BlockLPs(world, None, stats)
    whole = np.flatnonzero(world.family == fam)
    cap = 4 * float(np.max(np.abs(world.t[whole]))) + 1e6
    chunks = [_pair(b) for b in blps.block_sets(np.array([fam]), pending)]
    outside = 0
    for block, own in chunks[:4]:
        free = np.zeros(len(world.t), dtype=bool)
        free[block] = True
        tpos = np.flatnonzero(np.isin(world.target_var, own))
        outside += len(blps._system(block, free)[4])
        lo, hi = blps.solve(block, free, tpos)
        ref = lp_reference(world, whole, cap, only=np.searchsorted(whole, world.target_var[tpos]))
        # Every certified interval is reached by points of the whole family's problem (sound).
        assert (lo >= ref[:, 0] - 1e-6).all() and (hi <= ref[:, 1] + 1e-6).all()
    assert outside > 0  # the loose units outside the chunks did take part


def test_components_solved_on_threads_give_the_same_bounds_and_counts(monkeypatch):
    """The components of a block run side by side (HiGHS releases the GIL): same intervals, same
    number of LPs, whatever the thread count."""
    rng = np.random.default_rng(11)
    cells, units = region(rng, 6)
    _, world = world_of(cells, units)
    results = {}
    for threads in ("1", "3"):
        monkeypatch.setenv("JEUGDHUB_AUDIT_THREADS", threads)
        assert lps.lp_threads() == int(threads)
        stats = AuditStats()
        # One block over every two-dimensional family: its families are separate components.
        block = np.flatnonzero(np.isin(world.family, np.unique(world.family[world.two_dim])))
        free = np.zeros(len(world.t), dtype=bool)
        free[block] = True
        blocks = lps.BlockLPs(world, None, stats)
        seen = []
        monkeypatch.setattr(blocks, "_component", lambda *a, _f=blocks._component: seen.append(1) or _f(*a))
        got = [blocks.solve(block, free, np.flatnonzero(free[world.target_var]))]
        assert len(seen) > 1  # several components, so the threads had work side by side
        results[threads] = (got, stats.lps_solved)
    (one, solved_one), (three, solved_three) = results["1"], results["3"]
    assert solved_one == solved_three > 0
    for (lo1, hi1), (lo3, hi3) in zip(one, three):
        assert np.array_equal(lo1, lo3) and np.array_equal(hi1, hi3)


def _segments(rng, n_segments: int):
    """Random segments of members and coefficients, many of them repeats of one another."""
    pool = [(rng.integers(0, 50, size=k), rng.choice(np.array([-1, 1], dtype=np.int8), size=k))
            for k in rng.integers(1, 6, size=max(1, n_segments // 3))]
    members, coefs, starts = [], [], []
    at = 0
    for _ in range(n_segments):
        m, c = pool[int(rng.integers(0, len(pool)))]
        if rng.random() < 0.3:  # a near-repeat: one entry differs
            m = m.copy()
            m[int(rng.integers(0, len(m)))] += 1
        members.append(m)
        coefs.append(c)
        starts.append(at)
        at += len(m)
    starts = np.array(starts, dtype=np.int64)
    ends = starts + np.array([len(m) for m in members], dtype=np.int64)
    return starts, ends, np.concatenate(members).astype(np.int64), np.concatenate(coefs)


@pytest.mark.parametrize("seed", range(5))
def test_the_first_of_equal_segments_is_the_plain_loops_answer(seed):
    rng = np.random.default_rng(seed)
    starts, ends, members, coefs = _segments(rng, 400)
    got = lps.first_of_equal_segments(starts, ends, members, coefs)
    assert got.tolist() == lps._first_of_equal_exact(starts, ends, members, coefs).tolist()
    assert 0 < got.sum() < len(got)  # the data has repeats and distinct segments


def test_segments_sharing_their_hashes_are_still_told_apart(monkeypatch):
    # Every hash equal: the check entry by entry must catch it and let the plain loop decide.
    rng = np.random.default_rng(9)
    starts, ends, members, coefs = _segments(rng, 200)
    monkeypatch.setattr(lps, "_mix", lambda x: np.zeros_like(x))
    got = lps.first_of_equal_segments(starts, ends, members, coefs)
    assert got.tolist() == lps._first_of_equal_exact(starts, ends, members, coefs).tolist()


def test_floats_equal_in_value_but_not_in_bits_are_different_segments():
    starts, ends = np.array([0, 1]), np.array([1, 2])
    got = lps.first_of_equal_segments(starts, ends, np.array([3, 3]), np.array([0.0, -0.0]))
    assert got.tolist() == [True, True]
