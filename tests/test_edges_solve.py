"""Edges of the solvers' promises: closed forms by hand, scale invariances (Hypothesis,
derandomized), rank-deficient and tall/wide designs, and the limits of the penalty."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlt.solve import (
    gp_posterior,
    kernel_regression,
    lasso,
    min_norm_interpolator,
    ridge,
    ridge_path,
)

PROPERTY = settings(derandomize=True, max_examples=25, deadline=None, database=None)


def _design(n, p, seed, trials=None):
    g = torch.Generator().manual_seed(seed)
    shape = (n, p) if trials is None else (trials, n, p)
    X = torch.randn(*shape, generator=g, dtype=torch.float64)
    y = torch.randn(*shape[:-1], generator=g, dtype=torch.float64)
    return X, y


@PROPERTY
@given(
    n=st.integers(2, 12),
    p=st.integers(1, 12),
    lam=st.floats(1e-3, 10),
    c=st.floats(1e-3, 1e3),
    seed=st.integers(0, 999),
)
def test_ridge_solves_its_normal_equations_and_scales(n, p, lam, c, seed):
    """(XᵀX/n + λI) β = Xᵀy/n, and ridge(cX, cy, c²λ) = ridge(X, y, λ), ridge(X, cy, λ) = c ridge."""
    X, y = _design(n, p, seed)
    b = ridge(X, y, lam)
    lhs = (X.T @ X / n + lam * torch.eye(p, dtype=X.dtype)) @ b
    assert torch.allclose(lhs, X.T @ y / n, rtol=1e-8, atol=1e-10)
    assert torch.allclose(ridge(c * X, c * y, c**2 * lam), b, rtol=1e-7, atol=1e-10)
    assert torch.allclose(ridge(X, c * y, lam), c * b, rtol=1e-8, atol=1e-10 * c)
    path = ridge_path(X, y, [0.0, lam])
    assert torch.allclose(path[1], b, rtol=1e-8, atol=1e-10)
    assert torch.allclose(path[0], min_norm_interpolator(X, y), rtol=1e-8, atol=1e-10)


def test_ridge_limits_of_the_penalty():
    X, y = _design(8, 20, 0)
    # λ -> 0: the min-norm interpolator (wide design); λ -> ∞: Xᵀy/(nλ)
    assert torch.allclose(ridge(X, y, 0.0), min_norm_interpolator(X, y))
    assert torch.allclose(ridge(X, y, 1e-10), min_norm_interpolator(X, y), atol=1e-6)
    big = 1e8
    assert torch.allclose(ridge(X, y, big), X.T @ y / (8 * big), rtol=1e-6)


def test_min_norm_interpolator_on_wide_tall_and_rank_deficient_designs():
    X, y = _design(5, 9, 1)
    b = min_norm_interpolator(X, y)
    assert torch.allclose(X @ b, y, atol=1e-10)  # interpolates
    assert torch.allclose(b, torch.linalg.pinv(X) @ y, atol=1e-10)  # no null-space component
    T, yt = _design(9, 3, 2)
    assert torch.allclose(min_norm_interpolator(T, yt), torch.linalg.lstsq(T, yt).solution)
    # a repeated column: the two copies share the weight equally (minimum norm)
    x = torch.randn(6, 1, dtype=torch.float64)
    b2 = min_norm_interpolator(torch.cat([x, x], 1), 3 * x[:, 0])
    assert b2.tolist() == pytest.approx([1.5, 1.5])
    # batched trials give each trial's own solution
    Xb, yb = _design(4, 6, 3, trials=3)
    sol = min_norm_interpolator(Xb, yb)
    for t in range(3):
        assert torch.allclose(sol[t], torch.linalg.pinv(Xb[t]) @ yb[t], atol=1e-10)


def test_ridge_is_invariant_to_tiny_and_huge_scales_of_the_data():
    X, y = _design(6, 4, 4)
    b = ridge(X, y, 0.1)
    for s in (1e-100, 1e100):
        assert torch.allclose(ridge(s * X, s * y, 0.1 * s**2), b, rtol=1e-8)


def test_lasso_on_an_orthogonal_design_is_soft_thresholding_by_hand():
    X = torch.tensor(
        [[2.0, 0.0], [0.0, 2.0], [0.0, 0.0], [0.0, 0.0]], dtype=torch.float64
    )  # XᵀX/n = I
    y = torch.tensor([1.0, -0.4, 3.0, 0.0], dtype=torch.float64)
    # Xᵀy/n = (0.5, -0.2); with λ = 0.3: (0.2, 0)
    w = lasso(X[None], y[None], 0.3, n_iter=200)[0]
    assert w.tolist() == pytest.approx([0.2, 0.0], abs=1e-10)
    # above λ_max = ‖Xᵀy/n‖_∞ the solution is exactly zero
    assert lasso(X[None], y[None], 0.51)[0].abs().max() == 0


def test_kernel_regression_interpolates_without_ridge_and_shrinks_with_it():
    g = torch.Generator().manual_seed(5)
    A = torch.randn(6, 6, generator=g, dtype=torch.float64)
    K = A @ A.T + 0.1 * torch.eye(6, dtype=torch.float64)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    assert torch.allclose(kernel_regression(K, y, K), y, atol=1e-8)
    # two targets at once are the two single solves
    Y = torch.stack([y, 2 * y], 1)
    assert torch.allclose(
        kernel_regression(K, Y, K, ridge=0.5)[:, 1], 2 * kernel_regression(K, y, K, ridge=0.5)
    )
    # ridge λ: K (K + λI)^{-1} y, by a dense solve
    want = K @ torch.linalg.solve(K + 0.5 * torch.eye(6, dtype=torch.float64), y)
    assert torch.allclose(kernel_regression(K, y, K, ridge=0.5), want)


def test_gp_posterior_by_hand_and_variance_never_negative():
    K = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    ks = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    mean, var = gp_posterior(K, y, ks, torch.tensor([1.5]), noise=1.0)
    inv = torch.linalg.inv(K + torch.eye(2, dtype=torch.float64))  # σ = 1: σ² = 1
    assert float(mean) == pytest.approx(float(ks @ inv @ y))
    assert float(var) == pytest.approx(1.5 - float(ks @ inv @ ks.T))
    # noise is a standard deviation: σ = 2 adds 4 to the diagonal
    m2, _ = gp_posterior(K, y, ks, torch.tensor([1.5]), noise=2.0)
    assert float(m2) == pytest.approx(
        float(ks @ torch.linalg.inv(K + 4 * torch.eye(2, dtype=torch.float64)) @ y)
    )
    # at the data without noise the variance is 0, not a rounding error below it
    _, v0 = gp_posterior(K, y, K, torch.diag(K), noise=0.0)
    assert bool((v0 >= 0).all()) and float(v0.max()) < 1e-12


def test_design_errors_name_the_argument_and_the_expected_shape():
    X, y = _design(5, 3, 6)
    with pytest.raises(ValueError, match=r"^X must have shape \(n, p\) or \(trials, n, p\), got"):
        ridge(X[0], y, 0.1)
    with pytest.raises(
        ValueError, match=r"^y must have shape \(5,\) to match X, got shape \(5, 2\)"
    ):
        ridge(X, torch.zeros(5, 2), 0.1)
    with pytest.raises(ValueError, match=r"^y must have length 5 \(the rows of X\), got length 4"):
        min_norm_interpolator(X, y[:4])
    Xb, yb = _design(5, 3, 7, trials=2)
    with pytest.raises(ValueError, match=r"^y must have 2 trials to match X, got 3"):
        ridge_path(Xb, torch.zeros(3, 5), [0.1])
    with pytest.raises(ValueError, match=r"^y must be finite"):
        ridge(X, torch.full((5,), float("nan")), 0.1)
    for f, name in ((lambda: ridge(X, y, -1.0), "lam"), (lambda: ridge_path(X, y, [0.1, -1.0]), "lams"),
                    (lambda: min_norm_interpolator(X, y, rcond=-1.0), "rcond")):  # fmt: skip
        with pytest.raises(ValueError, match=rf"^{name}"):
            f()
    # a column vector y of shape (n, 1), a list y, and float64 kept
    assert torch.allclose(ridge(X, y[:, None], 0.1), ridge(X, y.tolist(), 0.1))
    assert ridge(X.float(), y, 0.1).dtype == torch.float32


def test_min_norm_cut_off_drops_tiny_singular_values_only():
    """rcond cuts singular values below rcond·s_max; the default is max(n, p)·eps·s_max."""
    X = torch.diag(torch.tensor([1.0, 1e-3, 1e-9, 1e-20], dtype=torch.float64))
    y = torch.ones(4, dtype=torch.float64)
    assert min_norm_interpolator(X, y).tolist() == pytest.approx([1.0, 1e3, 1e9, 0.0])
    assert min_norm_interpolator(X, y, rcond=1e-6).tolist() == pytest.approx([1.0, 1e3, 0, 0])
    assert min_norm_interpolator(X, y, rcond=0.0).tolist() == pytest.approx([1.0, 1e3, 1e9, 1e20])
    assert min_norm_interpolator(X, y, rcond=1e-3).tolist() == pytest.approx([1.0, 0, 0, 0])


def test_zero_penalty_is_the_pseudo_inverse_with_its_cut_off_and_one_is_a_penalty():
    """lam = 0 takes the cut-off pseudo-inverse (rank-deficient designs stay finite); lam = 1
    is an ordinary penalty; the cut-off is relative to the largest singular value."""
    x = torch.randn(6, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    X = torch.cat([x, x, 1e-17 * x.roll(1, 0)], 1)  # rank one up to a 1e-17 column
    y = 3 * x[:, 0]
    want = min_norm_interpolator(X, y)
    assert want[:2].tolist() == pytest.approx([1.5, 1.5]) and abs(float(want[2])) < 1e-6
    assert torch.allclose(ridge(X, y, 0.0), want) and torch.allclose(
        ridge_path(X, y, [0.0])[0], want
    )
    lhs = (X.T @ X / 6 + torch.eye(3, dtype=torch.float64)) @ ridge(X, y, 1.0)
    assert torch.allclose(lhs, X.T @ y / 6)
    assert torch.allclose(ridge_path(X, y, [1.0])[0], ridge(X, y, 1.0))
    for scale in (1e-6, 1e6):  # the cut-off moves with the scale of X
        D = torch.diag(torch.tensor([1.0, 1e-3, 1e-9, 1e-20], dtype=torch.float64)) * scale
        got = min_norm_interpolator(D, torch.ones(4, dtype=torch.float64)) * scale
        assert got.tolist() == pytest.approx([1.0, 1e3, 1e9, 0.0])
        got = ridge_path(D, torch.ones(4, dtype=torch.float64), [0.0])[0] * scale
        assert got.tolist() == pytest.approx([1.0, 1e3, 1e9, 0.0])


def test_batched_designs_accept_a_trailing_one_and_name_the_batched_shape():
    Xb, yb = _design(5, 3, 10, trials=2)
    assert torch.allclose(ridge(Xb, yb[..., None], 0.1), ridge(Xb, yb, 0.1))
    with pytest.raises(
        ValueError, match=r"^y must have shape \(2, 5\) to match X, got shape \(5,\)"
    ):
        ridge(Xb, yb[0], 0.1)


def _fista_by_hand(b: float, lam: float, steps: int) -> list[float]:
    """FISTA on the scalar problem ``min 0.125 w**2 - b w + lam |w|`` (curvature 1/4) with the
    step 1 of a design whose other coordinate has curvature 1: the iterates for k = 1..steps.

    ``v = z - (z / 4 - b)``, ``w_k = sign(v) max(|v| - lam, 0)``,
    ``t_k = (1 + sqrt(1 + 4 t_{k-1}^2)) / 2`` from ``t_0 = 1``,
    ``z_k = w_k + (t_{k-1} - 1) / t_k (w_k - w_{k-1})``.
    """
    w = z = 0.0
    t = 1.0
    out = []
    for _ in range(steps):
        v = z - (z / 4 - b)
        w_new = math.copysign(max(abs(v) - lam, 0.0), v)
        t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
        z = w_new + (t - 1) / t_new * (w_new - w)
        w, t = w_new, t_new
        out.append(w)
    return out


def test_lasso_first_fista_iterates_by_hand():
    """XᵀX/N = diag(1, 1/4): step 1/L = 1; the first coordinate is solved in one step, the second
    follows the momentum recursion, checked iterate by iterate (n_iter = 1, 2, 3, 4).

    Catches: another step size (the smallest eigenvalue, no 1/N), another momentum sequence or
    coefficient, a soft-threshold at λ instead of λ/L, which all reach the same minimizer.
    """
    N = 4
    X = torch.zeros(N, 2, dtype=torch.float64)
    X[:, 0] = torch.tensor([1.0, 1.0, 1.0, 1.0])  # column norm² / N = 1
    X[:, 1] = torch.tensor([0.5, -0.5, 0.5, -0.5])  # orthogonal to it, norm² / N = 1/4
    y = torch.tensor([4.0, -1.5, 2.5, 0.0], dtype=torch.float64)
    # Xᵀy/N = (5/4, 1): coordinate 1 -> soft(1.25, 0.1) = 1.15 at once; coordinate 2: b = 1
    lam = 0.1
    hand = _fista_by_hand(1.0, lam, 4)
    for k in range(1, 5):
        w = lasso(X[None], y[None], lam, n_iter=k)[0]
        assert w.tolist() == pytest.approx([1.15, hand[k - 1]], abs=1e-12)
    assert hand[2] != pytest.approx(hand[1] + 0.75 * (hand[1] - hand[0]))  # momentum matters


def test_lasso_solves_each_problem_of_a_batch_as_if_alone():
    """Problems of different scales in one batch: each has its own step 1/L_b."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(3, 10, 4, generator=g, dtype=torch.float64)
    X = X * torch.tensor([1.0, 10.0, 0.1], dtype=torch.float64)[:, None, None]
    y = torch.randn(3, 10, generator=g, dtype=torch.float64)
    together = lasso(X, y, 0.05, n_iter=7)
    for b in range(3):
        alone = lasso(X[b : b + 1], y[b : b + 1], 0.05, n_iter=7)[0]
        assert torch.allclose(together[b], alone, rtol=1e-12, atol=1e-14)


