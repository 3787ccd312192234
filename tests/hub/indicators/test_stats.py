"""Wilson intervals and funnel limits against hand-computed values."""

import math

import pytest

from hub.indicators.stats import Z_95, Z_998, funnel_limits, wilson_interval


def test_wilson_10_of_100_matches_hand_computation():
    # p = 0.1, z² = 3.8415: centre = (0.1 + 0.019207)/1.038415 = 0.114800,
    # half = 1.96·√(0.0009 + 0.0000960)/1.038415 = 0.059570
    low, high = wilson_interval(10, 100)
    assert low == pytest.approx(0.05523, abs=1e-5)
    assert high == pytest.approx(0.17437, abs=1e-5)


def test_wilson_zero_successes_has_positive_upper_bound():
    # k = 0: upper = z²/n / (1 + z²/n) = 3.8415/23.8415 for n = 20
    low, high = wilson_interval(0, 20)
    assert low == 0.0
    assert high == pytest.approx(3.841459 / 23.841459, rel=1e-6)


def test_wilson_all_successes_is_symmetric_to_none():
    low0, high0 = wilson_interval(0, 35)
    low1, high1 = wilson_interval(35, 35)
    assert low1 == pytest.approx(1 - high0)
    assert high1 == pytest.approx(1.0)


@pytest.mark.parametrize("k,n", [(-1, 10), (11, 10), (0, 0)])
def test_wilson_rejects_impossible_inputs(k, n):
    with pytest.raises(ValueError):
        wilson_interval(k, n)


def test_funnel_limits_p10_n100():
    lim = funnel_limits(0.1, 100)
    se = 0.03
    assert lim.lower_95 == pytest.approx(0.1 - Z_95 * se)
    assert lim.upper_95 == pytest.approx(0.1588, abs=1e-4)
    assert lim.lower_998 == pytest.approx(0.1 - 3.0902 * se, abs=1e-4)
    assert lim.upper_998 == pytest.approx(0.19271, abs=1e-4)


def test_funnel_limits_are_clipped_and_narrow_with_n():
    small = funnel_limits(0.05, 20)
    large = funnel_limits(0.05, 2000)
    assert small.lower_998 == 0.0
    assert large.upper_95 - large.lower_95 < small.upper_95 - small.lower_95
    assert math.isclose(Z_998, 3.090232, rel_tol=1e-6)
