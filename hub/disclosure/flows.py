"""Attacker bounds in the two-dimensional families by maximum flow: exact per school type, fast enough nationally.

Why a network. Within one school type, fix the type's and the region's cells at their true values. What is
left of the lines over the type's vestiging cells is a network (each cell an arc, each line a node with
flow conservation):

- ``nieuwe_clienten`` family, per vestiging u: verwijzer cell ``V[u,c]`` is an arc column(c) → R[u]; the
  total ``T[u]`` is an arc R[u] → G[u]; leeftijd cell ``A[u,a]`` is an arc G[u] → column(a). Conservation
  at R[u] and G[u] are the two row lines; at a column node, the type's column line (its total is fixed).
  The type's ``nieuwe_clienten`` column line (Σ T[u] = fixed) follows from the others.
- ``kosten`` family: cost category ``X[u,c]`` is an arc column(c) → R[u]; ``X[u,totaal]`` is an arc
  R[u] → column(totaal).

The network always holds *every* line of the attacker's problem over these cells (plus, where a partial was
inconsistent and its line was dropped, one the attacker does not have): its feasible set is a subset of the
attacker's, so every interval proven here is sound. The new clients' rows are also in inequalities (N ≤ C,
overlap.py); those become caps on the arcs' boxes (trees.py's ``overlap_boxes``, every other cell held),
which the caller applies before building the network (``Auditor.network_bounds``). Variables that differ between releases (a late
submission changed them) are fixed too: the old and new lines then say the same about the free cells.

Bounds. With the truth as a feasible flow, the largest increase of arc e = (u → v) is the maximum flow from
v to u in the residual network without e (capped at e's own room), the largest decrease the maximum flow
from u to v; the LP optimum of a network problem is integral and equals it (the LP stays the reference
check in the tests). OR-Tools' push-relabel solves one on a few hundred arcs in tens of microseconds.

Speed. Each flow stops at its side's need (``Network.increase``'s ``limit``), and a side whose arc or end
nodes lack the room it needs gets no flow (``bound_targets``). A type with many vestigingen is audited
in *chunks*: ``CHUNK_UNITS`` vestigingen plus helpers (per column the ``HELPERS`` vestigingen with the
most room to move down and up), the rest fixed, which is again a restriction (sound). A target a chunk
cannot prove gets the exact problem of its whole type.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow

# Roles of a variable in its family's network (tables.network_role).
NOT_IN_NETWORK = 0
ROW_PART = 1  # column(k) → R[u]: verwijzer cell, or a cost category
ROW_TOTAL_TO_SECOND_ROW = 2  # R[u] → G[u]: nieuwe_clienten total
SECOND_ROW_PART = 3  # G[u] → column(k): leeftijd cell
ROW_TOTAL_TO_COLUMN = 4  # R[u] → column(k): kosten totaal

CHUNK_UNITS = 16  # vestigingen per chunk in a large type
HELPERS = 2  # per column and direction: vestigingen with the most room that join every chunk of their type
EXACT_UNITS = 120  # a type with at most this many vestigingen is one exact network


def arc_ends(role: np.ndarray, column: np.ndarray, unit_local: np.ndarray, n_columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Tail and head node per variable: columns are nodes ``0..n_columns-1``, then R[u], G[u] per unit."""
    r_node = n_columns + 2 * unit_local
    g_node = r_node + 1
    tail = np.select([role == ROW_PART, role == SECOND_ROW_PART], [column, g_node], default=r_node)
    head = np.select([role == ROW_PART, role == ROW_TOTAL_TO_SECOND_ROW], [r_node, g_node], default=column)
    return tail.astype(np.int64), head.astype(np.int64)


