import math

import pytest
import torch

from dlt import kernels
from dlt.data import sphere
from dlt.nets import MLP


def _bivariate(k11, k22, k12, n=2_000_000, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 2, generator=g, dtype=torch.float64)
    cov = torch.tensor([[k11, k12], [k12, k22]], dtype=torch.float64)
    return z @ torch.linalg.cholesky(cov).T


@pytest.mark.parametrize("k11,k22,k12", [(1.0, 1.0, 0.3), (2.0, 0.5, -0.6), (0.7, 1.3, 0.9)])
def test_relu_expectations_match_monte_carlo(k11, k22, k12):
    uv = _bivariate(k11, k22, k12)
    u, v = uv[:, 0], uv[:, 1]
    _, _, e12, d12 = kernels.relu_expectations(
        torch.tensor([k11], dtype=torch.float64),
        torch.tensor([k22], dtype=torch.float64),
        torch.tensor([[k12]], dtype=torch.float64),
    )
    mc = torch.relu(u) * torch.relu(v)
    mcd = ((u > 0) & (v > 0)).double()
    assert abs(float(e12) - float(mc.mean())) < 5 * float(mc.std()) / math.sqrt(len(mc))
    assert abs(float(d12) - float(mcd.mean())) < 5 * float(mcd.std()) / math.sqrt(len(mcd))


@pytest.mark.parametrize("k11,k22,k12", [(1.0, 1.0, 0.3), (2.0, 0.5, -0.6)])
def test_erf_expectations_match_monte_carlo(k11, k22, k12):
    uv = _bivariate(k11, k22, k12)
    u, v = uv[:, 0], uv[:, 1]
    e11, _, e12, d12 = kernels.erf_expectations(
        torch.tensor([k11], dtype=torch.float64),
        torch.tensor([k22], dtype=torch.float64),
        torch.tensor([[k12]], dtype=torch.float64),
    )
    mc = torch.erf(u) * torch.erf(v)
    deriv = (4 / math.pi) * torch.exp(-(u**2) - v**2)
    assert abs(float(e12) - float(mc.mean())) < 5 * float(mc.std()) / math.sqrt(len(mc))
    assert abs(float(d12) - float(deriv.mean())) < 5 * float(deriv.std()) / math.sqrt(len(deriv))
    assert abs(float(e11) - float((torch.erf(u) ** 2).mean())) < 1e-2


def test_depth_zero_is_the_linear_kernel():
    x = torch.randn(5, 3, dtype=torch.float64)
    k = kernels.relu_nngp(x, depth=0, sigma_w=1.5, sigma_b=0.5)
    assert torch.allclose(k, 1.5**2 * x @ x.T / 3 + 0.25)
    assert torch.allclose(kernels.relu_ntk(x, depth=0, sigma_w=1.5, sigma_b=0.5), k)


def test_one_hidden_layer_by_hand():
    # Orthogonal inputs e1, e2 in d = 2 with sigma_w^2 = 2: K^0 = I, theta = pi/2.
    x = torch.eye(2, dtype=torch.float64)
    k = kernels.relu_nngp(x, depth=1, sigma_w=math.sqrt(2))
    t = kernels.relu_ntk(x, depth=1, sigma_w=math.sqrt(2))
    # K^1 = 2 E[relu relu]: diagonal 2 * 1/2 = 1, off-diagonal 2 * 1/(2 pi) = 1/pi.
    assert torch.allclose(
        k, torch.tensor([[1.0, 1 / math.pi], [1 / math.pi, 1.0]], dtype=torch.float64)
    )
    # Theta^1 = K^1 + 2 E[step step] K^0: diagonal 1 + 2 * 1/2 * 1 = 2; off-diagonal 1/pi + 0.
    assert torch.allclose(
        t, torch.tensor([[2.0, 1 / math.pi], [1 / math.pi, 2.0]], dtype=torch.float64)
    )


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_relu_nngp_matches_random_wide_networks(depth):
    x = sphere(5, 4, seed=1)
    net = MLP([4] + [256] * depth + [1], sigma_w=1.4, sigma_b=0.2, seed=0)
    f = net.sample_outputs(x, 8000, seed=3, chunk=500)[..., 0].double()
    emp = f.T @ f / f.shape[0]
    k = kernels.relu_nngp(x, depth=depth, sigma_w=1.4, sigma_b=0.2)
    # Monte Carlo standard error of a covariance entry: sqrt((K_ii K_jj + K_ij^2) / M).
    se = torch.sqrt((torch.outer(k.diag(), k.diag()) + k**2) / f.shape[0])
    assert torch.all((emp - k).abs() < 5 * se + 0.02 * k.abs()), (emp - k).abs().max()


