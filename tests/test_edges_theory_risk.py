"""Edges of the promises of ``dlt.theory.risk`` (Hastie et al. 2022): the interpolation peak
at gamma = 1 with and without noise, zero signal or noise in the optimal ridge risk, the
defaults, the result's type and dtype (the survivors of ``tools/mutation.py``)."""

import math
import warnings

import numpy as np
import pytest

from dlt.theory.risk import asymptotic_risk_isotropic, mp_stieltjes, optimal_ridge_risk

# ---------------------------------------------------------------- mp_stieltjes, the result


def test_mp_stieltjes_refuses_z_zero_by_name():
    """Rejects ``-z >= 0`` for the documented ``z < 0`` (at z = 0 the closed form divides by
    zero) and a message without the name."""
    for z in (0.0, -0.0, 1e-300, 2.0):
        with pytest.raises(ValueError, match=r"^z must be < 0, got "):
            mp_stieltjes(z, 1.0)
    assert mp_stieltjes(-1e-8, 0.5) == pytest.approx(1 / (1 - 0.5), rel=1e-6)  # m(0-) = 1/(1-g)


def test_scalar_gamma_gives_a_python_float_and_arrays_float64():
    """Rejects a 0-d array for a scalar ``gamma`` (documented: a float) and a computation in
    the input's dtype: float32 or integer ``gamma`` still gives float64."""
    for value in (
        mp_stieltjes(-1.0, 1.0),
        asymptotic_risk_isotropic(0.5),
        asymptotic_risk_isotropic(0.5, lam=0.1),
        optimal_ridge_risk(0.5),
        optimal_ridge_risk(2, noise=0.0),
    ):
        assert type(value) is float
    g32 = np.array([0.5, 2.0], dtype=np.float32)
    for out in (
        mp_stieltjes(-1.0, g32),
        asymptotic_risk_isotropic(g32),
        asymptotic_risk_isotropic(g32, lam=0.3),
        optimal_ridge_risk(g32),
        optimal_ridge_risk(np.array([1, 2]), signal=0.0),
        optimal_ridge_risk([1, 2], noise=0.0),
    ):
        assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (2,)
    # at gamma = 1/3 in float32 the ridgeless variance g / (1 - g) = 1/2 is off by 1e-8
    got = asymptotic_risk_isotropic(np.array([1 / 3], dtype=np.float32))
    assert got[0] == pytest.approx(
        float(np.float32(1 / 3)) / (1 - float(np.float32(1 / 3))), rel=1e-14
    )


# ---------------------------------------------------------------- asymptotic_risk_isotropic


