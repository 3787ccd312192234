"""hub/dutch.py: every reason the gate can give has words."""

from __future__ import annotations

import hub.disclosure.frames as frames
from hub.dutch import SUPPRESSION_REASONS, suppression_reason


def test_every_gate_reason_has_words():
    codes = {frames.THRESHOLD, frames.GROUP_DISCLOSURE, frames.INSIDER_COUNT, frames.NEGATIVE, frames.NEGATIVE_SUM,
             frames.LINKED_COUNT, frames.INSIDER_COST, frames.P_PERCENT, frames.DOMINANCE, frames.PROVIDER_AGGREGATE,
             frames.OVERLAP_VARIABLE, frames.COMPLEMENTARY, frames.AUDIT_PARTNER, frames.EARLIER_HIDDEN}
    assert codes <= set(SUPPRESSION_REASONS)
    assert suppression_reason("threshold") == "minder dan de drempel (threshold)"
    assert suppression_reason(None) == "afgeschermd"
