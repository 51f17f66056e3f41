"""Minibatch SGD on Gaussian linear regression: the exact risk against brute force and Monte
Carlo, steps to a target, the hyperbola fit, the noise scales against per-example gradients."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from dlt import scaling
from dlt.train import fit

LAM = 1.0 / torch.arange(1, 21, dtype=torch.float64)


def brute_force_risk(lam, m0, noise, b, eta, steps):
    """The full second-moment matrix M <- E[(I - eta H_B) M (I - eta H_B)] + eta^2 sigma^2 H / B."""
    h = torch.diag(lam)
    m = torch.diag(m0)
    out = [0.5 * float(torch.trace(h @ m))]
    for _ in range(steps):
        hmh = h @ m @ h
        fourth = 2 * hmh + torch.trace(h @ m) * h  # E[x x^T M x x^T], Gaussian x
        e_hbmhb = (fourth + (b - 1) * hmh) / b
        m = m - eta * (h @ m + m @ h) + eta**2 * e_hbmhb + eta**2 * noise**2 * h / b
        out.append(0.5 * float(torch.trace(h @ m)))
    return out


def test_recursion_equals_the_full_second_moment_matrix():
    r = scaling.sgd_risk(LAM, LAM, noise=0.3, batch_size=[1, 3], lr=[0.2, 0.9], steps=15)
    for i, b in enumerate([1, 3]):
        for j, eta in enumerate([0.2, 0.9]):
            ref = brute_force_risk(LAM, LAM, 0.3, b, eta, 15)
            assert np.allclose(r[i, j].numpy(), ref, rtol=1e-12)


def test_gd_limit_and_noise_floor():
    # a huge batch is gradient descent: R_t = 1/2 sum lam m0 (1 - eta lam)^(2t)
    r = scaling.sgd_risk(LAM, LAM, noise=0.0, batch_size=10**9, lr=0.5, steps=10)[0, 0]
    gd = 0.5 * (LAM * LAM * (1 - 0.5 * LAM) ** 20).sum()
    assert math.isclose(float(r[-1]), float(gd), rel_tol=1e-7)
    # one coordinate, stationary risk: m = eta^2 s^2 l / B / (1 - (1 - eta l)^2 - eta^2 * 2 l^2 / B)
    lam, eta, b, s = 0.5, 0.4, 2, 0.7
    m_inf = eta**2 * s**2 * lam / b / (1 - (1 - eta * lam) ** 2 - 2 * eta**2 * lam**2 / b)
    one = torch.ones(1, dtype=torch.float64)
    r = scaling.sgd_risk(lam * one, 0 * one, noise=s, batch_size=b, lr=eta, steps=400)[0, 0]
    assert math.isclose(float(r[-1]), 0.5 * lam * m_inf, rel_tol=1e-10)


def test_recursion_agrees_with_monte_carlo_sgd():
    """Online SGD through dlt.train.fit, 16 seeds: the mean risk within 4 standard errors."""
    d, noise, b, eta, steps = 20, 0.3, 4, 0.6, 30
    exact = float(
        scaling.sgd_risk(LAM, LAM, noise=noise, batch_size=b, lr=eta, steps=steps)[0, 0, -1]
    )
    vals = []
    for s in range(16):
        w_star = torch.randn(d, generator=torch.Generator().manual_seed(s), dtype=torch.float64)
        w_star = w_star * LAM.sqrt()
        X, y = scaling.gaussian_linear_regression(
            steps * b, LAM, w_star, noise=noise, seed=100 + s, dtype=torch.float64
        )
        model = nn.Linear(d, 1, bias=False).double()
        nn.init.zeros_(model.weight)
        fit(model, X, y, lr=eta, steps=steps, batch_size=b, seed=s)
        vals.append(float(0.5 * (((model.weight[0].detach() - w_star) ** 2) * LAM).sum()))
    v = np.asarray(vals)
    se = v.std(ddof=1) / math.sqrt(len(v))
    assert abs(v.mean() - exact) < 4 * se


def test_steps_to_target_is_the_first_hitting_time_of_the_best_lr():
    lrs = [0.1, 0.5, 1.5]
    res = scaling.steps_to_target(
        LAM, LAM, noise=0.2, batch_sizes=[1, 16], lrs=lrs, targets=[0.3, 0.1], max_steps=2000
    )
    risk = scaling.sgd_risk(LAM, LAM, noise=0.2, batch_size=[1, 16], lr=lrs, steps=2000)
    r0 = float(risk[0, 0, 0])
    for k, tg in enumerate([0.3, 0.1]):
        for j in range(2):
            hits = [
                int(np.argmax(risk[j, i].numpy() <= tg * r0))
                if (risk[j, i] <= tg * r0).any()
                else math.inf
                for i in range(3)
            ]
            assert res.steps[k, j] == min(hits)
            assert float(res.lr[k, j]) == lrs[int(np.argmin(hits))]
    assert torch.equal(res.examples, res.steps * res.batch_sizes)


def test_steps_to_target_unreachable_is_inf():
    # a tiny learning rate cannot reach the target in 5 steps
    res = scaling.steps_to_target(
        LAM, LAM, noise=0.0, batch_sizes=[1], lrs=[1e-4], targets=[0.5], max_steps=5
    )
    assert math.isinf(res.steps[0, 0]) and math.isnan(res.lr[0, 0])


def test_fit_recovers_a_noisy_hyperbola():
    b = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256])
    rng = np.random.default_rng(0)
    s = 7.0 * (1 + 30.0 / b) * np.exp(0.02 * rng.standard_normal(len(b)))
    f = scaling.fit_critical_batch(b.tolist(), s.tolist())
    assert abs(f.b_crit / 30 - 1) < 0.1 and abs(f.s_min / 7 - 1) < 0.1
    assert f.rms_log_error < 0.03
    assert math.isclose(f.e_min, f.s_min * f.b_crit)
    # unreached points are left out
    g = scaling.fit_critical_batch([1, 2, 4, 8], [math.inf, 7 * 5, 7 * 3, 7 * 2])
    assert math.isclose(g.b_crit, 8.0, rel_tol=1e-4)


def test_noise_scales_equal_per_example_gradient_statistics():
    """B_simple and B_noise against the covariance of 400,000 per-example gradients."""
    lam = torch.tensor([1.0, 0.3, 0.1], dtype=torch.float64)
    e = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400_000, 3, generator=g, dtype=torch.float64) * lam.sqrt()
    eps = 0.4 * torch.randn(400_000, generator=g, dtype=torch.float64)
    grads = x * (x @ e - eps)[:, None]
    G, cov = grads.mean(0), torch.cov(grads.T)
    h = torch.diag(lam)
    b_simple = float(torch.trace(cov) / (G @ G))
    b_noise = float(torch.trace(h @ cov) / (G @ h @ G))
    s = scaling.gradient_noise_scales(lam, e**2, noise=0.4)
    assert math.isclose(float(s.b_simple), b_simple, rel_tol=0.02)
    assert math.isclose(float(s.b_noise), b_noise, rel_tol=0.02)


def test_data_has_the_asked_spectrum_and_teacher():
    X, y = scaling.gaussian_linear_regression(50_000, [2.0, 0.5], [1.0, -2.0], noise=0.1, seed=3)
    assert X.shape == (50_000, 2) and y.shape == (50_000,)
    w = torch.linalg.lstsq(X.double(), y.double()[:, None]).solution[:, 0]
    assert torch.allclose(w, torch.tensor([1.0, -2.0], dtype=torch.float64), atol=0.01)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(eigenvalues=[1.0, -1.0]), "eigenvalues"),
        (dict(init=[1.0]), "init"),
        (dict(init=[1.0, -1.0]), "init"),
        (dict(batch_size=0), "batch_size"),
        (dict(batch_size=[]), "batch_size"),
        (dict(lr=0.0), "lr"),
        (dict(init=[1.0, float("nan")]), "init"),
    ],
)
def test_sgd_risk_names_the_bad_argument(kwargs, match):
    args = dict(eigenvalues=[1.0, 0.5], init=[1.0, 1.0], noise=0.1, batch_size=1, lr=0.1, steps=2)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        scaling.sgd_risk(**args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(targets=[1.5]), "targets"),
        (dict(targets=[0.0]), "targets"),
        (dict(lrs=[-0.1]), "lrs"),
        (dict(batch_sizes=[1.5]), "batch_sizes"),
    ],
)
def test_steps_to_target_names_the_bad_argument(kwargs, match):
    args = dict(
        eigenvalues=[1.0, 0.5],
        init=[1.0, 1.0],
        noise=0.1,
        batch_sizes=[1],
        lrs=[0.1],
        targets=[0.5],
    )
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        scaling.steps_to_target(**args)


def test_fit_and_noise_scales_name_the_bad_argument():
    with pytest.raises(ValueError, match="steps"):
        scaling.fit_critical_batch([1, 2, 4], [1.0, 2.0])
    with pytest.raises(ValueError, match="steps"):
        scaling.fit_critical_batch([1, 2, 4], [1.0, math.inf, math.inf])
    with pytest.raises(ValueError, match="batch_sizes"):
        scaling.fit_critical_batch([1, -2, 4], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="second_moments"):
        scaling.gradient_noise_scales([1.0, 0.5], [1.0, 1.0, 1.0], noise=0.1)
    with pytest.raises(ValueError, match="second_moments"):
        scaling.gradient_noise_scales([1.0, 0.5], [0.0, 0.0], noise=0.1)
    with pytest.raises(ValueError, match="w_star"):
        scaling.gaussian_linear_regression(5, [1.0, 0.5], [1.0])


def test_fit_stops_when_asked():
    X, y = torch.randn(16, 2), torch.randn(16)
    h = fit(
        nn.Linear(2, 1), X, y, lr=0.1, steps=100, record_every=1, stop=lambda h: h.step[-1] >= 7
    )
    assert h.step[-1] == 7 and len(h.step) == 8
