"""Edges of the measurements' promises: the inputs where a naive version would differ.

Each test names the documented behaviour it pins and the plausible bug it would catch. The
Hessian tests use a model whose loss is an exact quadratic form, so the Hessian is a matrix
chosen by hand (negative, zero and repeated eigenvalues included), not a trained network's.
"""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from references import Point
from torch import nn

from dlt.measure import (
    distance_from_init,
    feature_movement,
    fourier_power,
    hessian_trace,
    hvp,
    kernel_distance,
    margin,
    top_frequency_share,
    top_hessian_eigenvalue,
    weight_alignment,
)

# Deterministic, bounded property tests: the same examples on every run, a few seconds in all.
PROPERTY = settings(derandomize=True, max_examples=25, deadline=None, database=None)


def _quadratic(A: torch.Tensor):
    A = A.double()
    return lambda out, y: 0.5 * out @ A @ out


def _top(A, **kw):
    d = A.shape[0]
    X, y = torch.zeros(1, d, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    return top_hessian_eigenvalue(Point(torch.ones(d)), X, y, loss=_quadratic(A), **kw)


def _rotated(eigenvalues, seed=0):
    d = len(eigenvalues)
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return Q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ Q.T


# ---------------------------------------------------------------- top_hessian_eigenvalue


@pytest.mark.parametrize(
    "eigenvalues, top",
    [
        ([-5.0, 1.0, 0.5], -5.0),  # the dominant eigenvalue is negative: the sign must survive
        ([-3.0, -1.0, -0.2], -3.0),  # a negative definite Hessian (a maximum)
        ([4.0, -1.0, 0.0], 4.0),  # a saddle whose largest magnitude is positive
        ([2.0, 2.0, 0.5], 2.0),  # a repeated top eigenvalue
        ([3.0, 0.0, 0.0], 3.0),  # a zero eigenvalue of multiplicity two
    ],
)
def test_top_eigenvalue_keeps_the_sign_of_the_largest_magnitude(eigenvalues, top):
    """Power iteration returns the Rayleigh quotient, so a negative top eigenvalue stays negative.

    Catches: returning ``‖Hv‖`` (always >= 0) or ``abs`` of the quotient, which agree with the
    right answer on every Hessian whose dominant eigenvalue is positive.
    """
    A = _rotated(eigenvalues)
    got = _top(A, iters=2000, tol=1e-12)
    assert got.value == pytest.approx(top, rel=1e-6)
    # the vector is a unit eigenvector of that eigenvalue
    assert float(got.vector.norm()) == pytest.approx(1.0, abs=1e-9)
    residual = A @ got.vector - top * got.vector
    assert float(residual.norm()) < 1e-4 * abs(top)


def test_top_eigenvalue_of_a_zero_hessian_is_zero():
    got = _top(torch.zeros(3, 3))
    assert got.value == 0.0 and got.iterations == 1


def test_top_eigenvalue_stopped_at_max_iter_is_the_last_rayleigh_quotient_by_hand():
    """Runs that stop at ``iters`` return the last quotient, with its sign, not ``‖Hv‖``.

    From ``init = e1 + e2`` on ``H = diag(-3, 1)``: ``v0 = (1, 1)/√2``, quotient ``-1``;
    ``v1 = (-3, 1)/√10``, quotient ``(-27 + 1)/10 = -2.6``; after two iterations (no
    convergence at tol = 1e-12) the answer is -2.6, and the vector is ``H v1 / ‖H v1‖``.
    """
    A = torch.diag(torch.tensor([-3.0, 1.0], dtype=torch.float64))
    X, y = torch.zeros(1, 2, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    model = Point(torch.ones(2))
    init = torch.tensor([1.0, 1.0], dtype=torch.float64)
    one = top_hessian_eigenvalue(model, X, y, loss=_quadratic(A), iters=1, tol=1e-12, init=init)
    assert one.value == pytest.approx(-1.0, abs=1e-12) and one.iterations == 1
    assert one.vector.tolist() == pytest.approx([-3 / math.sqrt(10), 1 / math.sqrt(10)])
    two = top_hessian_eigenvalue(model, X, y, loss=_quadratic(A), iters=2, tol=1e-12, init=init)
    assert two.value == pytest.approx(-2.6, abs=1e-12) and two.iterations == 2
    assert two.vector.tolist() == pytest.approx([9 / math.sqrt(82), 1 / math.sqrt(82)])


def test_top_eigenvalue_tolerance_is_relative():
    """The same Hessian scaled by 1e6 or 1e-6 takes the same number of iterations."""
    A = _rotated([1.0, 0.9, 0.1], seed=1)
    base = _top(A, iters=500, tol=1e-8)
    for scale in (1e-6, 1e6):
        got = _top(scale * A, iters=500, tol=1e-8)
        assert got.iterations == base.iterations
        assert got.value == pytest.approx(scale * base.value, rel=1e-10)


def test_top_eigenvalue_warm_start_at_an_eigenvector_stops_at_once():
    A = torch.diag(torch.tensor([-2.0, 1.0, 0.5], dtype=torch.float64))
    X, y = torch.zeros(1, 3, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    got = top_hessian_eigenvalue(
        Point(torch.ones(3)), X, y, loss=_quadratic(A), init=torch.tensor([5.0, 0.0, 0.0])
    )
    assert got.value == pytest.approx(-2.0) and got.iterations == 2


def test_hvp_and_trace_of_a_quadratic_with_negative_and_zero_eigenvalues():
    A = _rotated([-4.0, 0.0, 2.5, 1.0], seed=2)
    X, y = torch.zeros(1, 4, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    model = Point(torch.arange(4.0))
    v = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    assert torch.allclose(hvp(model, X, y, v, loss=_quadratic(A)), A @ v)
    # Hutchinson's mean of Rademacher quadratic forms: unbiased, here with 4000 probes
    est = hessian_trace(model, X, y, loss=_quadratic(A), samples=4000, seed=3)
    sd = math.sqrt(2 * float((A**2).sum() - (A.diag() ** 2).sum()) / 4000)
    assert abs(est - (-0.5)) < 4 * sd


# ---------------------------------------------------------------- the Fourier measurements


@PROPERTY
@given(
    p=st.integers(3, 23),
    d=st.integers(1, 4),
    shift=st.floats(-1e3, 1e3, allow_nan=False).filter(lambda s: abs(s) > 1e-3),
    seed=st.integers(0, 2**16),
)
def test_top_frequency_share_ignores_a_constant_added_to_the_embedding(p, d, shift, seed):
    """The share is of the *non-constant* power: adding a constant to a column changes only P_0.

    Catches: normalizing by the total power including P_0 (or forgetting to drop P_0 before the
    top-k), which every zero-mean test embedding hides.
    """
    E = torch.randn(p, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    k = min(2, p // 2)
    base = top_frequency_share(E, k)
    shifted = top_frequency_share(E + shift, k)
    assert float(shifted) == pytest.approx(float(base), rel=1e-9, abs=1e-12)
    P, Q = fourier_power(E), fourier_power(E + shift)
    assert torch.allclose(P[1:], Q[1:], rtol=1e-9, atol=1e-9 * float(P.sum()))
    assert float(Q[0]) == pytest.approx(float(P[0]) + 2 * shift * float(E.sum()) + p * d * shift**2)


def test_top_frequency_share_of_a_wave_on_a_large_constant():
    """One pure wave on an offset 1e3 times its amplitude: all non-constant power is at k = 3."""
    a = torch.arange(13.0, dtype=torch.float64)
    E = torch.stack([torch.cos(2 * math.pi * 3 * a / 13) + 1e3, torch.full((13,), -1e3)], 1)
    assert float(top_frequency_share(E, 1)) == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(ValueError, match="no non-constant power"):
        top_frequency_share(torch.full((13, 2), 5.0), 1)


@PROPERTY
@given(p=st.integers(2, 30), d=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_fourier_power_is_parseval_and_shift_invariant(p, d, seed):
    """Sum of powers = ‖E‖_F² (conjugate pairs combined, P_{p/2} once), and rolling tokens keeps it."""
    E = torch.randn(p, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    P = fourier_power(E)
    assert P.shape == (p // 2 + 1,)
    assert float(P.sum()) == pytest.approx(float((E**2).sum()), rel=1e-10)
    assert torch.allclose(fourier_power(torch.roll(E, 1, dims=0)), P, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- normalized distances


def test_kernel_distance_normalizes_by_the_second_argument():
    """‖A − B‖_F / ‖B‖_F: scale-free, zero for equal kernels, and asymmetric in general."""
    B = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    A = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    assert kernel_distance(A, B) == pytest.approx(1 / math.sqrt(5))
    assert kernel_distance(B, A) == pytest.approx(1 / math.sqrt(2))
    assert kernel_distance(1e-150 * A, 1e-150 * B) == pytest.approx(1 / math.sqrt(5))
    assert kernel_distance(B, B) == 0.0


def test_feature_movement_is_relative_and_scale_free():
    h0 = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
    assert feature_movement(h0 + torch.tensor([[0.0, 5.0]]), h0) == pytest.approx(1.0)
    for s in (1e-150, 1e150):
        assert feature_movement(s * (h0 + 1), s * h0) == pytest.approx(math.sqrt(2) / 5)
    assert feature_movement(h0, h0) == 0.0


def test_weight_alignment_ignores_sign_and_scale_of_rows():
    w = torch.tensor([[1.0, 0.0], [-3.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([2.0, 0.0])
    assert weight_alignment(w, b) == pytest.approx(2 / 3)
    assert weight_alignment(-1e20 * w, 1e-20 * b) == pytest.approx(2 / 3)


def test_margin_in_each_norm_by_hand_and_its_scale_invariance():
    w = torch.tensor([3.0, -4.0])
    Z = torch.tensor([[1.0, 0.0], [0.0, -1.0]])  # z·w = 3 and 4: the margin is the min, 3
    assert float(margin(w, Z, 2)) == pytest.approx(3 / 5)
    assert float(margin(w, Z, 1)) == pytest.approx(3 / 7)
    assert float(margin(w, Z, math.inf)) == pytest.approx(3 / 4)
    # scale-free down to float32 underflow of ‖w‖² and up to its overflow (the norm alone would
    # give 0 or inf there: margins of inf and 0)
    for p, want in ((2, 3 / 5), (1, 3 / 7), (3, 3 / (27 + 64) ** (1 / 3))):
        for s in (1e-30, 1e30):
            assert float(margin(s * w, Z, p)) == pytest.approx(want, rel=1e-6)
    assert math.isnan(float(margin(torch.zeros(2), Z)))
    # a misclassified point makes the margin negative, not its absolute value
    assert float(margin(w, torch.tensor([[-1.0, 0.0], [0.0, -1.0]]), 2)) == pytest.approx(-3 / 5)


def test_distance_from_init_counts_every_trainable_parameter_bias_included():
    torch.manual_seed(0)
    a = nn.Linear(3, 2)
    b = nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        b.bias += torch.tensor([3.0, 4.0])
    assert distance_from_init(b, a) == pytest.approx(5.0)


def test_fourier_errors_name_the_argument_and_what_was_expected():
    with pytest.raises(
        ValueError, match=r"^embedding must have shape \(p, d\) or \(members, p, d\), got"
    ):
        fourier_power(torch.zeros(2, 2, 2, 2))
    with pytest.raises(ValueError, match=r"^embedding must have at least 2 rows \(tokens\), got 1"):
        fourier_power(torch.ones(1, 3))
    for k in (0, -1):
        with pytest.raises(ValueError, match=r"^k must be"):
            top_frequency_share(torch.randn(7, 3), k)
    with pytest.raises(ValueError, match=r"^k must be <= p // 2 = 3, got 4"):
        top_frequency_share(torch.randn(7, 3), 4)
    for value in (0.0, 5.0, 1e3 / 3, -7.1e5):  # exact zeros or FFT round-off only: refused
        with pytest.raises(ValueError, match=r"^embedding has no non-constant power \(its columns"):
            top_frequency_share(torch.full((13, 2), value, dtype=torch.float64), 1)


def test_top_frequency_share_of_members_is_per_member_whatever_their_scales():
    """Each member is normalized by its own power: a member 1e-12 times smaller is not 'constant'."""
    a = torch.arange(11.0, dtype=torch.float64)
    wave = torch.stack(
        [torch.cos(2 * math.pi * 2 * a / 11), torch.sin(2 * math.pi * 4 * a / 11)], 1
    )
    E = torch.stack([wave, 1e-12 * wave, 1e6 * wave + 3.0])
    assert top_frequency_share(E, 1).tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert top_frequency_share(E, 2).tolist() == pytest.approx([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="no non-constant power"):
        top_frequency_share(torch.stack([wave, torch.ones(11, 2, dtype=torch.float64)]), 1)


def test_grokking_time_errors_and_edges():
    from dlt.measure import grokking_time

    with pytest.raises(ValueError, match=r"^steps must have shape \(T,\), got"):
        grokking_time(torch.zeros(3, 1), torch.zeros(3), 0.5)
    with pytest.raises(
        ValueError, match=r"^accuracy must have shape \(T,\) or \(T, members\), got"
    ):
        grokking_time(torch.arange(3.0), torch.zeros(3, 1, 1), 0.5)
    with pytest.raises(ValueError, match=r"^threshold"):
        grokking_time(torch.arange(3.0), torch.zeros(3), 0.0)
    # strictly increasing everywhere, not only after the first step
    with pytest.raises(ValueError, match=r"^steps must be strictly increasing"):
        grokking_time(torch.tensor([0.0, 2.0, 1.0]), torch.zeros(3), 0.5)
    for bad in (-0.1, 1.1):
        with pytest.raises(ValueError, match=r"^accuracy must lie in \[0, 1\]"):
            grokking_time(torch.arange(3.0), torch.tensor([0.0, bad, 0.0]), 0.5)
    # reaching the threshold exactly counts; steps beyond float32's exact integers stay exact
    steps = torch.tensor([0, 2**24 + 1, 2**24 + 3], dtype=torch.int64)
    got = grokking_time(steps, torch.tensor([0.2, 0.9, 1.0]), 0.9)
    assert float(got) == 2**24 + 1


def test_margin_of_a_trajectory_is_the_margin_of_each_row_whatever_their_scales():
    Z = torch.tensor([[1.0, 0.0], [0.0, -1.0]])
    W = torch.tensor([[3.0, -4.0], [1.0, 0.0], [-1.0, -1.0]])
    for p in (1, 2, math.inf):
        rows = [float(margin(w, Z, p)) for w in W]
        assert margin(W, Z, p).tolist() == pytest.approx(rows)
        scaled = W * torch.tensor([[1e-30], [1.0], [1e30]])  # float32 rows far apart in scale
        assert margin(scaled, Z, p).tolist() == pytest.approx(rows, rel=1e-6)
    # the promoted dtype of w and Z
    assert margin(W[0], Z.double()).dtype == torch.float64
    assert (
        margin(W[0].double(), Z).dtype == torch.float64 and margin(W[0], Z).dtype == torch.float32
    )


def test_margin_errors_name_the_argument():
    Z = torch.tensor([[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(
        ValueError,
        match=r"^w must have shape \(d,\) or \(T, d\), d the number of columns of Z, got",
    ):
        margin(torch.ones(1, 1, 2), Z)
    with pytest.raises(ValueError, match=r"^w must have 2 columns to match Z, got shape \(3,\)"):
        margin(torch.ones(3), Z)
    with pytest.raises(ValueError, match=r"^Z "):
        margin(torch.ones(2), torch.ones(2))
    with pytest.raises(ValueError, match=r"^w must be finite"):
        margin(torch.tensor([1.0, math.nan]), Z)
    for bad in (True, "2", None):
        with pytest.raises(TypeError, match=r"^norm must be a number >= 1 or inf, got"):
            margin(torch.ones(2), Z, bad)
    for bad in (0.5, math.nan, -math.inf):
        with pytest.raises(ValueError, match=r"^norm must be >= 1 \(or inf\), got"):
            margin(torch.ones(2), Z, bad)


def test_top_frequency_share_default_is_five_frequencies():
    E = torch.randn(23, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    assert float(top_frequency_share(E)) == float(top_frequency_share(E, 5))
    assert float(top_frequency_share(E)) != float(top_frequency_share(E, 6))


def test_margin_default_norm_is_l2():
    Z, w = torch.tensor([[1.0, 0.0], [0.0, -1.0]]), torch.tensor([3.0, -4.0])
    assert float(margin(w, Z)) == float(margin(w, Z, 2)) != float(margin(w, Z, 3))


# ------------------------------------------- the curvature of a real model's default loss


class _Product(nn.Module):
    """``out = (X @ a)[:, None] * b``: a nonlinear model whose loss Hessian depends on X and y."""

    def __init__(self, d: int, k: int):
        super().__init__()
        g = torch.Generator().manual_seed(4)
        self.a = nn.Parameter(torch.randn(d, generator=g, dtype=torch.float64))
        self.b = nn.Parameter(torch.randn(k, generator=g, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x @ self.a)[:, None] * self.b


def _product_hessian(model: _Product, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """The Hessian of ``0.5 * mean((out - Y)**2)`` by autograd over ``[a, b]``, Y of out's shape."""
    d = model.a.numel()

    def loss(theta):
        out = (X @ theta[:d])[:, None] * theta[d:]
        return 0.5 * ((out - Y) ** 2).mean()

    theta = torch.cat([model.a.detach(), model.b.detach()])
    return torch.autograd.functional.hessian(loss, theta)


@pytest.mark.parametrize("k, y_shape", [(1, "vector"), (1, "column"), (2, "matrix")])
def test_default_loss_curvature_of_a_nonlinear_model_matches_autograd(k, y_shape):
    """The default loss is ``0.5 * mean((f(X) - y)**2)``; a (n, 1) output meets a (n,) target
    entry by entry (not broadcast to (n, n)), and the residual term makes the Hessian depend on y.

    Catches: dropping X or y on the way to the loss, another constant or power in the squared
    loss, a sum for the mean, or broadcasting the (n, 1) output against a (n,) target.
    """
    g = torch.Generator().manual_seed(0)
    X = torch.randn(6, 3, generator=g, dtype=torch.float64)
    Y = torch.randn(6, k, generator=g, dtype=torch.float64) + 2.0
    y = Y[:, 0] if y_shape == "vector" else Y
    model = _Product(3, k)
    H = _product_hessian(model, X, Y)
    v = torch.randn(H.shape[0], generator=g, dtype=torch.float64)
    assert torch.allclose(hvp(model, X, y, v), H @ v, atol=1e-10)
    lam, Q = torch.linalg.eigh(H)
    i = int(lam.abs().argmax())
    # started at a perturbed top eigenvector, so that a few iterations converge
    got = top_hessian_eigenvalue(model, X, y, init=Q[:, i] + 1e-3 * v, iters=200, tol=1e-12)
    assert got.value == pytest.approx(float(lam[i]), rel=1e-6)
    est = hessian_trace(model, X, y, samples=200, seed=1)
    sd = math.sqrt(2 * float((H**2).sum() - (H.diag() ** 2).sum()) / 200)
    assert abs(est - float(H.trace())) < 4 * sd


def test_hvp_takes_v_of_another_dtype_to_the_parameters():
    """``v`` as a list (float32 after conversion) against float64 parameters: cast, not an error."""
    A = torch.diag(torch.tensor([2.0, -1.0], dtype=torch.float64))
    X, y = torch.zeros(1, 2, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    got = hvp(Point(torch.ones(2)), X, y, [1.0, 3.0], loss=_quadratic(A))
    assert got.dtype == torch.float64 and got.tolist() == [2.0, -3.0]


def test_hessian_trace_is_exact_for_a_diagonal_hessian_with_one_probe():
    """``v^T H v = tr H`` for every Rademacher ``v`` when H is diagonal: one probe is exact."""
    A = torch.diag(torch.tensor([3.0, -1.5, 0.25], dtype=torch.float64))
    X, y = torch.zeros(1, 3, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    assert hessian_trace(Point(torch.ones(3)), X, y, loss=_quadratic(A), samples=1) == 1.75


def test_hessian_trace_seeds_and_defaults():
    """A seed gives the same probes on every call (seed 0 by default, 100 probes); two seeds
    give two estimates of a non-diagonal Hessian's trace."""
    A = _rotated([2.0, -1.0, 0.5, 4.0], seed=5)
    X, y = torch.zeros(1, 4, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    model, loss = Point(torch.ones(4)), _quadratic(A)
    default = hessian_trace(model, X, y, loss=loss)
    assert default == hessian_trace(model, X, y, loss=loss, samples=100, seed=0)
    assert default != hessian_trace(model, X, y, loss=loss, samples=101, seed=0)
    assert default != hessian_trace(model, X, y, loss=loss, samples=100, seed=1)
    again = hessian_trace(model, X, y, loss=loss, samples=7, seed=5)
    assert again == hessian_trace(model, X, y, loss=loss, samples=7, seed=5)
    gen = hessian_trace(model, X, y, loss=loss, samples=7, seed=torch.Generator().manual_seed(5))
    assert gen == again


def test_top_eigenvalue_seeds_and_defaults():
    """The start vector comes from the seed (0 by default); by default at most 100 iterations,
    stopping at a relative change of 1e-6."""
    A = _rotated([1.0, 0.99, 0.5], seed=6)
    zero = _top(A, iters=1)
    assert torch.equal(zero.vector, _top(A, iters=1, seed=0).vector)
    assert not torch.allclose(zero.vector, _top(A, iters=1, seed=1).vector)
    gen = _top(A, iters=1, seed=torch.Generator().manual_seed(1)).vector
    assert torch.equal(gen, _top(A, iters=1, seed=1).vector)
    # eigenvalues 1 and 0.99: the quotient still moves by more than 1e-6 after 100 iterations
    slow = _top(A)
    assert slow.iterations == 100
    # eigenvalues 1 and 0.5: converges to 1e-6 within a few tens of iterations, not at once
    fast = _top(_rotated([1.0, 0.5, 0.1], seed=6))
    assert 2 < fast.iterations < 100 and fast.value == pytest.approx(1.0, rel=1e-5)


def test_top_eigenvalue_stationary_at_a_zero_quotient_stops():
    """H = diag(1, -1) from (1, 1): the quotient is 0 at every step (v flips between (1, ±1));
    a change of exactly 0 <= tol * 0 is convergence, so it stops at the second iteration."""
    A = torch.diag(torch.tensor([1.0, -1.0], dtype=torch.float64))
    got = _top(A, iters=50, init=torch.tensor([1.0, 1.0]))
    assert got.value == 0.0 and got.iterations == 2


def test_top_eigenvalue_of_a_zero_hessian_returns_the_unit_start_vector():
    got = _top(torch.zeros(3, 3), init=torch.tensor([3.0, 0.0, 4.0]))
    assert got.value == 0.0 and got.iterations == 1
    assert got.vector.tolist() == pytest.approx([0.6, 0.0, 0.8])


def test_curvature_errors_name_the_argument():
    A = torch.eye(2, dtype=torch.float64)
    X, y = torch.zeros(3, 2, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    model, loss = Point(torch.ones(2)), _quadratic(A)
    with pytest.raises(ValueError, match=r"^y must have 3 rows to match X, got shape \(2,\)$"):
        hvp(model, X, y[:2], torch.ones(2), loss=loss)
    with pytest.raises(ValueError, match=r"^v must have length 2 \(the trainable parameters\)"):
        hvp(model, X, y, torch.ones(3), loss=loss)
    with pytest.raises(ValueError, match=r"^init must have length 2, got 3$"):
        top_hessian_eigenvalue(model, X, y, loss=loss, init=torch.ones(3))
    with pytest.raises(ValueError, match=r"^init must have shape \(2,\), got shape \(1, 2\)$"):
        top_hessian_eigenvalue(model, X, y, loss=loss, init=torch.ones(1, 2))
    with pytest.raises(ValueError, match=r"^init must be finite"):
        top_hessian_eigenvalue(model, X, y, loss=loss, init=torch.tensor([1.0, math.nan]))


def test_top_frequency_share_refuses_at_100_machine_epsilons_of_non_constant_power():
    """The embedding counts as constant when its non-constant power is at most 100 eps of its
    power: a wave of relative power 99.5 eps is refused, one of 100.5 eps is measured."""
    from dlt.measure.fourier import fourier_power

    eps = torch.finfo(torch.float64).eps
    j = torch.arange(8, dtype=torch.float64)
    for a, lo, hi in ((2.1020e-7, 99, 100), (2.1127e-7, 100, 101)):
        E = (1 + a * torch.cos(2 * math.pi * j / 8))[:, None]
        P = fourier_power(E)
        assert lo * eps < float(P[..., 1:].sum() / P.sum()) < hi * eps  # the set-up
        if hi == 100:
            with pytest.raises(ValueError, match=r"^embedding has no non-constant power"):
                top_frequency_share(E, 1)
        else:
            assert float(top_frequency_share(E, 1)) == 1.0


# ---------------------------------------------------------------- sequence accuracy


class _Echo(torch.nn.Module):
    """Predicts each input token itself (one-hot logits over 5 symbols)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.scale * torch.nn.functional.one_hot(x, 5).double()


def test_sequence_accuracy_reads_the_models_predictions_of_the_tokens():
    """A model that echoes its input is right exactly where the target is the token: one of the
    three scored positions of sequence 0 (1/3 per token, in float64) and all of sequence 1."""
    from dlt.measure.sequences import sequence_accuracy

    tokens = torch.tensor([[1, 2, 3], [4, 4, 0]])
    targets = torch.tensor([[1, 0, 0], [4, 4, -100]])
    acc = sequence_accuracy(_Echo(), tokens, targets)
    assert acc.exact.tolist() == [0.5] and acc.token.dtype == torch.float64
    assert acc.token.tolist() == [3 / 5]
    with pytest.raises(
        ValueError, match=r"^targets must have the shape \(2, 3\) of tokens, got \(3, 2\)$"
    ):
        sequence_accuracy(_Echo(), tokens, targets.T)
    with pytest.raises(
        ValueError, match=r"^targets must score at least one position of every sequence$"
    ):
        sequence_accuracy(_Echo(), tokens, torch.tensor([[1, 0, 0], [-100, -100, -100]]))


# ---------------------------------------------------------------- kendall tau


def _tau_b_by_hand(x, y):
    sx = torch.sign(x[:, None] - x[None, :])
    sy = torch.sign(y[:, None] - y[None, :])
    den = math.sqrt(float(sx.abs().sum() * sy.abs().sum()))
    return float((sx * sy).sum()) / den if den > 0 else 0.0


def test_kendall_tau_bootstrap_interval_by_hand():
    """The interval is the (1 - level)/2 and (1 + level)/2 quantiles of tau-b over `resamples`
    resamples of the runs drawn from a generator seeded `seed` (0 by default, and not the global
    generator); 3 runs and one resample are valid; the defaults are level 0.9, 2000 resamples."""
    from dlt.measure.ranking import kendall_tau

    x = torch.arange(8.0, dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 3.0, 2.0, 5.0, 4.0, 7.0, 6.0], dtype=torch.float64)
    for seed in (0, 5):
        r = kendall_tau(x, y, level=0.8, resamples=50, seed=seed)
        idx = torch.randint(8, (50, 8), generator=torch.Generator().manual_seed(seed))
        boot = torch.tensor([_tau_b_by_hand(x[i], y[i]) for i in idx], dtype=torch.float64)
        q = torch.quantile(boot, torch.tensor([0.1, 0.9], dtype=torch.float64))
        assert (r.low, r.high) == pytest.approx((float(q[0]), float(q[1])), rel=1e-12)
    torch.manual_seed(1)
    a = kendall_tau(x, y, resamples=50)
    torch.manual_seed(2)
    assert kendall_tau(x, y, resamples=50) == a == kendall_tau(x, y, resamples=50, seed=0)
    # 30 runs: fine-grained taus, so one resample more moves the interpolated quantile
    g = torch.Generator().manual_seed(0)
    u = torch.randn(30, generator=g, dtype=torch.float64)
    v = u + torch.randn(30, generator=g, dtype=torch.float64)
    assert kendall_tau(u, v) == kendall_tau(u, v, level=0.9, resamples=2000, seed=0)
    assert kendall_tau(u, v) != kendall_tau(u, v, resamples=2001)
    three = kendall_tau([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], resamples=1)
    assert three.tau == pytest.approx(1 / 3) and three.runs == 3 and three.low == three.high
    with pytest.raises(ValueError, match=r"^x must have at least 3 entries, got 2$"):
        kendall_tau([1.0, 2.0], [2.0, 1.0])


# ---------------------------------------------------------------- convergence measures


def test_activation_flips_count_a_zero_preactivation_as_inactive_and_mix_dtypes():
    """1{w·x > 0}: a pre-activation of exactly 0 is inactive, so w0 = (1, 1) on x = (1, -1)
    (w0·x = 0) and w = (1, 2) (w·x = -1) is no flip, nor is the reverse; float32 inputs meet
    float64 weights in the promoted dtype."""
    from dlt.measure.convergence import activation_flips

    x = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    w0, w = (
        torch.tensor([[1.0, 1.0]], dtype=torch.float64),
        torch.tensor([[1.0, 2.0]], dtype=torch.float64),
    )
    assert activation_flips(w0, w, x) == 0.0 == activation_flips(w, w0, x)
    g = torch.Generator().manual_seed(0)
    a, b = (
        torch.randn(5, 3, generator=g, dtype=torch.float64),
        torch.randn(5, 3, generator=g, dtype=torch.float64),
    )
    xs = torch.randn(7, 3, generator=g)
    assert activation_flips(a, b, xs) == activation_flips(a, b, xs.double())
    assert activation_flips(a.float(), b, xs) == activation_flips(a.double(), b, xs.double())
    assert activation_flips(a, b.float(), xs.double()) == activation_flips(
        a, b.float().double(), xs
    )


def test_ntk_scores_of_a_singular_kernel_has_an_infinite_condition_number():
    """A zero input row gives the linear model's NTK [[1, 0], [0, 0]]: smallest eigenvalue
    exactly 0, condition number inf (not a division by zero)."""
    from dlt.measure.convergence import ntk_scores

    model = nn.Linear(2, 1, bias=False)
    s = ntk_scores(model, torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
    assert s[0] == 0.0 and s[1] == pytest.approx(1.0) and s[2] == math.inf