def test_ridgeless_peak_at_gamma_one_with_and_without_noise():
    """At gamma = 1 the ridgeless risk is inf with noise and 0 without (both sides tend to
    0 when sigma = 0): rejects an inf or 1 there without noise, or the over-parameterized
    formula (0/0 = nan) left in place; and the divisions by 1 - gamma raise no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert asymptotic_risk_isotropic(1.0) == math.inf
        assert asymptotic_risk_isotropic(1.0, signal=3.0, noise=0.5) == math.inf
        assert asymptotic_risk_isotropic(1.0, noise=0.0) == 0.0
        assert asymptotic_risk_isotropic(1.0, signal=2.0, noise=0.0) == 0.0
        got = asymptotic_risk_isotropic(np.array([0.5, 1.0, 2.0]), signal=2.0, noise=0.0)
    np.testing.assert_array_equal(got, [0.0, 0.0, 4.0 * (1 - 1 / 2)])


def test_ridgeless_risk_by_hand_away_from_one():
    """sigma^2 g/(1-g) below 1, r^2 (1 - 1/g) + sigma^2/(g - 1) above, with r and sigma away
    from 1: rejects a wrong power of the signal or noise."""
    assert asymptotic_risk_isotropic(0.25, signal=5.0, noise=2.0) == pytest.approx(4 / 3)
    assert asymptotic_risk_isotropic(2.0, signal=2.0, noise=0.0) == pytest.approx(2.0)
    assert asymptotic_risk_isotropic(4.0, signal=3.0, noise=0.5) == pytest.approx(
        9 * 0.75 + 0.25 / 3
    )


def test_asymptotic_risk_defaults_against_an_explicit_call():
    """Rejects defaults other than signal = 1, noise = 1, lam = 0 (each shows at gamma = 2)."""
    for g in (0.5, 2.0, np.array([0.5, 2.0, 3.0])):
        want = asymptotic_risk_isotropic(g, signal=1.0, noise=1.0, lam=0.0)
        np.testing.assert_array_equal(asymptotic_risk_isotropic(g), want)
    assert asymptotic_risk_isotropic(2.0) == pytest.approx(1.0 * (1 - 1 / 2) + 1.0 / (2 - 1))
    assert asymptotic_risk_isotropic(2.0, lam=0.5) == pytest.approx(
        asymptotic_risk_isotropic(2.0, signal=1.0, noise=1.0, lam=0.5), rel=1e-15
    )


# ---------------------------------------------------------------- optimal_ridge_risk


def test_optimal_ridge_risk_by_hand_at_gamma_one():
    """At gamma = 1, lambda* = sigma^2 / r^2: with r = 2, sigma = 1 it is 1/4 and
    m(-1/4) = (sqrt(17) - 1)/2, so R* = (sqrt(17) - 1)/2; rejects lambda* = g sigma^2 r^2
    (which would give (sqrt(2) - 1)/2)."""
    want = (math.sqrt(17) - 1) / 2
    assert optimal_ridge_risk(1.0, signal=2.0, noise=1.0) == pytest.approx(want, rel=1e-12)
    # and it is the ridge risk at lambda* = 1/4, the smallest over a grid of penalties
    assert asymptotic_risk_isotropic(1.0, signal=2.0, noise=1.0, lam=0.25) == pytest.approx(
        want, rel=1e-10
    )
    grid = [
        asymptotic_risk_isotropic(1.0, signal=2.0, noise=1.0, lam=s) for s in (0.1, 0.2, 0.3, 1)
    ]
    assert min(grid) > want


def test_optimal_ridge_risk_is_the_minimum_over_lambda():
    """Brute force: at several gamma, signal and noise (away from 1), R* equals the smallest
    ridge risk over a fine grid of penalties, up to the grid's resolution."""
    lams = np.geomspace(1e-3, 1e2, 2001)
    for g, r, s in ((0.5, 3.0, 0.5), (2.0, 0.5, 2.0), (1.0, 1.5, 0.7)):
        best = min(float(asymptotic_risk_isotropic(g, signal=r, noise=s, lam=x)) for x in lams)
        got = optimal_ridge_risk(g, signal=r, noise=s)
        assert got <= best + 1e-12
        assert got == pytest.approx(best, rel=1e-4)


def test_optimal_ridge_risk_without_noise_or_signal():
    """sigma = 0: r^2 (1 - 1/g)_+, zero for g <= 1 (rejects dropping the clip at 0) and
    r^2 (1 - 1/g) above (rejects a wrong power of r); r = 0: zero risk."""
    assert optimal_ridge_risk(0.5, signal=3.0, noise=0.0) == 0.0
    assert optimal_ridge_risk(2.0, signal=3.0, noise=0.0) == pytest.approx(4.5)
    got = optimal_ridge_risk(np.array([0.25, 1.0, 4.0]), signal=2.0, noise=0.0)
    np.testing.assert_allclose(got, [0.0, 0.0, 3.0], rtol=1e-15)
    assert optimal_ridge_risk(2.0, signal=0.0, noise=1.5) == 0.0
    np.testing.assert_array_equal(
        optimal_ridge_risk(np.array([0.5, 1.0, 2.0]), signal=0.0), np.zeros(3)
    )


def test_optimal_ridge_risk_defaults_against_an_explicit_call():
    """Rejects defaults other than signal = 1 and noise = 1."""
    for g in (0.5, 1.0, 2.0):
        assert optimal_ridge_risk(g) == optimal_ridge_risk(g, signal=1.0, noise=1.0)
    # gamma = 1, r = sigma = 1: lambda* = 1, m(-1) = (sqrt(5) - 1)/2
    assert optimal_ridge_risk(1.0) == pytest.approx((math.sqrt(5) - 1) / 2, rel=1e-12)
    assert optimal_ridge_risk(1.0, signal=2.0) != optimal_ridge_risk(1.0)
    assert optimal_ridge_risk(1.0, noise=2.0) != optimal_ridge_risk(1.0)