def test_erf_nngp_matches_random_networks():
    x = sphere(4, 3, seed=2)
    net = MLP([3, 256, 1], activation="erf", sigma_w=1.2, sigma_b=0.1, seed=0)
    f = net.sample_outputs(x, 8000, seed=4, chunk=500)[..., 0].double()
    emp = f.T @ f / f.shape[0]
    k = net.nngp(x)
    se = torch.sqrt((torch.outer(k.diag(), k.diag()) + k**2) / f.shape[0])
    assert torch.all((emp - k).abs() < 5 * se)


def test_mean_empirical_ntk_matches_relu_ntk_one_layer():
    # For one hidden layer, E[empirical NTK] equals the limit exactly at any width.
    from dlt.ntk import empirical_ntk

    x = sphere(4, 3, seed=5, dtype=torch.float64)
    thetas = torch.stack(
        [
            empirical_ntk(MLP([3, 32, 1], sigma_w=1.3, sigma_b=0.4, seed=s, dtype=torch.float64), x)
            for s in range(300)
        ]
    )
    mean, se = thetas.mean(0), thetas.std(0) / math.sqrt(len(thetas))
    t = kernels.relu_ntk(x, depth=1, sigma_w=1.3, sigma_b=0.4)
    assert torch.all((mean - t).abs() < 5 * se + 1e-9)


def test_wide_empirical_ntk_is_close_to_the_limit():
    from dlt.ntk import empirical_ntk, kernel_distance

    x = sphere(6, 3, seed=1)
    net = MLP([3, 2048, 2048, 1], sigma_w=1.5, sigma_b=0.3, seed=0)
    assert kernel_distance(empirical_ntk(net, x), net.ntk(x)) < 0.12


def test_kernel_regression_interpolates_and_matches_solve():
    x = sphere(8, 3, seed=0)
    y = torch.randn(8, dtype=torch.float64)
    k = kernels.relu_ntk(x, depth=2)
    assert torch.allclose(kernels.kernel_regression(k, y, k), y, atol=1e-8)
    xs = sphere(4, 3, seed=1)
    ks = kernels.relu_ntk(xs, x, depth=2)
    ridge = kernels.kernel_regression(k, y, ks, ridge=0.1)
    assert torch.allclose(ridge, ks @ torch.linalg.solve(k + 0.1 * torch.eye(8, dtype=k.dtype), y))


def test_gp_posterior_matches_textbook_formula():
    x, xs = sphere(6, 2, seed=0), sphere(3, 2, seed=1)
    y = torch.randn(6, dtype=torch.float64)
    kxx, ksx = kernels.relu_nngp(x, depth=1), kernels.relu_nngp(xs, x, depth=1)
    kss = kernels.relu_nngp(xs, depth=1)
    mean, var = kernels.gp_posterior(kxx, y, ksx, kss.diag(), noise=0.1)
    a = kxx + 0.01 * torch.eye(6, dtype=torch.float64)
    assert torch.allclose(mean, ksx @ torch.linalg.solve(a, y))
    assert torch.allclose(var, (kss - ksx @ torch.linalg.solve(a, ksx.T)).diag())


def test_kernel_gd_dynamics_matches_iterated_gradient_descent():
    g = torch.Generator().manual_seed(0)
    n, m = 7, 4
    a = torch.randn(n + m, 5, generator=g, dtype=torch.float64)
    theta = a @ a.T
    tx, tsx = theta[:n, :n], theta[n:, :n]
    y, f0, f0s = (torch.randn(k, generator=g, dtype=torch.float64) for k in (n, n, m))
    lr, steps = 0.3, 25
    f, fs = f0.clone(), f0s.clone()
    for _ in range(steps):  # GD on a linear model with tangent kernel theta and loss 1/(2n)|f-y|^2
        r = f - y
        f, fs = f - lr / n * tx @ r, fs - lr / n * tsx @ r
    ft, fst = kernels.kernel_gd_dynamics(tx, tsx, y, f0, f0s, steps, lr=lr)
    assert torch.allclose(ft[0], f) and torch.allclose(fst[0], fs)


