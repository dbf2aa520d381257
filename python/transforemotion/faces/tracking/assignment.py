"""The assignment problem: pair rows with columns at the least total cost.

Our own solver, so that tracking needs nothing beyond NumPy: SciPy is not
a dependency of the package, and a frame holds a handful of faces, where a
plain implementation is as quick as any library's call.

The method is the shortest augmenting path algorithm of Jonker and Volgenant
(1987) in the form Crouse (2016) gives for rectangular matrices, the one
``scipy.optimize.linear_sum_assignment`` uses: rows are added one at a time;
for each, Dijkstra's search over reduced costs finds the cheapest way to
give it a column (moving earlier rows to other columns where that is
cheaper), and the dual prices are updated so that reduced costs stay
non-negative. Each row costs O(rows x columns), so O(rows^2 x columns) in all.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ...core.errors import ArgumentError

__all__ = ["linear_sum_assignment"]


def linear_sum_assignment(cost) -> Tuple[np.ndarray, np.ndarray]:
    """The pairs (row, column) of least total cost, each row and each column used at most once.

    Args:
        cost: a 2-D array; ``inf`` marks a pair that may not be chosen. A
            rectangular matrix pairs every row (more columns than rows) or
            every column (more rows than columns).

    Returns:
        (rows, columns): int64 arrays of ``min(shape)`` pairs, ordered by
        row, as ``scipy.optimize.linear_sum_assignment`` returns them.

    Raises:
        ArgumentError: the matrix holds NaN or -inf, or the allowed pairs
            cannot pair every row (or column) of the smaller side.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ArgumentError(f"The cost matrix must have two dimensions; got shape {cost.shape}.")
    if np.isnan(cost).any() or np.isneginf(cost).any():
        raise ArgumentError("The cost matrix holds NaN or -inf; mark forbidden pairs with +inf.")
    transposed = cost.shape[1] < cost.shape[0]
    if transposed:
        cost = cost.T
    n_rows, n_cols = cost.shape
    col_of_row = np.full(n_rows, -1, dtype=np.int64)
    row_of_col = np.full(n_cols, -1, dtype=np.int64)
    u = np.zeros(n_rows)  # dual prices of rows
    v = np.zeros(n_cols)  # and of columns
    for row in range(n_rows):
        sink, shortest, path, rows_seen, cols_seen, lowest = _shortest_path(cost, u, v, row, row_of_col)
        # Prices: every reduced cost stays >= 0 and those along the matching stay 0.
        u[row] += lowest
        others = rows_seen.copy()
        others[row] = False
        u[others] += lowest - shortest[col_of_row[others]]
        v[cols_seen] -= lowest - shortest[cols_seen]
        # Augment: flip the matching along the path from the new row to the free column found.
        col = sink
        while True:
            previous_row = path[col]
            row_of_col[col] = previous_row
            col_of_row[previous_row], col = col, col_of_row[previous_row]
            if previous_row == row:
                break
    if transposed:
        order = np.argsort(col_of_row, kind="stable")
        return col_of_row[order], order.astype(np.int64)
    return np.arange(n_rows, dtype=np.int64), col_of_row


def _shortest_path(cost, u, v, row, row_of_col):
    """Dijkstra's search from ``row`` over reduced costs to the nearest free column."""
    n_rows, n_cols = cost.shape
    shortest = np.full(n_cols, np.inf)
    path = np.full(n_cols, -1, dtype=np.int64)
    rows_seen = np.zeros(n_rows, dtype=bool)
    cols_seen = np.zeros(n_cols, dtype=bool)
    lowest = 0.0
    current = row
    while True:
        rows_seen[current] = True
        reduced = lowest + cost[current] - u[current] - v
        better = ~cols_seen & (reduced < shortest)
        path[better] = current
        shortest[better] = reduced[better]
        open_cols = np.flatnonzero(~cols_seen)
        values = shortest[open_cols]
        lowest = float(values.min())
        if not np.isfinite(lowest):
            raise ArgumentError("The allowed pairs of the cost matrix cannot pair every row with a column (the "
                                "assignment is infeasible).")
        ties = open_cols[values == lowest]
        free = ties[row_of_col[ties] < 0]
        col = int(free[0] if len(free) else ties[0])  # a free column ends the search at once
        cols_seen[col] = True
        if row_of_col[col] < 0:
            return col, shortest, path, rows_seen, cols_seen, lowest
        current = int(row_of_col[col])
