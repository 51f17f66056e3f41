"""Max-margin programs, margins, logistic descent and diagonal networks (chapter implicit_bias)."""

import itertools
import math

import numpy as np
import pytest
import torch

import dlt
from dlt.implicit_bias import (
    DiagonalNet,
    diagonal_net_solution,
    diagonal_potential,
    logistic_descent,
    margin,
    max_margin_l2,
    max_margin_linf,
    max_margin_linf_spread,
    min_l1_interpolator,
)


def separable(n=12, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    Z = 0.3 * torch.randn(n, d, generator=g, dtype=torch.float64)
    Z[:, 0] += 1.0
    return Z


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_l2_max_margin_beats_every_direction_on_a_fine_grid(seed):
    Z = separable(seed=seed)[:, :2]
    m = max_margin_l2(Z)
    angles = torch.linspace(0, 2 * math.pi, 20001, dtype=torch.float64)
    W = torch.stack([angles.cos(), angles.sin()], 1)
    best = margin(W, Z).max()
    assert float(m.direction.norm()) == pytest.approx(1.0, abs=1e-12)
    assert float(m.margin) >= float(best) - 1e-9
    assert float(m.margin) == pytest.approx(float(best), abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linf_max_margin_beats_every_vertex_and_grid_point(seed):
    Z = separable(seed=seed)
    m = max_margin_linf(Z)
    grid = torch.linspace(-1, 1, 41, dtype=torch.float64)
    W = torch.tensor(list(itertools.product(grid.tolist(), repeat=3)), dtype=torch.float64)
    W = W[W.abs().amax(1) > 0]
    best = margin(W, Z, float("inf")).max()
    assert float(m.direction.abs().max()) == pytest.approx(1.0, abs=1e-12)
    assert float(m.margin) >= float(best) - 1e-9
    assert float(margin(m.direction, Z, float("inf"))) == pytest.approx(float(m.margin), abs=1e-12)


def test_known_two_point_cases():
    # Two points: the l2 max margin is the min-norm point of their segment.
    Z = torch.tensor([[1.0, 1.0], [1.0, -1.0]], dtype=torch.float64)
    m2, mi = max_margin_l2(Z), max_margin_linf(Z)
    assert m2.direction.tolist() == pytest.approx([1.0, 0.0], abs=1e-12)
    assert float(m2.margin) == pytest.approx(1.0)
    assert float(mi.margin) == pytest.approx(1.0)
    # One point: the l2 direction is the point itself; the l_inf direction is its sign.
    z = torch.tensor([[3.0, -1.0, 0.5]], dtype=torch.float64)
    assert max_margin_l2(z).direction.tolist() == pytest.approx((z[0] / z[0].norm()).tolist())
    assert max_margin_linf(z).direction.tolist() == pytest.approx([1.0, -1.0, 1.0])
    assert float(max_margin_linf(z).margin) == pytest.approx(4.5)


def test_not_separable_is_refused():
    Z = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    for f in (max_margin_l2, max_margin_linf):
        with pytest.raises(ValueError, match="not linearly separable"):
            f(Z)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="Z"):
        max_margin_l2(torch.ones(3))
    with pytest.raises(ValueError, match="Z must be finite"):
        max_margin_linf(torch.tensor([[1.0, float("nan")]]))
    with pytest.raises(ValueError, match="norm"):
        margin(torch.ones(2), torch.ones(3, 2), 0.5)
    with pytest.raises(ValueError, match="w must have 2 columns"):
        margin(torch.ones(3), torch.ones(3, 2))
    with pytest.raises(ValueError, match="y must have length 2"):
        min_l1_interpolator(torch.ones(2, 3), torch.ones(3))
    with pytest.raises(ValueError, match="alpha"):
        diagonal_potential(torch.ones(3), 0.0)
    with pytest.raises(ValueError, match="optimizer"):
        logistic_descent(torch.ones(2, 2), "lbfgs")
    with pytest.raises(ValueError, match="record"):
        logistic_descent(torch.ones(2, 2), steps=5, record=[10])
    with pytest.raises(ValueError, match="alpha"):
        DiagonalNet(3, -1.0)


def test_margin_is_scale_invariant_and_matches_definition():
    Z = separable()
    w = torch.tensor([1.0, -0.2, 0.4], dtype=torch.float64)
    for p in (1, 2, 3.5, float("inf")):
        expect = float((Z @ w).min() / torch.linalg.vector_norm(w, ord=p))
        assert float(margin(w, Z, p)) == pytest.approx(expect)
        assert float(margin(7 * w, Z, p)) == pytest.approx(expect)
    assert margin(torch.stack([w, 2 * w]), Z).shape == (2,)


def test_min_l1_interpolator_recovers_a_sparse_vector_and_beats_brute_force():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(3, 5, generator=g, dtype=torch.float64)
    y = torch.randn(3, generator=g, dtype=torch.float64)
    w = min_l1_interpolator(X, y)
    assert torch.allclose(X @ w, y, atol=1e-9)
    # brute force: an l1 minimizer sits on a basic solution (3 of the 5 columns)
    best = min(
        float(torch.linalg.solve(X[:, list(c)], y).abs().sum())
        for c in itertools.combinations(range(5), 3)
        if abs(float(torch.linalg.det(X[:, list(c)]))) > 1e-10
    )
    assert float(w.abs().sum()) == pytest.approx(best, rel=1e-8)
    X = torch.randn(20, 50, generator=g, dtype=torch.float64)
    w_star = torch.zeros(50, dtype=torch.float64)
    w_star[[3, 17]] = torch.tensor([1.0, -2.0], dtype=torch.float64)
    assert torch.allclose(min_l1_interpolator(X, X @ w_star), w_star, atol=1e-8)


def test_potential_closed_form_gradient_and_limits():
    w = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)
    for alpha in (0.1, 1.0, 3.0):
        (grad,) = torch.autograd.grad(diagonal_potential(w, alpha), w)
        assert torch.allclose(grad, torch.asinh(w.detach() / (2 * alpha**2)))
    v = w.detach()
    # alpha -> infinity: Q ~ |w|^2 / (4 alpha^2); alpha -> 0: Q ~ |w|_1 log(1/alpha^2)
    big = float(diagonal_potential(v, 1e3)) * 4e6
    assert big == pytest.approx(float((v**2).sum()), rel=1e-6)
    a = 1e-6
    small = float(diagonal_potential(v, a)) / math.log(1 / a**2)
    assert small == pytest.approx(float(v.abs().sum()), rel=0.05)


