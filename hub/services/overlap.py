"""The overlap counts a release may use: per school, the children an SWV's and a municipality's sets share.

The exchange that produces them is docs/overlap.md; this module only reads them. A count belongs to
a pair of submissions (the SWV's and the municipality's): a release built from other submissions
of either node does not use it, since its populations are no longer the ones compared."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import select

from hub.extensions import db
from hub.models.nodes import Node
from hub.models.overlap import OverlapCount

#: Columns of :func:`counts_frame`, one row per school and pair of nodes.
COUNT_COLUMNS = ("vestigingscode", "swv", "gemeente", "swv_submission_id", "gemeente_submission_id", "beide")


def counts_frame(round_id: int, submission_ids: Iterable[int]) -> pd.DataFrame:
    """The round's overlap counts whose two submissions are both among ``submission_ids``, with the
    SWV's and the municipality's codes; empty (with :data:`COUNT_COLUMNS`) when there are none."""
    ids = set(int(i) for i in submission_ids)
    if not ids:
        return pd.DataFrame(columns=list(COUNT_COLUMNS))
    swv, gemeente = db.aliased(Node), db.aliased(Node)
    rows = db.session.execute(
        select(OverlapCount.vestigingscode, swv.code, gemeente.code, OverlapCount.swv_submission_id,
               OverlapCount.gemeente_submission_id, OverlapCount.beide)
        .join(swv, swv.id == OverlapCount.swv_node_id)
        .join(gemeente, gemeente.id == OverlapCount.gemeente_node_id)
        .where(OverlapCount.round_id == round_id,
               OverlapCount.swv_submission_id.in_(ids),
               OverlapCount.gemeente_submission_id.in_(ids))
        .order_by(OverlapCount.vestigingscode, swv.code, gemeente.code)
    ).all()
    frame = pd.DataFrame(rows, columns=list(COUNT_COLUMNS))
    return frame.astype({"beide": "int64", "swv_submission_id": "int64", "gemeente_submission_id": "int64"})