def test_kernel_gd_dynamics_small_eigenvalues_without_cancellation():
    # Theta = diag(1, lam) on n = 2 points, test rows = identity: after t steps of size lr the
    # test output of coordinate k is h_k (y_k - f0_k) with h_k = (1 - (1 - x_k)^t) / lam_k and
    # x_k = lr lam_k / n; at x = 5e-10, 1 - (1 - x)^3 = 3x - 3x^2 + x^3 exactly enough, while
    # forming (1 - x)^3 first loses 7 of 16 digits
    for lam, lr, t in [(1e-9, 1.0, 3), (1e-6, 0.5, 1000), (3.0, 1.0, 7)]:
        theta = torch.diag(torch.tensor([1.0, lam], dtype=torch.float64))
        y, f0 = torch.tensor([1.0, 1.0], dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
        _, fs = kernels.kernel_gd_dynamics(
            theta, torch.eye(2, dtype=torch.float64), y, f0, f0, t, lr=lr
        )
        x = lr * lam / 2
        if x < 1e-3:
            want = sum(math.comb(t, k) * (-1) ** (k + 1) * x**k for k in range(1, 6)) / lam
        else:  # x = 1.5: the oscillating side, (1 - x)^t directly
            want = (1 - (1 - x) ** t) / lam
        assert abs(float(fs[0, 1]) - want) <= 1e-13 * abs(want)


def test_kernel_gd_dynamics_flow_limits():
    x = sphere(5, 3, seed=0)
    xs = sphere(3, 3, seed=1)
    tx, tsx = kernels.relu_ntk(x, depth=1), kernels.relu_ntk(xs, x, depth=1)
    y, f0, f0s = torch.randn(5, dtype=torch.float64), torch.zeros(5), torch.zeros(3)
    ft, fst = kernels.kernel_gd_dynamics(tx, tsx, y, f0, f0s, torch.tensor([0.0, 1e7]))
    assert torch.allclose(ft[0], f0.double()) and torch.allclose(fst[0], f0s.double())
    assert torch.allclose(ft[1], y, atol=1e-6)
    assert torch.allclose(fst[1], kernels.kernel_regression(tx, y, tsx), atol=1e-6)
    # Continuous time against the matrix exponential.
    ft, _ = kernels.kernel_gd_dynamics(tx, tsx, y, f0, f0s, 2.0)
    expect = y - torch.linalg.matrix_exp(-tx * 2.0 / 5) @ y
    assert torch.allclose(ft[0], expect)


def test_kernel_errors_name_the_argument():
    """Inputs that disagree with each other (the bad values of one argument are generated from
    the declarations in tests/test_api.py)."""
    with pytest.raises(ValueError, match="same number of features"):
        kernels.relu_ntk(torch.randn(3, 2), torch.randn(3, 4))


def test_unknown_activation_is_rejected():
    with pytest.raises(ValueError, match="activation must be one of"):
        kernels.nngp(torch.randn(2, 2), activation="gelu")


def test_dynamics_errors():
    k = torch.eye(3)
    with pytest.raises(ValueError, match="theta_test_train"):
        kernels.kernel_gd_dynamics(
            k, torch.ones(2, 4), torch.ones(3), torch.ones(3), torch.ones(2), 1.0
        )
    with pytest.raises(ValueError, match="y must have length 3"):
        kernels.kernel_gd_dynamics(
            k, torch.ones(2, 3), torch.ones(4), torch.ones(3), torch.ones(2), 1.0
        )
    with pytest.raises(ValueError, match="t must be >= 0"):
        kernels.kernel_gd_dynamics(
            k, torch.ones(2, 3), torch.ones(3), torch.ones(3), torch.ones(2), -1.0
        )
