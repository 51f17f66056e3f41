"""Hessian-vector products, the top Hessian eigenvalue and Hutchinson's trace, the sharpness
callback, the output Jacobian and the stability thresholds of GD and SGD (chapter
edge_of_stability). Brute force: the full Hessian by ``torch.autograd.functional``, the
second-moment map of SGD by enumerating every sequence of samples."""

import itertools

import pytest
import torch
from torch.func import functional_call

import dlt
from dlt.curvature import (
    SharpnessCallback,
    full_hessian,
    output_jacobian,
    sgd_mean_square_rate,
    stability_thresholds,
)
from dlt.measure.hessian import hessian_trace, hvp, top_hessian_eigenvalue
from dlt.nets import MLP


def small_problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(10, 3, generator=g, dtype=torch.float64)
    y = torch.randn(10, generator=g, dtype=torch.float64)
    return MLP([3, 4, 1], activation="tanh", seed=seed, dtype=torch.float64), X, y


def full_hessian_brute(model, X, y):
    names = [k for k, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def f(v):
        parts = torch.split(v, sizes)
        p = {k: t.reshape(s) for k, t, s in zip(names, parts, shapes, strict=True)}
        out = functional_call(model, p, (X,))[:, 0]
        return 0.5 * ((out - y) ** 2).mean()

    return torch.autograd.functional.hessian(f, flat)


@pytest.mark.parametrize("seed", [0, 1])
def test_hvp_matches_the_full_hessian(seed):
    model, X, y = small_problem(seed)
    H = full_hessian_brute(model, X, y)
    v = torch.randn(H.shape[0], generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    assert torch.allclose(hvp(model, X, y, v), H @ v, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_top_eigenvalue_and_trace_match_the_full_hessian(seed):
    model, X, y = small_problem(seed)
    H = full_hessian_brute(model, X, y)
    evals = torch.linalg.eigvalsh(H)
    top = top_hessian_eigenvalue(model, X, y, iters=1000, tol=1e-11)
    assert top.value == pytest.approx(
        float(evals.abs().max() * torch.sign(evals[evals.abs().argmax()])), rel=1e-6
    )
    assert torch.allclose(hvp(model, X, y, top.vector), top.value * top.vector, atol=1e-4)
    est = hessian_trace(model, X, y, samples=200, seed=1)
    off = H - torch.diag(torch.diag(H))
    std = float((2 * (off**2).sum() / 200) ** 0.5)  # the estimator's standard deviation
    assert abs(est - float(torch.trace(H))) < 4 * std


def test_trace_is_exact_for_a_diagonal_hessian_and_closed_form_linear_case():
    X = torch.diag(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    model = torch.nn.Linear(3, 1, bias=False).double()
    # H = X^T X / n = diag(1, 4, 9) / 3
    assert hessian_trace(model, X, torch.zeros(3, dtype=torch.float64), samples=1) == pytest.approx(
        14 / 3
    )
    top = top_hessian_eigenvalue(
        model, X, torch.zeros(3, dtype=torch.float64), iters=500, tol=1e-12
    )
    assert top.value == pytest.approx(3.0, rel=1e-8)


def test_sharpness_can_be_recorded_by_fit():
    model, X, y = small_problem()
    h = dlt.train.fit(
        model,
        X,
        y,
        lr=0.1,
        steps=20,
        record_every=10,
        progress=False,
        record={"sharpness": lambda m: top_hessian_eigenvalue(m, X, y, iters=200).value},
    )
    assert len(h["sharpness"]) == 3 and all(s > 0 for s in h["sharpness"])
    assert h["sharpness"][-1] == pytest.approx(
        top_hessian_eigenvalue(model, X, y, iters=200).value, rel=1e-4
    )


def test_bad_inputs_name_the_argument():
    model, X, y = small_problem()
    with pytest.raises(ValueError, match="v must have length"):
        hvp(model, X, y, torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="y must have 10 rows"):
        top_hessian_eigenvalue(model, X, y[:5])
    with pytest.raises(ValueError, match="samples"):
        hessian_trace(model, X, y, samples=0)
    with pytest.raises(TypeError, match="model"):
        hvp("net", X, y, torch.ones(3))
    with pytest.raises(ValueError, match="every"):
        SharpnessCallback(X, y, every=0)
    with pytest.raises(ValueError, match="X must be finite"):
        SharpnessCallback(X * float("nan"), y)
    with pytest.raises(ValueError, match="one output"):
        output_jacobian(MLP([3, 4, 2], seed=0, dtype=torch.float64), X)
    with pytest.raises(ValueError, match="G must have shape"):
        stability_thresholds(torch.ones(3))
    with pytest.raises(ValueError, match="G must have a non-zero"):
        stability_thresholds(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="lr must be > 0"):
        sgd_mean_square_rate(torch.ones(2, 3), -1.0)
    with pytest.raises(ValueError, match="G must be finite"):
        sgd_mean_square_rate(torch.tensor([[1.0, float("inf")]]), 1.0)


def test_full_hessian_and_output_jacobian_match_brute_force():
    model, X, y = small_problem(1)
    H = full_hessian(model, X, y)
    assert torch.allclose(H, full_hessian_brute(model, X, y), atol=1e-12)
    G = output_jacobian(model, X)
    rows = []
    for x in X:
        model.zero_grad()
        model(x[None])[0, 0].backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    assert torch.allclose(G, torch.stack(rows), atol=1e-12)
    assert torch.allclose(G @ G.T, dlt.ntk.empirical_ntk(model, X), atol=1e-10)
    # at a minimum that fits every sample the Hessian is G^T G / n (Gauss-Newton)
    with torch.no_grad():
        fitted = model(X)[:, 0]
    assert torch.allclose(full_hessian(model, X, fitted), G.T @ G / len(X), atol=1e-12)


def test_sharpness_callback_records_every_k_steps():
    model, X, y = small_problem()
    cb = SharpnessCallback(X, y, every=4, iters=50, tol=1e-9)
    dlt.train.fit(model, X, y, lr=0.2, steps=12, record_every=1, callback=cb, progress=False)
    assert cb.step == [0, 4, 8, 12]
    ref = top_hessian_eigenvalue(model, X, y, iters=1000, tol=1e-11).value
    assert cb.sharpness[-1] == pytest.approx(ref, rel=1e-5)
    # a linear model has a constant Hessian X^T X / n
    Xl = torch.diag(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    lin = torch.nn.Linear(3, 1, bias=False).double()
    cb = SharpnessCallback(Xl, torch.ones(3, dtype=torch.float64), every=2, iters=200, tol=1e-12)
    dlt.train.fit(
        lin,
        Xl,
        torch.ones(3, dtype=torch.float64),
        lr=0.1,
        steps=4,
        record_every=2,
        callback=cb,
        progress=False,
    )
    assert cb.sharpness == pytest.approx([3.0, 3.0, 3.0], rel=1e-8)


def second_moment_brute(G, lr, T):
    """E||delta_T||^2 summed over a basis of starts, by enumerating all n^T sample paths."""
    n, P = G.shape
    Ms = [torch.eye(P, dtype=G.dtype) - lr * torch.outer(g, g) for g in G]
    total = 0.0
    for path in itertools.product(range(n), repeat=T):
        A = torch.eye(P, dtype=G.dtype)
        for i in path:
            A = Ms[i] @ A
        total += float((A**2).sum())
    return total / n**T


def test_sgd_mean_square_rate_matches_enumeration():
    G = torch.tensor([[1.0, 0.3, 0.0], [0.2, -0.8, 0.5], [0.0, 0.4, 1.1]], dtype=torch.float64)
    for lr in (0.5, 1.2):
        rho = sgd_mean_square_rate(G, lr)
        # G is invertible: E||delta_T||^2 grows like rho^T; the ratio of successive T says so
        e4, e5, e6 = (second_moment_brute(G, lr, T) for T in (4, 5, 6))
        assert min(e5 / e4, e6 / e5) <= rho * 1.05 and max(e5 / e4, e6 / e5) >= rho * 0.8


def test_stability_thresholds_closed_forms_and_sandwich():
    # orthogonal rows of equal norm: every threshold but GD's is 2 / |g|^2
    t = stability_thresholds(2.0 * torch.eye(3, dtype=torch.float64))
    assert (t.sgd, t.trace, t.per_sample) == pytest.approx((0.5, 0.5, 0.5), rel=1e-5)
    assert t.gd == pytest.approx(1.5)  # H = 4 I / 3
    g = torch.Generator().manual_seed(0)
    for _ in range(30):
        G = torch.randn(4, 6, generator=g, dtype=torch.float64) * torch.rand(4, 1, generator=g)
        t = stability_thresholds(G, rtol=1e-8)
        assert t.per_sample <= t.sgd * (1 + 1e-6) and t.sgd <= t.trace * (1 + 1e-6)
        assert t.trace <= t.gd
        assert sgd_mean_square_rate(G, 0.99 * t.sgd) <= 1 < sgd_mean_square_rate(G, 1.01 * t.sgd)


def test_linearized_sgd_is_stable_below_the_threshold_and_not_above():
    g = torch.Generator().manual_seed(1)
    G = torch.randn(5, 8, generator=g, dtype=torch.float64)
    eta = stability_thresholds(G).sgd
    delta0 = torch.randn(2000, 8, generator=g, dtype=torch.float64)
    for factor, grows in ((0.8, False), (1.25, True)):
        d = delta0.clone()
        for _ in range(300):
            i = torch.randint(0, 5, (2000,), generator=g)
            gi = G[i]
            d = d - factor * eta * gi * (gi * d).sum(1, keepdim=True)
        ratio = float((d**2).sum(1).mean() / (delta0**2).sum(1).mean())
        assert (ratio > 10) if grows else (ratio < 1)


def test_kernel_stable_lr_closed_form_and_the_edge_of_kernel_descent():
    theta = torch.diag(torch.tensor([4.0, 1.0, 0.5], dtype=torch.float64))
    assert dlt.curvature.kernel_stable_lr(theta) == pytest.approx(3 / 4)  # n / lambda_max
    assert dlt.curvature.kernel_stable_lr(theta, fraction=1.0) == pytest.approx(3 / 2)
    # a rotated kernel: the residual of gradient descent stays bounded just below 2n/lambda_max
    # and blows up just above it
    g = torch.Generator().manual_seed(0)
    a = torch.randn(6, 4, generator=g, dtype=torch.float64)
    k = a @ a.T
    y, f0 = torch.randn(6, generator=g, dtype=torch.float64), torch.zeros(6, dtype=torch.float64)
    top = dlt.curvature.kernel_stable_lr(k, fraction=1.0)
    assert top == pytest.approx(2 * 6 / float(torch.linalg.eigvalsh(k)[-1]))
    for frac, stable in [(0.98, True), (1.02, False)]:
        f, _ = dlt.kernels.kernel_gd_dynamics(k, k, y, f0, f0, 3000, lr=frac * top)
        assert (float((f[0] - y).norm()) <= float(y.norm())) == stable
    with pytest.raises(ValueError, match="fraction"):
        dlt.curvature.kernel_stable_lr(theta, fraction=1.5)
    with pytest.raises(ValueError, match="theta"):
        dlt.curvature.kernel_stable_lr(torch.zeros(2, 2))


def test_bisect_threshold_finds_gradient_descents_divergence_step():
    # gradient descent on (lam/2) x^2 diverges iff lr > 2/lam: the bisection must find 2/lam
    lam = 3.7

    def diverges(lr):
        x = 1.0
        for _ in range(200):
            x -= lr * lam * x
        return abs(x) > 1.0

    c = dlt.curvature.bisect_threshold(diverges, 0.1, 1.0, tol=1e-4)
    assert abs(c - 2 / lam) <= 0.5e-4
    calls = []
    dlt.curvature.bisect_threshold(lambda c: calls.append(c) or c > 0.5, 0.0, 1.0, tol=0.01)
    assert len(calls) == 7  # ceil(log2(1 / 0.01))
    with pytest.raises(ValueError, match="lo must be below hi"):
        dlt.curvature.bisect_threshold(diverges, 1.0, 0.5)
    with pytest.raises(ValueError, match="tol"):
        dlt.curvature.bisect_threshold(diverges, 0.0, 1.0, tol=0.0)
