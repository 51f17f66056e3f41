"""Edges of the promises of ``dlt.theory.benign`` (Bartlett et al. 2020): the spectrum's
checks, a threshold met exactly, zero eigenvalues, the defaults of ``b``, and each term of the
risk bound computed by hand (the survivors of ``tools/mutation.py``)."""

import math

import numpy as np
import pytest
import torch

from dlt.theory.benign import bll_risk_bound, critical_index, effective_ranks

# ---------------------------------------------------------------- the spectrum


def test_an_empty_spectrum_is_refused_by_name():
    """Rejects a size test that lets an empty spectrum through (``size == 1``) and a mangled
    message: every function names ``eigenvalues`` first."""
    for call in (
        lambda: effective_ranks([], 0),
        lambda: critical_index([], 1),
        lambda: bll_risk_bound(np.zeros(0), 1, noise=1.0),
    ):
        with pytest.raises(ValueError, match=r"^eigenvalues must be a non-empty 1-d array$"):
            call()


def test_a_negative_or_non_finite_eigenvalue_is_refused_by_name():
    """Rejects a mangled message for a negative, NaN or infinite eigenvalue."""
    for bad in ([1.0, -1e-12], [1.0, math.nan], [math.inf, 1.0]):
        with pytest.raises(ValueError, match=r"^eigenvalues must be finite and non-negative$"):
            effective_ranks(bad, 0)


def test_a_single_eigenvalue_is_a_valid_spectrum():
    """Rejects a size test that refuses a spectrum of one eigenvalue (``size == 1``):
    r_0 = R_0 = 1, and r_0 = 1 >= n = 1 gives k* = 0."""
    assert effective_ranks([2.5], 0) == (1.0, 1.0)
    assert critical_index([2.5], 1) == 0
    assert critical_index([2.5], 2) == 1  # no k qualifies: p


def test_a_tensor_spectrum_even_one_that_requires_grad():
    """Rejects a conversion that skips ``detach()`` for tensors (numpy refuses a tensor that
    requires grad) or that converts something else than the argument."""
    lam = torch.tensor([1.0, 4.0, 1.0, 1.0], dtype=torch.float64, requires_grad=True)
    assert effective_ranks(lam, 1) == (3.0, 3.0)
    assert critical_index(lam, 3) == 1
    assert bll_risk_bound(lam, 3, noise=1.0).k_star == 1


def test_float32_and_integer_spectra_are_computed_in_float64():
    """Rejects a conversion that keeps the input's dtype: float32 arithmetic rounds
    r_0 = 1 + 1/3 at 1e-8, and int64 cumulative sums of eigenvalues 2**62 wrap around."""
    r, R = effective_ranks(torch.tensor([3.0, 1.0]), 0)  # float32 input
    assert r == pytest.approx(4 / 3, rel=1e-14)
    assert R == pytest.approx((4 / 3) ** 2 / (1 + 1 / 9), rel=1e-14)  # = 1.6
    # r_0 = (2**62 + 2**62) / 2**62 = 2 >= n = 2: k* = 0 (int64 tails would be -2**63)
    assert critical_index([2**62, 2**62], 2) == 0
    assert critical_index(np.array([2**62, 2**62], dtype=np.int64), 2) == 0


# ---------------------------------------------------------------- critical_index


def test_critical_index_counts_tails_from_the_smallest_eigenvalues():
    """Rejects tail sums taken from the top of the spectrum: for (2, 1) the tails are
    (3, 1), so r = (1.5, 1); sums from the top would give r_1 = 2."""
    assert critical_index([1.0, 2.0], 1) == 0  # r_0 = 1.5 >= 1
    assert critical_index([1.0, 2.0], 1, b=1.6) == 2  # neither 1.5 nor 1 reaches 1.6
    assert critical_index([1.0, 2.0], 2) == 2
    # three levels: tails (6, 3, 1) / (3, 2, 1) = (2, 1.5, 1)
    assert critical_index([3.0, 2.0, 1.0], 1, b=1.5) == 0
    assert critical_index([3.0, 2.0, 1.0], 1, b=2.5) == 3


def test_critical_index_takes_a_rank_exactly_equal_to_b_n():
    """Rejects ``r_k > b n`` for the documented ``r_k >= b n``: a flat spectrum of ten has
    r_k = 10 - k, so n = 10 (b = 1) and n = 5 (b = 2) both give k* = 0 on the threshold."""
    flat = np.ones(10)
    assert critical_index(flat, 10) == 0
    assert critical_index(flat, 5, b=2.0) == 0
    assert critical_index(flat, 4, b=2.0) == 0
    assert critical_index([4.0, 1.0, 1.0, 1.0], 3) == 1  # r = (1.75, 3, 2, 1): r_1 = n
    assert critical_index(flat, 11) == 10  # none qualifies: p


def test_critical_index_default_b_is_one():
    """Rejects a default ``b`` other than 1: on a flat spectrum of ten and n = 10 the default
    qualifies k = 0, and b = 2 qualifies none."""
    flat = np.ones(10)
    assert critical_index(flat, 10) == critical_index(flat, 10, b=1.0) == 0
    assert critical_index(flat, 10, b=2.0) == 10


