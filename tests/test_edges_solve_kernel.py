"""Edge tests of dlt/solve/kernel.py: kernel ridge regression and the GP posterior.

Each test names the plausible bug it rejects; answers come from hand computation (diagonal
and rank-one kernels), never from the code under test.
"""

from __future__ import annotations

import pytest
import torch

from dlt.solve.kernel import gp_posterior, kernel_regression

F64 = torch.float64


def test_float32_inputs_give_float64_answers():
    """Rejects a solver that keeps a float32 argument float32 (``y`` or ``k_test_train``):
    the promise is float64 output, and torch refuses to mix float32 and float64 in a solve
    or a matrix product, so such a version fails or returns float32."""
    k = torch.tensor([[2.0, 0.0], [0.0, 2.0]])  # float32 everywhere
    y = torch.tensor([2.0, 4.0])
    pred = kernel_regression(k, y, k, ridge=2.0)  # K (K + 2I)^{-1} y = y / 2
    assert pred.dtype == F64
    torch.testing.assert_close(pred, torch.tensor([1.0, 2.0], dtype=F64), rtol=1e-15, atol=0)
    pred2 = kernel_regression(k, torch.stack([y, -y], 1), k, ridge=2.0)  # (n, k) targets
    assert pred2.dtype == F64
    torch.testing.assert_close(pred2, torch.tensor([[1.0, -1.0], [2.0, -2.0]], dtype=F64))
    mean, var = gp_posterior(k, y, k[:1], torch.tensor([2.0]), noise=2.0**0.5)
    assert mean.dtype == var.dtype == F64
    # one test point equal to training point 0: mean 2 * 2 / 4 = 1, var 2 - 2 * 2 / 4 = 1
    torch.testing.assert_close(mean, torch.tensor([1.0], dtype=F64))
    torch.testing.assert_close(var, torch.tensor([1.0], dtype=F64))


def test_mismatched_shapes_are_refused_naming_the_argument():
    """Rejects a missing or mangled shape check between arguments: the error must be a
    ValueError whose message starts with the argument's name and states both shapes
    (not a torch RuntimeError from inside a solve, nor a message that is None)."""
    k = torch.eye(3, dtype=F64)
    with pytest.raises(
        ValueError, match=r"^k_test_train must have shape \(m, 3\) to match k_train, got \(2, 4\)$"
    ):
        kernel_regression(k, torch.ones(3), torch.ones(2, 4))
    with pytest.raises(
        ValueError, match=r"^y must have shape \(3,\) or \(3, k\) to match k_train, got \(4,\)$"
    ):
        kernel_regression(k, torch.ones(4), torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"^y must have shape \(3,\) or \(3, k\) .* got \(2, 5\)$"):
        kernel_regression(k, torch.ones(2, 5), torch.ones(2, 3))
    with pytest.raises(
        ValueError, match=r"^k_test_train must have shape \(m, 3\) to match k_train, got \(2, 4\)$"
    ):
        gp_posterior(k, torch.ones(3), torch.ones(2, 4), torch.ones(2))
    with pytest.raises(ValueError, match=r"^y must have length 3 to match the inputs, got 4$"):
        gp_posterior(k, torch.ones(4), torch.ones(2, 3), torch.ones(2))
    with pytest.raises(ValueError, match=r"^y must have length 3 to match the inputs, got 2$"):
        gp_posterior(k, torch.ones(2), torch.ones(2, 3), torch.ones(2))
    with pytest.raises(
        ValueError, match=r"^k_test_diag must have length 2 to match the inputs, got 3$"
    ):
        gp_posterior(k, torch.ones(3), torch.ones(2, 3), torch.ones(3))
    with pytest.raises(
        ValueError, match=r"^k_test_diag must have length 2 to match the inputs, got 1$"
    ):
        gp_posterior(k, torch.ones(3), torch.ones(2, 3), torch.ones(1))


