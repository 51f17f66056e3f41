"""Hessian-vector products, the top Hessian eigenvalue and Hutchinson's trace (chapter edge_of_stability)."""

import pytest
import torch
from torch.func import functional_call

import dlt
from dlt.measure.hessian import hessian_trace, hvp, top_hessian_eigenvalue
from dlt.nets import MLP


def small_problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(12, 3, generator=g, dtype=torch.float64)
    y = torch.randn(12, generator=g, dtype=torch.float64)
    return MLP([3, 6, 1], activation="tanh", seed=seed, dtype=torch.float64), X, y


def full_hessian(model, X, y):
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
    H = full_hessian(model, X, y)
    v = torch.randn(H.shape[0], generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    assert torch.allclose(hvp(model, X, y, v), H @ v, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_top_eigenvalue_and_trace_match_the_full_hessian(seed):
    model, X, y = small_problem(seed)
    H = full_hessian(model, X, y)
    evals = torch.linalg.eigvalsh(H)
    top = top_hessian_eigenvalue(model, X, y, iters=2000, tol=1e-12)
    assert top.value == pytest.approx(
        float(evals.abs().max() * torch.sign(evals[evals.abs().argmax()])), rel=1e-6
    )
    assert torch.allclose(hvp(model, X, y, top.vector), top.value * top.vector, atol=1e-5)
    est = hessian_trace(model, X, y, samples=1000, seed=1)
    off = H - torch.diag(torch.diag(H))
    std = float((2 * (off**2).sum() / 1000) ** 0.5)  # the estimator's standard deviation
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
    with pytest.raises(ValueError, match="y must have 12 rows"):
        top_hessian_eigenvalue(model, X, y[:5])
    with pytest.raises(ValueError, match="samples"):
        hessian_trace(model, X, y, samples=0)
    with pytest.raises(TypeError, match="model"):
        hvp("net", X, y, torch.ones(3))
