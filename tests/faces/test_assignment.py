"""Our assignment solver (faces/tracking/assignment.py) against SciPy's and against hand-worked cases."""

import itertools

import numpy as np
import pytest

from transforemotion.faces.tracking import linear_sum_assignment


def brute_force(cost):
    """The least total over every way of pairing the smaller side (the definition, for tiny matrices)."""
    n, m = cost.shape
    best = np.inf
    if n <= m:
        for cols in itertools.permutations(range(m), n):
            best = min(best, sum(cost[i, j] for i, j in enumerate(cols)))
    else:
        for rows in itertools.permutations(range(n), m):
            best = min(best, sum(cost[i, j] for j, i in enumerate(rows)))
    return best


def check_pairs(cost, rows, cols):
    assert len(rows) == len(cols) == min(cost.shape)
    assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
    assert rows.tolist() == sorted(rows.tolist())
    assert np.all(np.isfinite(cost[rows, cols]))


def test_hand_worked_square_case():
    # Row 0 is cheapest in column 0, but so is row 1 (by more): the optimum sends row 0 elsewhere.
    cost = np.array([[1.0, 2.0, 9.0],
                     [0.0, 9.0, 9.0],
                     [9.0, 9.0, 5.0]])
    rows, cols = linear_sum_assignment(cost)
    assert rows.tolist() == [0, 1, 2] and cols.tolist() == [1, 0, 2]  # 2 + 0 + 5 = 7


def test_rectangular_both_ways_and_forbidden_pairs():
    wide = np.array([[4.0, 1.0, 3.0],
                     [2.0, 1.0, 5.0]])  # 1 + 2 = 3 beats 3 + 1 and 4 + 1
    rows, cols = linear_sum_assignment(wide)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    rows, cols = linear_sum_assignment(wide.T)  # every column paired, listed by row
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    forbidden = np.array([[np.inf, 1.0], [1.0, np.inf]])
    assert [c for c in linear_sum_assignment(forbidden)[1]] == [1, 0]
    empty = linear_sum_assignment(np.zeros((0, 3)))
    assert empty[0].size == 0 and empty[1].size == 0


def test_infeasible_and_bad_matrices_are_refused():
    with pytest.raises(ValueError, match="infeasible"):
        linear_sum_assignment(np.array([[np.inf, np.inf], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="NaN"):
        linear_sum_assignment(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="two dimensions"):
        linear_sum_assignment(np.ones(3))


def test_tiny_random_matrices_against_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(300):
        n, m = rng.integers(1, 5, 2)
        cost = np.round(rng.random((n, m)) * 6)  # small integers: many ties
        rows, cols = linear_sum_assignment(cost)
        check_pairs(cost, rows, cols)
        assert cost[rows, cols].sum() == brute_force(cost)


def test_random_matrices_against_scipy():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(0)
    for trial in range(2000):
        n, m = rng.integers(0, 9, 2)
        cost = rng.random((n, m)) * 10
        if trial % 3 == 0:
            cost = np.round(cost)
        if trial % 4 == 0:
            cost[rng.random((n, m)) < 0.3] = np.inf
        try:
            ref_rows, ref_cols = scipy_optimize.linear_sum_assignment(cost)
        except ValueError:  # SciPy finds it infeasible: so must we
            with pytest.raises(ValueError, match="infeasible"):
                linear_sum_assignment(cost)
            continue
        rows, cols = linear_sum_assignment(cost)
        check_pairs(cost, rows, cols)
        assert cost[rows, cols].sum() == pytest.approx(cost[ref_rows, ref_cols].sum(), abs=1e-9)
