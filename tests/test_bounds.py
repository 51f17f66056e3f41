"""dlt.theory.bounds against closed forms, a root finder and hand-computed values."""

import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from dlt import generalization_measures as gm


def T(v):
    return torch.tensor(v, dtype=torch.float64)


def _kl(q, p):
    a = q * math.log(q / p) if q > 0 else 0.0
    b = (1 - q) * math.log((1 - q) / (1 - p)) if q < 1 else 0.0
    return a + b


@pytest.mark.parametrize(("q", "p"), [(0.1, 0.5), (0.0, 0.3), (1.0, 0.9), (0.25, 0.01)])
def test_kl_matches_the_formula(q, p):
    assert float(gm.kl(T(q), T(p))) == pytest.approx(_kl(q, p), rel=1e-12)


def test_kl_is_zero_on_the_diagonal_and_infinite_at_the_ends():
    q = torch.linspace(0, 1, 11, dtype=torch.float64)
    assert torch.all(gm.kl(q, q) == 0)
    assert math.isinf(float(gm.kl(0.3, 1.0))) and math.isinf(float(gm.kl(0.3, 0.0)))


@pytest.mark.parametrize(("q", "c"), [(0.01, 0.05), (0.2, 0.3), (0.5, 0.01), (0.9, 0.2)])
def test_kl_inverse_agrees_with_a_root_finder(q, c):
    want = brentq(lambda p: _kl(q, p) - c, q, 1 - 1e-15, xtol=1e-15)
    assert float(gm.kl_inverse(T(q), c)) == pytest.approx(want, abs=1e-10)


def test_kl_inverse_closed_cases_and_pinsker():
    c = torch.tensor([0.0, 0.1, 1.0, 5.0], dtype=torch.float64)
    assert torch.allclose(gm.kl_inverse(0.0, c), 1 - torch.exp(-c), atol=1e-14)
    q = torch.tensor([0.0, 0.001, 0.2, 0.5, 0.7, 1.0], dtype=torch.float64)
    assert torch.equal(gm.kl_inverse(q, 0.0), q)
    assert torch.all(gm.kl_inverse(q, 0.3) <= q + math.sqrt(0.3 / 2) + 1e-12)
    assert float(gm.kl_inverse(1.0, 2.0)) == 1.0


def test_kl_inverse_broadcasts_and_keeps_dtype():
    out = gm.kl_inverse(torch.tensor([0.1, 0.2], dtype=torch.float32), torch.tensor([[0.1], [0.2]]))
    assert out.shape == (2, 2) and out.dtype == torch.float32


def test_gaussian_kl_isotropic_closed_form_and_brute_force():
    g = torch.Generator().manual_seed(0)
    mq, mp = (
        torch.randn(7, generator=g, dtype=torch.float64),
        torch.randn(7, generator=g, dtype=torch.float64),
    )
    sq, sp = 0.3, 0.8
    D = 7
    want = 0.5 * (
        D * sq**2 / sp**2 + float(((mq - mp) ** 2).sum()) / sp**2 - D + 2 * D * math.log(sp / sq)
    )
    assert float(gm.gaussian_kl(mq, mp, sq, sp)) == pytest.approx(want, rel=1e-12)
    # per-coordinate scales against torch.distributions
    s1 = torch.rand(7, generator=g, dtype=torch.float64) + 0.1
    s2 = torch.rand(7, generator=g, dtype=torch.float64) + 0.1
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mq, s1), torch.distributions.Normal(mp, s2)
    ).sum()
    assert float(gm.gaussian_kl(mq, mp, s1, s2)) == pytest.approx(float(ref), rel=1e-12)
    assert float(gm.gaussian_kl(mq, mq, 0.5, 0.5)) == 0.0


def test_mc_error_bound_zero_error_closed_form():
    # kl(0 || p) = -ln(1 - p) = ln(2/delta)/m  =>  p = 1 - (delta/2)^(1/m)
    assert float(gm.mc_error_bound(T(0.0), 50, 0.01)) == pytest.approx(
        1 - 0.005 ** (1 / 50), abs=1e-12
    )
    assert float(gm.mc_error_bound(0.1, 10**6, 0.01)) == pytest.approx(0.1, abs=2e-3)