def test_lasso_default_iterations_dtype_and_a_zero_design():
    """500 iterations by default; float64 out of float32 in; a zero design gives zero, not NaN."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(1, 6, 5, generator=g)
    X[..., 1] = X[..., 0] + 1e-3 * X[..., 2]  # ill-conditioned: FISTA still moving at 500
    y = torch.randn(1, 6, generator=g)
    w = lasso(X, y, 1e-4)
    assert w.dtype == torch.float64
    assert torch.equal(w, lasso(X, y, 1e-4, n_iter=500))
    assert not torch.equal(w, lasso(X, y, 1e-4, n_iter=501))
    zero = lasso(torch.zeros(2, 3, 2), torch.zeros(2, 3), 0.1, n_iter=3)
    assert torch.equal(zero, torch.zeros(2, 2, dtype=torch.float64))


def test_lasso_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"^y must have shape \(1, 3\) to match X, got \(1, 4\)$"):
        lasso(torch.ones(1, 3, 2), torch.ones(1, 4), 0.1)
    with pytest.raises(ValueError, match=r"^y must have shape \(1, 3\) to match X, got \(2, 3\)$"):
        lasso(torch.ones(1, 3, 2), torch.ones(2, 3), 0.1)


def test_ridge_path_at_zero_drops_a_singular_value_exactly_at_the_cut_off():
    """At λ = 0 a singular value equal to the cut-off ``max(n, p) eps s_max`` counts as zero,
    as in ``numpy.linalg.pinv`` (which keeps only ``s > rcond s_max``)."""
    import numpy as np

    eps = torch.finfo(torch.float64).eps
    X = torch.diag(torch.tensor([1.0, 2 * eps], dtype=torch.float64))  # cut-off 2 eps exactly
    y = torch.tensor([3.0, 1.0], dtype=torch.float64)
    got = ridge_path(X, y, [0.0])[0]
    want = np.linalg.pinv(X.numpy(), rcond=2 * eps) @ y.numpy()
    assert got.tolist() == pytest.approx(want.tolist()) and got.tolist() == [3.0, 0.0]


def test_default_cut_off_is_relative_to_the_top_singular_value_of_each_design():
    """The default cut-off is ``max(n, p) eps s_max`` of each design of a batch: with s_max = 10
    and n = p = 2 it is 20 eps, so 30 eps is kept and 10 eps dropped, in a batch of 5 trials
    (more trials than rows or columns: the cut-off must not count them)."""
    eps = torch.finfo(torch.float64).eps
    keep = torch.diag(torch.tensor([10.0, 30 * eps], dtype=torch.float64))
    drop = torch.diag(torch.tensor([10.0, 10 * eps], dtype=torch.float64))
    X = torch.stack([keep, drop, keep, drop, keep])
    y = torch.tensor([5.0, 3.0], dtype=torch.float64).expand(5, 2)
    kept, dropped = [5.0 / 10.0, 3.0 / (30 * eps)], [0.5, 0.0]
    want = torch.tensor([kept, dropped, kept, dropped, kept], dtype=torch.float64)
    for got in (min_norm_interpolator(X, y), ridge(X, y, 0.0), ridge_path(X, y, [0.0])[:, 0]):
        assert torch.allclose(got, want, rtol=1e-12, atol=0)


def test_ridge_path_rows_at_zero_and_one_of_a_rank_deficient_design():
    """λ = 0 is the minimum-norm interpolator (a zero singular value dropped, not inverted) and
    λ = 1 is ridge at 1, on a design whose third column repeats the first."""
    g = torch.Generator().manual_seed(4)
    X = torch.randn(2, 4, 3, generator=g, dtype=torch.float64)
    X[..., 2] = X[..., 0]
    y = torch.randn(2, 4, generator=g, dtype=torch.float64)
    path = ridge_path(X, y, [0.0, 1.0])
    assert torch.allclose(path[:, 0], min_norm_interpolator(X, y), atol=1e-10)
    assert torch.allclose(path[:, 1], ridge(X, y, 1.0), atol=1e-12)
    assert torch.allclose(ridge(X, y, 1.0), ridge(X, y[..., None], 1.0), atol=0, rtol=0)
    normal = torch.linalg.solve(X.mT @ X / 4 + torch.eye(3, dtype=X.dtype), X.mT @ y[..., None] / 4)
    assert torch.allclose(ridge(X, y, 1.0), normal[..., 0], atol=1e-12)


# ---------------------------------------------------------------- polynomial fits


def test_polynomial_fit_with_ridge_solves_the_normal_equations_by_hand():
    """λ > 0 (0.1, which float32 does not hold, and 1): c = (ΦᵀΦ/n + λI)⁻¹ Φᵀy/n with n = 4
    samples (not d = 1), and train_mse = mean((Φc - y)²), to 1e-13; λ = 0 is least squares."""
    from dlt.solve.polynomial import polynomial_fit

    z = torch.tensor([[0.0], [1.0], [2.0], [3.0]], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 2.0, 5.0], dtype=torch.float64)
    phi = torch.cat([torch.ones(4, 1, dtype=torch.float64), z], 1)
    for lam in (0.1, 1.0):
        fit = polynomial_fit(z, y, 1, ridge=lam)
        want = torch.linalg.solve(
            phi.T @ phi / 4 + lam * torch.eye(2, dtype=torch.float64), phi.T @ y / 4
        )
        torch.testing.assert_close(fit.coef, want, rtol=1e-13, atol=0)
        assert fit.train_mse == pytest.approx(float(((phi @ want - y) ** 2).mean()), rel=1e-13)
    ls = polynomial_fit(z, y, 1)
    torch.testing.assert_close(ls.coef, torch.linalg.lstsq(phi, y[:, None]).solution[:, 0])
    assert ls.train_mse == pytest.approx(1.05, rel=1e-12)  # residuals -1.1, 1.3, 0.7, -0.9


def test_polynomial_fit_dtypes_and_the_smallest_sizes():
    """y is taken to z's dtype (float32 y, float64 z), a fit in float64 predicts float32 inputs
    in float64; d = 1 and degree 0 are valid (the constant fit: the mean)."""
    from dlt.solve.polynomial import monomial_exponents, polynomial_fit

    assert monomial_exponents(1, 0).tolist() == [[0]]
    z = torch.tensor([[0.5], [1.0], [2.0]], dtype=torch.float64)
    fit = polynomial_fit(z, torch.tensor([1.0, 2.0, 6.0]), 0)
    assert fit.coef.dtype == torch.float64 and fit.coef.tolist() == pytest.approx([3.0])
    out = fit.predict(torch.tensor([[7.0]]))
    assert out.dtype == torch.float64 and out.tolist() == pytest.approx([3.0])


def test_polynomial_errors_name_the_argument():
    """No @validate_params in solve/polynomial.py: its own checks are the boundary."""
    from dlt.solve.polynomial import monomial_exponents, monomial_features, polynomial_fit

    z3 = torch.zeros(2, 2, 2)
    cases = [
        (lambda: monomial_exponents(0, 1), r"^d must be >= 1, got 0$"),
        (lambda: monomial_exponents(1, -1), r"^degree must be >= 0, got -1$"),
        (lambda: monomial_features(z3, 1), r"^z must have shape \(n, d\), got shape \(2, 2, 2\)$"),
        (lambda: polynomial_fit(z3, torch.zeros(2), 1), r"^z must have shape \(n, d\), got shape"),
        (lambda: polynomial_fit(torch.zeros(3, 1), torch.zeros(2), 1),
         r"^y must have length 3 to match the inputs, got 2$"),
        (lambda: polynomial_fit(torch.zeros(3, 1), torch.zeros(3), 1, ridge=-1.0),
         r"^ridge must be >= 0, got -1\.0$"),
    ]  # fmt: skip
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