@pytest.mark.parametrize("alpha", [0.05, 1.0, 20.0])
def test_diagonal_solution_is_feasible_and_minimizes_the_potential(alpha):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(6, 15, generator=g, dtype=torch.float64)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    w = diagonal_net_solution(X, y, alpha)
    assert torch.allclose(X @ w, y, atol=1e-8)
    q = float(diagonal_potential(w, alpha))
    null = torch.linalg.svd(X).Vh[6:]  # feasible directions
    for _ in range(20):
        d = null.T @ torch.randn(9, generator=g, dtype=torch.float64)
        for s in (1e-3, 1e-1):
            assert float(diagonal_potential(w + s * d, alpha)) >= q - 1e-10


def test_diagonal_solution_limits_l1_and_l2():
    g = torch.Generator().manual_seed(2)
    X = torch.randn(8, 30, generator=g, dtype=torch.float64)
    w_star = torch.zeros(30, dtype=torch.float64)
    w_star[:2] = torch.tensor([1.0, -1.0], dtype=torch.float64)
    y = X @ w_star
    l2 = X.T @ torch.linalg.solve(X @ X.T, y)
    assert torch.allclose(diagonal_net_solution(X, y, 100.0), l2, atol=1e-6)
    l1 = min_l1_interpolator(X, y)
    gaps = [float((diagonal_net_solution(X, y, a) - l1).norm()) for a in (1e-2, 1e-4, 1e-8)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.05  # slowly, like 1/log(1/alpha)


def test_gradient_flow_of_a_diagonal_net_reaches_the_potential_minimizer():
    g = torch.Generator().manual_seed(3)
    X = torch.randn(5, 12, generator=g, dtype=torch.float64)
    y = torch.randn(5, generator=g, dtype=torch.float64)
    net = DiagonalNet(12, 0.5, dtype=torch.float64)
    dlt.train.fit(net, X, y, optimizer="sgd", lr=0.005, steps=6000, progress=False)
    w = diagonal_net_solution(X, y, 0.5)
    assert float((net.w - w).norm() / w.norm()) < 5e-3


@pytest.mark.parametrize(
    ("name", "opt", "kw"), [("gd", torch.optim.SGD, {}), ("adam", torch.optim.Adam, {"eps": 1e-8})]
)
def test_logistic_descent_takes_the_steps_of_fit(name, opt, kw):
    Z = separable(n=10, d=4)
    lr = 0.5 if name == "gd" else 0.05
    path = logistic_descent(Z, name, lr=lr, steps=200, eps=kw.get("eps", 0.0), record=[200])
    model = torch.nn.Linear(4, 1, bias=False).double()
    torch.nn.init.zeros_(model.weight)
    dlt.train.fit(
        model,
        Z,
        torch.ones(10, dtype=torch.float64),
        loss="logistic",
        optimizer=lambda p: opt(p, lr=lr, **kw),
        steps=200,
        progress=False,
    )
    assert torch.allclose(path.w[-1], model.weight.detach()[0], atol=1e-10)


def test_sign_descent_closed_form_and_gd_direction():
    Z = torch.tensor([[2.0, 0.5], [1.0, 0.1]], dtype=torch.float64)  # gradient signs stay (-, -)
    p = logistic_descent(Z, "sign", lr=0.1, steps=3, record=[1, 2, 3])
    assert np.allclose(p.w.numpy(), [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]])
    Z = separable(seed=4)
    gd = logistic_descent(Z, "gd", lr=1.0, steps=20000, record=[20000])
    cos = float(gd.w[-1] @ max_margin_l2(Z).direction / gd.w[-1].norm())
    assert cos > 0.97
    assert np.all(np.diff(gd.loss.numpy()) <= 0)