def test_critical_index_n_one_is_valid():
    """Rejects a sample size check stricter than ``n >= 1``."""
    assert critical_index([3.0, 1.0], 1) == 0  # r_0 = 4/3 >= 1
    assert bll_risk_bound([3.0, 1.0], 1, noise=1.0).k_star == 0


def test_critical_index_with_zero_eigenvalues():
    """A zero eigenvalue has an infinite r_k (its tail is zero): rejects a rank of 0 or
    ``None`` there, which would skip it or fail to compare."""
    assert critical_index([1.0, 0.0], 5) == 1  # r_0 = 1 < 5, r_1 = inf
    assert critical_index([0.0, 2.0, 0.0, 0.0], 3) == 1
    assert critical_index([0.0, 0.0], 1) == 0
    assert critical_index([1.0, 1.0, 0.0], 2) == 0  # r_0 = 2 on the threshold


# ---------------------------------------------------------------- bll_risk_bound


def test_bll_bound_terms_by_hand():
    """Each term by hand, with every argument away from 1 so that a dropped or inverted
    factor (c, signal**2, noise**2, lambda_1, log(1/delta)) shows.

    lam = (4, 1, 1, 1), n = 2: r_0 = 7/4, tails (7, 3, 2, 1) give r = (1.75, 3, 2, 1), so
    k* = 1 and R_1 = 9/3 = 3; with log(1/delta) = 1 the max is sqrt(r_0/n) = sqrt(0.875)."""
    c, signal, noise = 2.0, 3.0, 0.5
    got = bll_risk_bound(
        [1.0, 4.0, 1.0, 1.0], 2, noise=noise, signal=signal, delta=math.exp(-1.0), c=c
    )
    bias = c * signal**2 * 4.0 * math.sqrt(0.875)
    variance = c * 1.0 * noise**2 * (1 / 2 + 2 / 3)
    assert got.k_star == 1
    assert got.bias == pytest.approx(bias, rel=1e-12)
    assert got.variance == pytest.approx(variance, rel=1e-12)
    assert got.total == pytest.approx(bias + variance, rel=1e-12)


def test_bll_bias_takes_the_largest_of_its_three_terms():
    """Rejects a ``max`` that drops ``r_0/n`` (largest when r_0 > n) or ``sqrt(log(1/delta)/n)``
    (largest when log(1/delta) > r_0)."""
    # ten equal eigenvalues, n = 2: r_0 = 10, r_0 / n = 5 > sqrt(5); k* = 0, R_0 = 10
    got = bll_risk_bound(np.ones(10), 2, noise=1.0, delta=math.exp(-2.0))
    assert got.bias == pytest.approx(5.0, rel=1e-12)
    assert got.variance == pytest.approx(2.0 * (0 + 2 / 10), rel=1e-12)
    # one eigenvalue 3, n = 100: r_0 = 1, sqrt(log(1000) / 100) > sqrt(1/100) > 1/100
    got = bll_risk_bound([3.0], 100, noise=1.0, delta=1e-3)
    assert got.bias == pytest.approx(3.0 * math.sqrt(math.log(1000) / 100), rel=1e-12)
    assert got.k_star == 1 and math.isinf(got.variance) and math.isinf(got.total)


def test_bll_defaults_against_an_explicit_call():
    """Rejects defaults other than the documented signal = 1, delta = 0.05, b = 1, c = 1."""
    lam = np.ones(10)
    explicit = bll_risk_bound(lam, 10, noise=0.7, signal=1.0, delta=0.05, b=1.0, c=1.0)
    assert bll_risk_bound(lam, 10, noise=0.7) == explicit
    assert explicit.k_star == 0  # r_0 = 10 = b n; with b = 2 none would qualify
    assert explicit.variance == pytest.approx(math.log(20) * 0.49 * (10 / 10), rel=1e-12)


def test_bll_passes_b_to_the_critical_index():
    """Rejects a call of ``critical_index`` without ``b``: for (2, 1) and n = 1, b = 1 gives
    k* = 0 and b = 1.6 gives k* = p = 2 (infinite variance)."""
    assert bll_risk_bound([2.0, 1.0], 1, noise=1.0).k_star == 0
    got = bll_risk_bound([2.0, 1.0], 1, noise=1.0, b=1.6)
    assert got.k_star == 2 and math.isinf(got.variance)


def test_bll_zero_eigenvalues_give_a_finite_variance():
    """A spectrum (1, 0) with n = 5 has k* = 1 and R_1 = inf: the variance is
    log(1/delta) sigma^2 k*/n, finite."""
    got = bll_risk_bound([1.0, 0.0], 5, noise=2.0, delta=math.exp(-1.0))
    assert got.k_star == 1
    assert got.variance == pytest.approx(4.0 / 5, rel=1e-12)


def test_bll_delta_must_be_below_one():
    """Rejects ``delta > 1`` or ``delta >= 2`` for the documented open interval (0, 1), and a
    message without the name: delta = 1 (log(1/delta) = 0) and 1.5 are refused."""
    for delta, shown in ((1.0, r"1\.0"), (1.5, r"1\.5")):
        with pytest.raises(ValueError, match=rf"^delta must be in \(0, 1\), got {shown}$"):
            bll_risk_bound([1.0, 1.0], 2, noise=1.0, delta=delta)
    assert bll_risk_bound([1.0, 1.0], 2, noise=1.0, delta=0.999).variance > 0