def test_pac_bayes_kl_bound_by_hand():
    n, delta, kl, e = 5000, 0.05, 120.0, 0.03
    c = (kl + math.log(2 * math.sqrt(n) / delta)) / n
    want = brentq(lambda p: _kl(e, p) - c, e, 1 - 1e-12, xtol=1e-14)
    assert float(gm.pac_bayes_kl_bound(T(e), kl, n, delta)) == pytest.approx(want, abs=1e-10)


def test_pac_bayes_bound_union_over_the_grids():
    errors = torch.tensor([0.0, 0.02, 0.3], dtype=torch.float64)
    kls = torch.tensor([[900.0, 300.0, 10.0], [700.0, 150.0, 5.0]], dtype=torch.float64)
    n, m, delta, delta_mc = 4000, 40, 0.025, 0.01
    r = gm.pac_bayes_bound(errors, kls, n, m, delta=delta, delta_mc=delta_mc)
    brute = np.zeros((2, 3))
    for i in range(2):
        for j in range(3):
            e = float(gm.kl_inverse(errors[j], math.log(2 * 3 / delta_mc) / m))
            brute[i, j] = float(
                gm.kl_inverse(e, (kls[i, j] + math.log(2 * 2 * math.sqrt(n) / delta)) / n)
            )
    assert np.allclose(r.bounds.numpy(), brute, atol=1e-12)
    i, j = np.unravel_index(brute.argmin(), brute.shape)
    assert (r.prior, r.posterior) == (i, j) and float(r.bound) == pytest.approx(brute.min())
    want = [float(gm.kl_inverse(e, math.log(2 * 3 / delta_mc) / m)) for e in errors]
    assert r.train_bounds.tolist() == pytest.approx(want)
    assert float(r.complexity) == pytest.approx(
        (kls[i, j] + math.log(4 * math.sqrt(n) / delta)) / n
    )
    # a grid of one costs nothing: the single bound with both deltas
    one = gm.pac_bayes_bound(errors[:1], kls[:1, :1], n, m, delta=delta, delta_mc=delta_mc)
    e = gm.mc_error_bound(errors[0], m, delta_mc)
    assert float(one.bound) == pytest.approx(float(gm.pac_bayes_kl_bound(e, kls[0, 0], n, delta)))


def test_vc_bound_by_hand_and_shattering():
    d, n = 100, 10_000
    want = (
        0.01 + math.sqrt(2 * d * math.log(math.e * n / d) / n) + math.sqrt(math.log(20) / (2 * n))
    )
    assert gm.vc_bound(0.01, d, n, 0.05) == pytest.approx(want)
    assert math.isinf(gm.vc_bound(0.0, 500, 100, 0.05))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: gm.kl(1.5, 0.5), "q must lie in"),
        (lambda: gm.kl(0.5, -0.1), "p must lie in"),
        (lambda: gm.kl_inverse(0.1, -1.0), "c must be >= 0"),
        (lambda: gm.kl_inverse(float("nan"), 1.0), "q must be finite"),
        (lambda: gm.kl_inverse(0.1, 1.0, iters=0), "iters"),
        (lambda: gm.gaussian_kl(torch.zeros(3), torch.zeros(4), 1.0, 1.0), "mean_p"),
        (lambda: gm.gaussian_kl(torch.zeros(3), torch.zeros(3), 0.0, 1.0), "sigma_q must be > 0"),
        (lambda: gm.gaussian_kl(torch.zeros(3), torch.zeros(3), 1.0, torch.ones(2)), "sigma_p"),
        (lambda: gm.mc_error_bound(0.1, 10, 1.0), "delta"),
        (lambda: gm.pac_bayes_kl_bound(0.1, -1.0, 100, 0.05), "kl_divergence"),
        (lambda: gm.pac_bayes_bound(torch.zeros(3), torch.zeros(2, 2), 100, 10), "kl_divergences"),
        (
            lambda: gm.pac_bayes_bound(torch.zeros(2), torch.zeros(2, 2), 100, 10, delta_mc=0),
            "delta_mc",
        ),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