def _reference_descent(Z, optimizer, lr, steps, eps=0.0, decay=0.0, betas=(0.9, 0.999)):
    """The loop again with torch's float64 sigmoid (no cancellation) and torch's own Adam."""
    w = torch.zeros(Z.shape[1], dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([w], lr=lr, eps=eps, betas=betas)
    for t in range(steps):
        eta = lr / (t + 1) ** decay
        g = -(Z.T @ torch.sigmoid(-(Z @ w.detach()))) / len(Z)
        if optimizer == "adam":
            for group in adam.param_groups:
                group["lr"] = eta
            w.grad = g
            adam.step()
        else:
            with torch.no_grad():
                w -= eta * (g if optimizer == "gd" else torch.sign(g))
    return w.detach()


def test_sigmoid_of_minus_is_relative_accurate_at_large_margins():
    from dlt.train.linear import _sigmoid_of_minus

    m = np.array([-800.0, -40.0, -1.0, 0.0, 1.0, 37.0, 40.0, 300.0, 700.0])
    ref = np.array([1 / (1 + math.exp(v)) if v < 700 else math.exp(-v) for v in m])
    assert np.all(_sigmoid_of_minus(m) > 0)
    assert np.allclose(_sigmoid_of_minus(m), ref, rtol=1e-14, atol=0)
    assert 0.5 * (1 - np.tanh(20.0)) == 0.0  # the cancelling form loses the whole value at 40


@pytest.mark.parametrize(
    ("optimizer", "lr", "kw"),
    [("sign", 0.05, {}), ("adam", 0.05, {"betas": (0.9, 0.9)}), ("gd", 5.0, {})],
)
def test_logistic_descent_matches_an_accurate_reference_past_margin_40(optimizer, lr, kw):
    Z = separable(n=10, d=4)
    if optimizer == "adam":  # positive rows: no coordinate's gradient changes sign, so Adam's
        Z = Z.abs()  # m / sqrt(v) does not amplify rounding as it does in a sign-flipping one
    steps = 3000
    path = logistic_descent(Z, optimizer, lr=lr, steps=steps, record=[steps], **kw)
    ref = _reference_descent(Z, optimizer, lr, steps, **kw)
    if optimizer != "gd":  # gradient descent's margins grow like log t: they stay small
        assert float((Z @ ref).min()) > 40
    assert torch.allclose(path.w[-1], ref, rtol=1e-10, atol=0)


def test_sign_descent_keeps_moving_after_the_margins_pass_40():
    Z = separable(n=10, d=4)
    p = logistic_descent(Z, "sign", lr=0.05, steps=4000, record=[2000, 3000, 4000])
    margins = Z @ p.w.T  # (n, 3)
    assert float(margins[:, 0].min()) > 40
    moves = np.abs(np.diff(p.w.numpy(), axis=0))  # over 1000 steps of size 0.05
    assert np.allclose(moves.max(axis=1), 0.05 * 1000)  # a coordinate moves at every step
    assert float(p.loss[2]) < float(p.loss[1]) < float(p.loss[0])


def test_max_margin_linf_spread_brute_force():
    # unique: the docstring's pair; not unique: a face where w_2 and w_3 trade off
    assert float(max_margin_linf_spread(torch.tensor([[1.0, 1.0], [1.0, -0.5]])).max()) < 1e-6
    Z = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.5, 0.5]], dtype=torch.float64)
    spread = max_margin_linf_spread(Z)  # gamma = 1 at w_1 = 1 with w_2 + w_3 >= 0, |w_j| <= 1
    assert abs(float(spread[0])) < 1e-6
    assert torch.allclose(spread[1:], torch.tensor([2.0, 2.0], dtype=torch.float64), atol=1e-6)
    # brute force on a grid: the maximizers of min_i z_i.w over the cube agree with the spread
    Z = separable(n=6, d=3, seed=3)
    g = torch.linspace(-1, 1, 201, dtype=torch.float64)
    W = torch.cartesian_prod(g, g, g)
    m = (W @ Z.T).min(1).values
    best = W[m >= m.max() - 1e-3]
    assert float((best.max(0).values - best.min(0).values).max()) < 0.1
    assert float(max_margin_linf_spread(Z).max()) < 1e-6
    with pytest.raises(ValueError, match="slack"):
        max_margin_linf_spread(Z, slack=0.5)


