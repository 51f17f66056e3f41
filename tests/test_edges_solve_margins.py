"""Edge tests of dlt/solve/margins.py: max-margin directions, their spread, basis pursuit.

Each test names the plausible bug it rejects; answers come from hand computation on data
sets whose max-margin direction is obvious, never from the code under test.
"""

from __future__ import annotations

import pytest
import torch

from dlt.solve.margins import (
    max_margin_l2,
    max_margin_linf,
    max_margin_linf_spread,
    min_l1_interpolator,
)

F64 = torch.float64
NOT_SEPARABLE = (
    r"^Z is not linearly separable through the origin: no w has z_i \. w > 0 for every row "
    r"\(best margin -?0\)$"
)


def test_one_column_data_sets_are_accepted():
    """Rejects a size check that wants two columns (``shape[1] <= 1``): a one-feature data
    set separable through the origin has direction sign(z) and margin min |z_i|."""
    for f in (max_margin_l2, max_margin_linf):
        m = f(torch.tensor([[2.0], [0.5]]))
        torch.testing.assert_close(m.direction, torch.tensor([1.0], dtype=F64))
        torch.testing.assert_close(m.margin, torch.tensor(0.5, dtype=F64))
        m = f(torch.tensor([[-3.0], [-1.0]]))
        torch.testing.assert_close(m.direction, torch.tensor([-1.0], dtype=F64))
        torch.testing.assert_close(m.margin, torch.tensor(1.0, dtype=F64))
    spread = max_margin_linf_spread(torch.tensor([[2.0], [0.5]]))
    assert spread.shape == (1,) and float(spread[0]) < 1e-6


@pytest.mark.parametrize("c", [1e-300, 1e-14, 1e8, 1e300])
def test_max_margins_are_scale_free(c):
    """Rejects tolerances that are absolute rather than relative to the data's scale (a
    bug this test found): ``c Z`` is as separable as ``Z``, with the same direction and the
    margin times c. ``Z`` has rows (1, 1) and (1, -1/2); both max-margin directions are
    (1, 0), with margin 1 (each row's first coordinate). The old version called ``1e-14 Z``
    not separable, gave the l2 direction of ``1e-8 Z`` wrong in the 9th digit, returned a NaN
    l2 direction for ``1e300 Z`` and failed in HiGHS on it for l_inf."""
    Z = c * torch.tensor([[1.0, 1.0], [1.0, -0.5]], dtype=F64)
    for f in (max_margin_l2, max_margin_linf):
        m = f(Z)
        torch.testing.assert_close(
            m.direction, torch.tensor([1.0, 0.0], dtype=F64), rtol=0, atol=1e-14
        )
        torch.testing.assert_close(m.margin / c, torch.tensor(1.0, dtype=F64), rtol=1e-14, atol=0)
    # margin >= 0.999 in the unit box: w1 in [0.999, 1] and w2 in [-0.001, 0.002], by hand
    spread = max_margin_linf_spread(Z, slack=1e-3)
    torch.testing.assert_close(spread, torch.tensor([1e-3, 3e-3], dtype=F64), rtol=0, atol=1e-7)


def test_not_separable_message_and_best_margin():
    """Rejects a mangled message, or a reported best margin that is not the program's
    (a constant 1, or another coordinate of the solution such as w_2 = -1): data with
    rows z and -z are separable by no w, and the best margin is 0."""
    for Z in ([[1.0, 0.0], [-1.0, 0.0]], [[0.0, 0.0]], [[1.0, -1.0], [-1.0, 1.0]]):
        for f in (max_margin_l2, max_margin_linf, max_margin_linf_spread):
            with pytest.raises(ValueError, match=NOT_SEPARABLE):
                f(torch.tensor(Z))


def test_spread_checks_its_arguments_naming_them():
    """Rejects argument checks of ``max_margin_linf_spread`` (which has no declaration to
    check them first) that name the wrong argument, and a slack bound that refuses its
    documented end ``1e-3`` (``>=`` for ``>``)."""
    with pytest.raises(ValueError, match=r"^Z must have shape \(n, d\), got shape \(3,\)$"):
        max_margin_linf_spread(torch.zeros(3))
    with pytest.raises(ValueError, match=r"^Z must be finite, got 1 NaN entries$"):
        max_margin_linf_spread(torch.tensor([[1.0, float("nan")]]))
    with pytest.raises(ValueError, match=r"^slack must be in \[0, 1\], got -0\.1$"):
        max_margin_linf_spread(torch.tensor([[1.0, 0.0]]), slack=-0.1)
    with pytest.raises(TypeError, match=r"^slack must be a number, got list$"):
        max_margin_linf_spread(torch.tensor([[1.0, 0.0]]), slack=[0.1])
    with pytest.raises(ValueError, match=r"^slack must be in \[0, 1e-3\], got 0\.002$"):
        max_margin_linf_spread(torch.tensor([[1.0, 0.0]]), slack=2e-3)
    # the ends of the range are accepted: one row (1, 0), w1 in [1 - slack, 1], w2 free
    for slack in (0.0, 1e-3):
        spread = max_margin_linf_spread(torch.tensor([[1.0, 0.0]]), slack=slack)
        assert spread.dtype == F64
        torch.testing.assert_close(spread, torch.tensor([slack, 2.0], dtype=F64), atol=1e-6, rtol=0)


def test_spread_relaxes_the_margin_down_and_keeps_the_unit_box():
    """Rejects relaxing the margin up (``1 + slack``: the face is then empty beyond the
    solver's tolerance) and a box other than [-1, 1]^d: for the single row (1, 0), the
    maximizers within slack 1e-3 are w1 in [0.999, 1], w2 in [-1, 1], spreads (1e-3, 2)."""
    spread = max_margin_linf_spread(torch.tensor([[1.0, 0.0]], dtype=F64), slack=1e-3)
    torch.testing.assert_close(spread, torch.tensor([1e-3, 2.0], dtype=F64), atol=1e-7, rtol=0)
    # data scaled by 1e-12: the same face (the old version's absolute tolerance lost it)
    spread = max_margin_linf_spread(torch.tensor([[1e-12, 0.0]], dtype=F64), slack=1e-3)
    torch.testing.assert_close(spread, torch.tensor([1e-3, 2.0], dtype=F64), atol=1e-7, rtol=0)


def test_min_l1_interpolator_without_a_solution_says_so():
    """Rejects an error without its message when ``X w = y`` is inconsistent (two equal
    rows with different targets)."""
    with pytest.raises(ValueError, match=r"^X w = y has no solution for these X and y \("):
        min_l1_interpolator(torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([1.0, 2.0]))