def test_gp_default_noise_is_zero_and_interpolates():
    """Rejects a wrong default ``noise``: the default must equal an explicit ``noise=0.0``,
    which interpolates the data and leaves no variance at a training point."""
    k = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=F64)
    y = torch.tensor([1.0, -3.0], dtype=F64)
    mean, var = gp_posterior(k, y, k, torch.diagonal(k))
    mean0, var0 = gp_posterior(k, y, k, torch.diagonal(k), noise=0.0)
    torch.testing.assert_close(mean, y, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(var, torch.zeros(2, dtype=F64), rtol=0, atol=1e-14)
    assert torch.equal(mean, mean0) and torch.equal(var, var0)


@pytest.mark.parametrize("c", [1e-40, 1e-200, 1e200])
def test_tiny_and_huge_kernels_keep_float64_scale_invariance(c):
    """Rejects building the ridge or noise term in float32 (``torch.eye`` without the
    kernel's dtype): ``c K`` with penalty ``c`` must give the same predictions as ``K`` with
    penalty 1 for any float64 scale c, while ``c = 1e-40`` is a float32 subnormal (its value
    rounded) and ``1e-200``, ``1e200`` do not exist in float32 at all."""
    k = c * torch.eye(2, dtype=F64)
    y = torch.tensor([1.0, 2.0], dtype=F64)
    want = y / 2  # c I (c I + c I)^{-1} y
    torch.testing.assert_close(kernel_regression(k, y, k, ridge=c), want, rtol=1e-14, atol=0)
    mean, var = gp_posterior(k, y, k, c * torch.ones(2, dtype=F64), noise=c**0.5)
    torch.testing.assert_close(mean, want, rtol=1e-14, atol=0)
    torch.testing.assert_close(var, torch.full((2,), c / 2, dtype=F64), rtol=1e-14, atol=0)


def test_singular_kernels_fall_back_to_the_pseudo_inverse():
    """Rejects a wrong fallback when the Cholesky factorization fails (a singular kernel:
    a point with zero features, or two copies of one point): using the failed factor, or a
    broken least-squares call, gives inf/NaN or an error. The least-squares solution of least
    norm projects ``y`` onto the kernel's range, computed here by hand."""
    # zero first diagonal entry: the factorization stops at the first pivot
    k = torch.tensor([[0.0, 0.0], [0.0, 1.0]], dtype=F64)
    y = torch.tensor([1.0, 3.0], dtype=F64)
    torch.testing.assert_close(kernel_regression(k, y, k), torch.tensor([0.0, 3.0], dtype=F64))
    # two copies of one point with different labels: predict their mean at both
    k = torch.ones(2, 2, dtype=F64)
    pred = kernel_regression(k, y, torch.tensor([[1.0, 1.0], [0.5, 0.5]], dtype=F64))
    torch.testing.assert_close(pred, torch.tensor([2.0, 1.0], dtype=F64))
    pred2 = kernel_regression(k, torch.stack([y, 2 * y], 1), k)
    torch.testing.assert_close(pred2, torch.tensor([[2.0, 4.0], [2.0, 4.0]], dtype=F64))
    mean, var = gp_posterior(k, y, torch.ones(1, 2, dtype=F64), torch.ones(1, dtype=F64))
    torch.testing.assert_close(mean, torch.tensor([2.0], dtype=F64))
    torch.testing.assert_close(var, torch.zeros(1, dtype=F64), rtol=0, atol=1e-14)


def test_rounding_indefinite_duplicate_points_get_the_mean_label():
    """Rejects a fallback solve without a singular-value cut-off (LAPACK's ``gelsy``, the
    default CPU driver of ``torch.linalg.lstsq``, or a plain solve): the kernel of two copies
    of one point, made indefinite by rounding (eigenvalues 2 and -3 * 2**-52), must be
    treated as the rank-one kernel it is, predicting the mean label 0.5 at both points,
    not an answer fitted to the rounding error."""
    d = 3 * 2.0**-52
    k = torch.tensor([[1.0, 1.0 + d], [1.0 + d, 1.0]], dtype=F64)
    y = torch.tensor([1.0, 0.0], dtype=F64)
    torch.testing.assert_close(kernel_regression(k, y, k), torch.full((2,), 0.5, dtype=F64))
    mean, _ = gp_posterior(k, y, k, torch.ones(2, dtype=F64))
    torch.testing.assert_close(mean, torch.full((2,), 0.5, dtype=F64))
