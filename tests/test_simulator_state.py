"""The simulator's account figures: the time a freed slot stood idle before the next request."""

from __future__ import annotations

import pytest

from simulator.state import SimState


def test_a_freed_slots_idle_time_is_measured_until_the_next_start():
    state = SimState()
    # two in flight; one ends at 1.000, the next starts at 1.020; one ends at 1.300 and the
    # last starts at 1.310; what ends after the last start is the tail, not a handoff
    state.timeline = [(0.0, 1), (0.001, 2), (1.0, 1), (1.02, 2), (1.3, 1), (1.31, 2), (2.0, 1)]
    state.starts = [0.0, 0.001, 1.02, 1.31]
    assert state.handoff_ms() == pytest.approx([10.0, 20.0])
    stats = state.stats()
    assert stats["handoff_ms_p50"] == pytest.approx(20.0)
    assert stats["handoff_ms_p90"] == pytest.approx(20.0)
    assert SimState().stats()["handoff_ms_p50"] is None