def test_scaled_gradient_past_float64_underflow():
    from decimal import Decimal, getcontext

    from dlt.train.linear import _scaled_gradient

    getcontext().prec = 40
    Z = separable(n=6, d=3, seed=5).numpy()
    for scale in (0.0, 30.0, 2000.0):  # margins 0; about 10-60; far past exp's underflow at 745
        w = np.array([1.0, 0.2, -0.1]) * scale
        g, shift = _scaled_gradient(Z, w)
        margins = [
            sum(Decimal(float(a)) * Decimal(float(b)) for a, b in zip(row, w, strict=True))
            for row in Z
        ]
        sig = [1 / (1 + m.exp()) for m in margins]  # exact sigma(-m) in 40 digits
        for j in range(3):
            exact = -sum(Decimal(float(Z[i, j])) * sig[i] for i in range(6)) / 6
            scaled = exact * Decimal(shift).exp()  # what g should hold: e^shift * gradient
            size = sum(abs(Decimal(float(Z[i, j]))) * sig[i] for i in range(6)) / 6
            size = size * Decimal(shift).exp()  # rounding is relative to the sum of |terms|,
            cond = 1 + max(abs(m) for m in margins)  # and to exp's condition number, |m|
            assert abs(Decimal(float(g[j])) - scaled) <= Decimal(1e-15) * cond * size
    p = logistic_descent(torch.as_tensor(Z), "sign", lr=5.0, steps=1200, record=[600, 1200])
    assert float((torch.as_tensor(Z) @ p.w[0]).min()) > 800  # every sigma(-m) underflows
    assert float((p.w[1] - p.w[0]).abs().max()) == pytest.approx(5.0 * 600)  # still moving
