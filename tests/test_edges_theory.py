"""Edges of the closed forms' promises: error messages that name the argument and its expected
shape, the dtype of the result, limits and invariants (Hypothesis, derandomized)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlt.theory import gaussian_kl, kl, kl_inverse

PROPERTY = settings(derandomize=True, max_examples=30, deadline=None, database=None)
EIGHT = torch.full((1,) * 8, 0.5)  # one dimension more than any argument accepts


# ---------------------------------------------------------------- kl, kl_inverse, gaussian_kl


def test_kl_errors_name_the_argument_and_the_expected_shape():
    for args, name in (((EIGHT, 0.5), "q"), ((0.5, EIGHT), "p")):
        with pytest.raises(
            ValueError,
            match=rf"^{name} must have shape \(\.\.\.\) of numbers in \[0, 1\], got shape \(1, 1",
        ):
            kl(*args)
    with pytest.raises(ValueError, match=r"^q must be finite"):
        kl(torch.tensor([0.5, math.nan]), 0.5)
    with pytest.raises(ValueError, match=r"^p must lie in \[0, 1\], got values from 1\.5"):
        kl(0.5, torch.tensor([1.5]))


def test_kl_inverse_errors_name_the_argument_and_the_expected_shape():
    with pytest.raises(
        ValueError, match=r"^c must have shape \(\.\.\.\) of numbers >= 0, got shape \(1, 1"
    ):
        kl_inverse(0.1, EIGHT)
    with pytest.raises(ValueError, match=r"^c must be finite"):
        kl_inverse(0.1, math.inf)
    with pytest.raises(ValueError, match=r"^c must be >= 0, got -0\.5"):
        kl_inverse(0.1, -0.5)


def test_gaussian_kl_errors_name_the_argument_and_the_expected_shape():
    m = torch.zeros(3)
    for bad, name in ((0, "mean_q"), (1, "mean_p")):
        args = [m, m, 1.0, 1.0]
        args[bad] = torch.zeros(3, 1)
        with pytest.raises(
            ValueError, match=rf"^{name} must have shape \(D,\), got shape \(3, 1\)"
        ):
            gaussian_kl(*args)
    for bad, name in ((2, "sigma_q"), (3, "sigma_p")):
        args = [m, m, 1.0, 1.0]
        args[bad] = torch.ones(3, 1)
        with pytest.raises(ValueError, match=rf"^{name} must have shape \(\) or \(3,\), got shape"):
            gaussian_kl(*args)
        args[bad] = torch.ones(2)
        with pytest.raises(ValueError, match=rf"^{name} must be a number or have shape \(3,\)"):
            gaussian_kl(*args)
        args[bad] = -1.0
        with pytest.raises(ValueError, match=rf"^{name} must be > 0"):
            gaussian_kl(*args)


def test_results_keep_the_dtype_of_the_first_argument():
    """kl and kl_inverse in q's dtype, gaussian_kl in mean_q's, whatever the others are."""
    q32 = torch.tensor([0.1, 0.2], dtype=torch.float32)
    assert kl(q32, torch.tensor(0.3, dtype=torch.float64)).dtype == torch.float64  # promotion
    assert kl_inverse(q32, torch.tensor(0.5, dtype=torch.float64)).dtype == torch.float32
    out = gaussian_kl(
        torch.zeros(2),
        torch.ones(2, dtype=torch.float64),
        0.5,
        torch.tensor(2.0, dtype=torch.float64),
    )
    assert out.dtype == torch.float32
    want = 0.5 * 2 * ((0.5 / 2) ** 2 + 1 / 4 - 1 - math.log((0.5 / 2) ** 2))
    assert float(out) == pytest.approx(want, rel=1e-6)


@PROPERTY
@given(q=st.floats(0, 1), c=st.floats(0, 5))
def test_kl_inverse_is_the_largest_p_within_the_budget(q, c):
    """kl(q‖p*) = c where p* < 1, p* ≥ q, and any larger p breaks the budget."""
    p = float(kl_inverse(q, c, iters=200))
    assert q <= p <= 1
    if c == 0:
        assert p == q
    elif p < 1 - 1e-12:
        assert float(kl(q, p)) == pytest.approx(c, rel=1e-6, abs=1e-12)
        assert float(kl(q, min(1.0, p + 1e-6))) > c


@PROPERTY
@given(q=st.floats(0, 1), p=st.floats(0, 1))
def test_kl_is_nonnegative_zero_on_the_diagonal_and_symmetric_under_flip(q, p):
    d = float(kl(q, p))
    assert d >= 0 or d == pytest.approx(0, abs=1e-15)
    assert float(kl(1 - q, 1 - p)) == pytest.approx(d, rel=1e-9, abs=1e-12)
    assert float(kl(q, q)) == pytest.approx(0.0, abs=1e-15)


def test_kl_edges_by_hand():
    # 0 ln 0 = 0 at both ends, infinite where p is 0 or 1 and q differs
    assert float(kl(0.0, 0.5)) == pytest.approx(math.log(2))
    assert float(kl(1.0, 0.5)) == pytest.approx(math.log(2))
    assert float(kl(0.0, 0.0)) == 0.0 and float(kl(1.0, 1.0)) == 0.0
    assert math.isinf(float(kl(0.5, 0.0))) and math.isinf(float(kl(0.5, 1.0)))
    # tiny q: no cancellation, the q ln q term stays accurate
    assert float(kl(1e-300, 0.5)) == pytest.approx(math.log(2), rel=1e-12)
    assert float(kl_inverse(0.0, 1.0)) == pytest.approx(1 - math.exp(-1), rel=1e-12)
