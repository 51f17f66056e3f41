import math

import numpy as np
import pytest
import torch

from dlt import interpolation as I


def _problem(trials, n, p, sigma, seed):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(trials, n, p, generator=g, dtype=torch.float64)
    beta = torch.randn(trials, p, generator=g, dtype=torch.float64)
    beta = beta / beta.norm(dim=1, keepdim=True)
    y = (X @ beta.unsqueeze(-1)).squeeze(-1) + sigma * torch.randn(
        trials, n, generator=g, dtype=torch.float64
    )
    return X, beta, y


@pytest.mark.parametrize("n,p", [(30, 10), (10, 30), (20, 20)])
def test_min_norm_matches_numpy_pinv(n, p):
    X, _, y = _problem(3, n, p, 0.5, seed=n + p)
    got = I.min_norm_interpolator(X, y).numpy()
    want = np.einsum("tpn,tn->tp", np.linalg.pinv(X.numpy()), y.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
    single = I.min_norm_interpolator(X[0], y[0]).numpy()  # unbatched gives the same
    np.testing.assert_allclose(single, want[0], rtol=1e-8, atol=1e-10)


def test_min_norm_interpolates_and_rank_deficient_design():
    X, _, y = _problem(2, 8, 40, 1.0, seed=1)
    assert torch.allclose(X @ I.min_norm_interpolator(X, y).unsqueeze(-1), y.unsqueeze(-1))
    Xr = torch.cat([X[0], X[0]], dim=1)  # duplicated columns: rank 8 in 80 columns
    np.testing.assert_allclose(
        I.min_norm_interpolator(Xr, y[0]).numpy(),
        np.linalg.pinv(Xr.numpy()) @ y[0].numpy(),
        atol=1e-10,
    )


def test_ridge_matches_normal_equations_and_path():
    X, _, y = _problem(2, 15, 25, 0.3, seed=2)
    lam = 0.3
    want = torch.linalg.solve(
        X.transpose(1, 2) @ X / 15 + lam * torch.eye(25, dtype=X.dtype),
        (X.transpose(1, 2) @ y.unsqueeze(-1) / 15),
    ).squeeze(-1)
    assert torch.allclose(I.ridge(X, y, lam), want, atol=1e-10)
    path = I.ridge_path(X, y, [0.0, lam])
    assert torch.allclose(path[:, 1], want, atol=1e-10)
    assert torch.allclose(path[:, 0], I.min_norm_interpolator(X, y), atol=1e-10)
    assert torch.allclose(I.ridge(X, y, 0.0), I.min_norm_interpolator(X, y))
    # small penalties converge to the min-norm interpolator (p > n)
    assert torch.allclose(I.ridge(X, y, 1e-10), I.min_norm_interpolator(X, y), atol=1e-5)


def test_random_features_shapes_and_reproducible():
    X = torch.randn(2, 7, 4)
    F1 = I.random_features(X, 11, "relu", seed=3)
    assert F1.shape == (2, 7, 11) and (F1 >= 0).all()
    assert torch.equal(F1, I.random_features(X, 11, "relu", seed=3))
    assert not torch.equal(F1, I.random_features(X, 11, "relu", seed=4))
    lin = I.random_features(X[0], 5, "identity", seed=0)
    g = torch.Generator().manual_seed(0)
    W = torch.randn(5, 4, generator=g, dtype=torch.float64).float()
    assert torch.allclose(lin, X[0] @ W.T / 2.0, atol=1e-6)


def test_closed_form_values_and_limits():
    assert I.asymptotic_risk_isotropic(0.5, signal=1, noise=1) == pytest.approx(1.0)
    assert I.asymptotic_risk_isotropic(2.0, signal=1, noise=1) == pytest.approx(1.5)
    assert math.isinf(I.asymptotic_risk_isotropic(1.0, signal=1, noise=1))
    assert I.asymptotic_risk_isotropic(2.0, signal=1.0, noise=0.5**0.5) == pytest.approx(
        1.0 * 0.5 + 0.5
    )
    g = np.array([0.3, 0.8, 1.5, 4.0])
    # ridge formula tends to the ridgeless one as lam -> 0
    np.testing.assert_allclose(
        I.asymptotic_risk_isotropic(g, signal=1, noise=0.5, lam=1e-7),
        I.asymptotic_risk_isotropic(g, signal=1, noise=0.5),
        rtol=1e-4,
    )
    # optimal ridge is the minimum over lam
    lams = np.geomspace(1e-3, 10, 2000)
    for gamma in g:
        best = min(
            I.asymptotic_risk_isotropic(gamma, signal=1, noise=0.5, lam=float(l)) for l in lams
        )
        assert I.optimal_ridge_risk(gamma, signal=1, noise=0.5) == pytest.approx(best, rel=1e-4)
    assert I.optimal_ridge_risk(2.0, signal=1.0, noise=0.0) == pytest.approx(0.5)


def test_mp_stieltjes_against_its_definition():
    # m(-lam) = E 1/(s + lam) over the eigenvalues of X^T X / n (including zeros for p > n)
    n, p, lam = 2000, 1000, 0.7
    X = torch.randn(n, p, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    s = torch.linalg.eigvalsh(X.T @ X / n).numpy()
    assert I.mp_stieltjes(-lam, p / n) == pytest.approx(np.mean(1 / (s + lam)), rel=5e-3)


@pytest.mark.parametrize("gamma,lam", [(0.5, 0.0), (2.0, 0.0), (0.5, 0.5), (2.0, 0.5)])
def test_asymptotic_risk_matches_large_n_simulation(gamma, lam):
    n, trials, r2, sigma2 = 800, 8, 1.0, 0.25
    p = int(gamma * n)
    X, beta, y = _problem(trials, n, p, sigma2**0.5, seed=int(10 * gamma + 100 * lam))
    risk = ((I.ridge(X, y, lam) - beta) ** 2).sum(-1).numpy()
    se = risk.std(ddof=1) / math.sqrt(trials)
    theory = I.asymptotic_risk_isotropic(gamma, signal=r2**0.5, noise=sigma2**0.5, lam=lam)
    # 4 standard errors of the simulation plus the O(1/n) finite-size bias (about 1% at n = 800)
    assert abs(risk.mean() - theory) <= 4 * se + 0.01 * theory


def test_effective_ranks_hand_computed():
    assert I.effective_ranks([4.0, 1.0, 1.0, 1.0], 0) == pytest.approx((7 / 4, 49 / 19))
    assert I.effective_ranks([1.0, 4.0, 1.0, 1.0], 1) == pytest.approx(
        (3.0, 3.0)
    )  # sorted internally
    assert I.effective_ranks(np.ones(10), 3) == pytest.approx((7.0, 7.0))
    lam = 2.0 ** -np.arange(6)  # 1, 1/2, ..., 1/32
    tail = lam[2:]
    assert I.effective_ranks(lam, 2) == pytest.approx(
        (tail.sum() / tail[0], tail.sum() ** 2 / (tail**2).sum())
    )
    r, R = I.effective_ranks([1.0, 0.0, 0.0], 1)
    assert math.isinf(r) and math.isinf(R)


def test_critical_index_and_bll_bound():
    spec = [1.0] * 5 + [0.005] * 10_000  # r_0 = 55 < n, r_5 = 10_000 >= n
    assert I.critical_index(spec, 100) == 5
    assert I.critical_index(np.ones(1000), 100) == 0
    assert I.critical_index(np.ones(50), 100) == 50  # no k qualifies
    b = I.bll_risk_bound(spec, 100, noise=1.0, delta=0.1)
    r0 = (5 + 50) / 1.0
    assert b.k_star == 5
    assert b.bias == pytest.approx(
        max(math.sqrt(r0 / 100), r0 / 100, math.sqrt(math.log(10) / 100))
    )
    assert b.variance == pytest.approx(math.log(10) * (5 / 100 + 100 / 10_000))
    assert b.total == pytest.approx(b.bias + b.variance)
    assert math.isinf(I.bll_risk_bound(np.ones(50), 100, noise=1.0).variance)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="gamma"):
        I.asymptotic_risk_isotropic(0.0)
    with pytest.raises(ValueError, match="gamma"):
        I.optimal_ridge_risk([-1.0, 2.0])
    with pytest.raises(ValueError, match="noise"):
        I.asymptotic_risk_isotropic(2.0, noise=-1.0)
    with pytest.raises(ValueError, match="noise"):
        I.bll_risk_bound([1.0, 1.0], 1, noise=-0.5)
    with pytest.raises(ValueError, match="lam"):
        I.ridge(torch.randn(3, 2), torch.randn(3), -1.0)
    with pytest.raises(ValueError, match="eigenvalues"):
        I.effective_ranks([1.0, -0.1], 0)
    with pytest.raises(ValueError, match="k must be"):
        I.effective_ranks([1.0, 0.5], 2)
    with pytest.raises(ValueError, match="y must have length 5"):
        I.min_norm_interpolator(torch.randn(5, 3), torch.randn(4))
    with pytest.raises(ValueError, match="X must have shape"):
        I.ridge(torch.randn(5), torch.randn(5), 0.1)
    with pytest.raises(ValueError, match="activation"):
        I.random_features(torch.randn(3, 2), 4, "sigmoidal")