class Network:
    """Residual network of a feasible flow ``t`` with arc bounds ``[lo, hi]`` (infinite ones capped)."""

    def __init__(self, tail: np.ndarray, head: np.ndarray, t: np.ndarray, lo: np.ndarray, hi: np.ndarray):
        self.t = t
        cap = 4 * float(np.max(np.abs(t))) + 1e6 if len(t) else 1e6  # a finite box: a restriction, still sound
        up = np.clip(np.where(np.isfinite(hi), hi, t + cap) - t, 0, None)
        down = np.clip(t - np.where(np.isfinite(lo), lo, t - cap), 0, None)
        self.up = np.rint(up).astype(np.int64)
        self.down = np.rint(down).astype(np.int64)
        n = len(t)
        self.tail, self.head = tail, head
        self.smf = max_flow.SimpleMaxFlow()
        # Arc 2i: room to increase variable i (tail → head); arc 2i+1: room to decrease it (head → tail).
        tails = np.empty(2 * n, dtype=np.int64)
        heads = np.empty(2 * n, dtype=np.int64)
        caps = np.empty(2 * n, dtype=np.int64)
        tails[0::2], heads[0::2], caps[0::2] = tail, head, self.up
        tails[1::2], heads[1::2], caps[1::2] = head, tail, self.down
        self.n_nodes = int(max(tail.max(), head.max())) + 1 if n else 0
        if n:
            self.smf.add_arcs_with_capacity(tails, heads, caps)
            # A super source with an arc of capacity 0 to every node (arc 2n + v): a flow that needs only
            # ``limit`` units gives that arc ``limit`` and starts there, so push-relabel has no more than
            # ``limit`` units of excess to move (a large type's network, ``bound_targets``).
            nodes = np.arange(self.n_nodes, dtype=np.int64)
            self.smf.add_arcs_with_capacity(np.full(self.n_nodes, self.n_nodes, dtype=np.int64), nodes,
                                            np.zeros(self.n_nodes, dtype=np.int64))
        self._super_arc = 2 * n

    def _flow_without(self, i: int, source: int, sink: int, limit: int | None = None) -> int:
        """Maximum flow from ``source`` to ``sink`` without variable ``i``'s arcs; at most ``limit``."""
        smf = self.smf
        smf.set_arc_capacity(2 * i, 0)
        smf.set_arc_capacity(2 * i + 1, 0)
        if limit is None:
            status = smf.solve(int(source), int(sink))
        else:
            smf.set_arc_capacity(self._super_arc + int(source), int(limit))
            status = smf.solve(self.n_nodes, int(sink))
            smf.set_arc_capacity(self._super_arc + int(source), 0)
        value = smf.optimal_flow() if status == smf.OPTIMAL else 0  # anything else proves nothing
        smf.set_arc_capacity(2 * i, int(self.up[i]))
        smf.set_arc_capacity(2 * i + 1, int(self.down[i]))
        return int(value)

    def node_rooms(self) -> tuple[np.ndarray, np.ndarray]:
        """Per node, the residual capacity of the arcs leaving it and of those entering it (the super
        source's arcs aside: their capacity is 0 between flows)."""
        def at(nodes: np.ndarray, room: np.ndarray) -> np.ndarray:
            return np.bincount(nodes, weights=room, minlength=self.n_nodes)

        # Arc i leaves its tail with its room up, and (reversed) its head with its room down.
        return at(self.tail, self.up) + at(self.head, self.down), at(self.head, self.up) + at(self.tail, self.down)

    def increase(self, i: int, limit: int | None = None) -> int:
        """Largest increase of variable ``i`` over the network's feasible flows; with ``limit``, the
        smaller of that and ``limit`` (every value up to the largest increase is a feasible flow's)."""
        room = int(self.up[i]) if limit is None else min(int(self.up[i]), int(limit))
        if room <= 0:
            return 0
        return min(room, self._flow_without(i, self.head[i], self.tail[i], None if limit is None else room))

    def decrease(self, i: int, limit: int | None = None) -> int:
        room = int(self.down[i]) if limit is None else min(int(self.down[i]), int(limit))
        if room <= 0:
            return 0
        return min(room, self._flow_without(i, self.tail[i], self.head[i], None if limit is None else room))


def bound_targets(net: Network, local: np.ndarray, need_up: np.ndarray, need_down: np.ndarray,
                  width: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Certified (lo, hi) for the targets at local variable indices ``local``; also the number of flows solved.

    ``need_up``/``need_down``: how far above/below its true value each target must be able to move
    (sides already met need 0). ``width`` targets need ``need_up`` (their full width) as up + down combined.
    """
    t = net.t[local]
    lo = t.astype(float).copy()
    hi = t.astype(float).copy()
    # A side of a target that is not a width target cannot reach its need when the arc's own room, or
    # what its flow's source can send out or its sink take in (arc i aside), falls short: the flow is not
    # solved and the side stays at the truth. That is sound, and the side is unproven either way; only
    # its reported interval (the audit's statistics) is narrower. Width targets combine both sides and
    # always get their flows.
    out, into = net.node_rooms()
    local = np.asarray(local, dtype=np.int64)
    head, tail = net.head[local], net.tail[local]
    up_room = np.minimum(net.up[local], np.minimum(out[head], into[tail]) - net.down[local])
    down_room = np.minimum(net.down[local], np.minimum(out[tail], into[head]) - net.up[local])
    try_up = width | ((need_up > 0) & (up_room >= need_up))
    try_down = ~width & (need_down > 0) & (down_room >= need_down)
    solved = 0
    for j, i in enumerate(local):
        i = int(i)
        # Each flow stops at what its side needs: a side that reaches its need is proven, and one that
        # does not gets its exact largest move.
        if width[j]:
            up = net.increase(i, int(need_up[j]))
            solved += 1
            down = net.decrease(i, int(need_up[j]) - up) if up < need_up[j] else 0
            solved += int(up < need_up[j])
        else:
            up = net.increase(i, int(need_up[j])) if try_up[j] else 0
            down = net.decrease(i, int(need_down[j])) if try_down[j] else 0
            solved += int(try_up[j]) + int(try_down[j])
        hi[j] += up
        lo[j] -= down
    return lo, hi, solved
