"""dlt.icl against explicit GD steps, a Monte Carlo risk minimization and known Lasso solutions."""

import math

import pytest
import torch

from dlt import icl


def _prompts(n=64, n_context=12, dim=4, noise=0.3, seed=0):
    return icl.sample_regression_tasks(n, n_context, dim, noise, seed=seed, dtype=torch.float64)


def test_prompt_layout():
    P, t, w = icl.sample_regression_tasks(
        5, 7, 3, 0.0, seed=1, return_weights=True, dtype=torch.float64
    )
    assert P.shape == (5, 8, 4) and t.shape == (5,) and w.shape == (5, 3)
    X, y, xq = icl.prompt_parts(P, 3)
    assert torch.allclose(y, torch.einsum("bnd,bd->bn", X, w))  # noiseless labels
    assert torch.allclose(t, (xq * w).sum(-1))
    assert torch.all(P[:, -1, -1] == 0)


def test_gd_construction_equals_explicit_gd_step():
    P, _ = _prompts()
    X, y, xq = icl.prompt_parts(P)
    lr = 0.37
    w1 = -lr * torch.einsum("bnd,bn->bd", X, torch.zeros_like(y) - y) / X.shape[1]  # w0 = 0
    explicit = (xq * w1).sum(-1)
    lsa = icl.LinearSelfAttention(4, 1).double().set_gd(lr)
    torch.testing.assert_close(lsa(P), explicit, rtol=0, atol=1e-12)
    torch.testing.assert_close(icl.one_step_gd_predictor(P, lr=lr), explicit, rtol=0, atol=1e-12)
    # L layers are L steps
    lsa3 = icl.LinearSelfAttention(4, 3).double().set_gd(lr)
    torch.testing.assert_close(lsa3(P), icl.gd_predictor(P, lr, 3), rtol=0, atol=1e-12)


def test_gd_construction_with_preconditioner_and_effective_matrix():
    P, _ = _prompts(dim=3)
    gamma = torch.tensor([[0.5, 0.1, 0.0], [0.1, 0.3, 0.0], [0.0, 0.0, 0.9]], dtype=torch.float64)
    lsa = icl.LinearSelfAttention(3, 1).double()
    q, v = icl.gd_construction(3, gamma)
    with torch.no_grad():
        lsa.Q[0], lsa.V[0] = q, v
    torch.testing.assert_close(
        lsa(P), icl.one_step_gd_predictor(P, preconditioner=gamma), rtol=0, atol=1e-12
    )
    torch.testing.assert_close(lsa.effective_preconditioner(), gamma)


def test_optimal_preconditioner_matches_monte_carlo_minimization():
    # minimize the empirical one-step risk over Gamma on many prompts: a least-squares problem in Gamma
    n_context, dim, noise = 6, 3, 0.5
    cov = torch.tensor([[2.0, 0.3, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 0.5]], dtype=torch.float64)
    P, t = icl.sample_regression_tasks(
        200_000, n_context, dim, noise, seed=3, covariance=cov, dtype=torch.float64
    )
    X, y, xq = icl.prompt_parts(P)
    h = torch.einsum("bn,bnd->bd", y, X) / n_context
    features = torch.einsum("bd,be->bde", xq, h).reshape(len(t), -1)  # yhat = <x_q h^T, Gamma>
    gamma_mc = torch.linalg.lstsq(features, t[:, None]).solution.reshape(dim, dim)
    gamma = icl.optimal_one_step_preconditioner(n_context, dim, cov, noise=noise)
    assert torch.linalg.norm(gamma_mc - gamma) / torch.linalg.norm(gamma) < 0.03
    # the closed-form risk agrees with the Monte Carlo risk, and Gamma* beats perturbations of it
    risk_mc = float(((features @ gamma.reshape(-1) - t) ** 2).mean())
    assert icl.one_step_risk(gamma, n_context, cov, noise) == pytest.approx(risk_mc, rel=0.01)
    for scale in (0.9, 1.1):
        assert icl.one_step_risk(scale * gamma, n_context, cov, noise) > icl.one_step_risk(
            gamma, n_context, cov, noise
        )


def test_isotropic_closed_form():
    g = icl.optimal_one_step_preconditioner(20, 5, noise=0.5)
    torch.testing.assert_close(g, 20 / (21 + 5 + 0.25) * torch.eye(5, dtype=torch.float64))
    assert icl.one_step_risk(g, 20, noise=0.5) == pytest.approx(5.25 - 5 * 20 / 26.25)


def test_least_squares_and_ridge():
    P, t = icl.sample_regression_tasks(16, 10, 3, 0.0, seed=0, dtype=torch.float64)
    torch.testing.assert_close(icl.least_squares_predictor(P), t)
    X, y, xq = icl.prompt_parts(P)
    lam = 0.7
    # the one ridge convention: (X^T X / N + lam I)^{-1} X^T y / N, with N = 10 examples
    w = torch.linalg.solve(
        X.mT @ X / 10 + lam * torch.eye(3, dtype=X.dtype), X.mT @ y[..., None] / 10
    )[..., 0]
    torch.testing.assert_close(icl.ridge_predictor(P, lam), (xq * w).sum(-1))


def test_lasso_orthogonal_design_is_soft_threshold():
    n, d = 8, 4
    q, _ = torch.linalg.qr(torch.randn(n, d, dtype=torch.float64))
    X = (q * n**0.5)[None]  # X^T X / n = I
    w_true = torch.tensor([[1.5, 0.0, -0.2, 0.8]], dtype=torch.float64)
    y = torch.einsum("bnd,bd->bn", X, w_true)
    lam = 0.3
    expected = torch.sign(w_true) * (w_true.abs() - lam).clamp_min(0)
    torch.testing.assert_close(icl.lasso(X, y, lam, n_iter=200), expected, atol=1e-8, rtol=0)


def test_lasso_recovers_sparse_vector_and_kkt():
    g = torch.Generator().manual_seed(0)
    B, n, d = 8, 30, 20
    X = torch.randn(B, n, d, generator=g, dtype=torch.float64)
    w = torch.zeros(B, d, dtype=torch.float64)
    w[:, :2] = torch.tensor([2.0, -1.5], dtype=torch.float64)
    y = torch.einsum("bnd,bd->bn", X, w)
    lam = 0.01
    w_hat = icl.lasso(X, y, lam, n_iter=3000)
    assert (w_hat - w).abs().max() < 0.05
    # KKT: |X^T (y - Xw)/n| <= lam everywhere, = lam sign(w) on the support
    grad = torch.einsum("bnd,bn->bd", X, y - torch.einsum("bnd,bd->bn", X, w_hat)) / n
    assert grad.abs().max() <= lam * (1 + 1e-3)
    on = w_hat.abs() > 1e-6
    torch.testing.assert_close(grad[on], lam * torch.sign(w_hat[on]), atol=1e-5, rtol=0)


def test_bayes_predictor_reduces_to_ridge():
    P, _ = _prompts(n=64, n_context=5, dim=4, noise=0.3)
    ridge = icl.ridge_predictor(P, 0.09 / 5)  # lambda = sigma^2 / N
    torch.testing.assert_close(icl.bayes_predictor(P, {"dense": 1.0}, noise=0.3), ridge)
    # k = d: the only support is every coordinate, with prior variance d/k = 1: the dense model again
    pred, p_sparse = icl.bayes_predictor(
        P, {"dense": 0.3, "sparse": 0.7}, sparsity=4, noise=0.3, return_posterior=True
    )
    torch.testing.assert_close(pred, ridge)
    torch.testing.assert_close(p_sparse, torch.full_like(p_sparse, 0.7))


def test_bayes_predictor_matches_importance_sampling():
    # brute force: posterior mean of w^T x_q by weighting 400,000 draws of the prior by their likelihood
    d, k, n, noise = 3, 1, 2, 0.5
    mix = {"dense": 0.4, "sparse": 0.6}
    s = icl.sample_task_mixture(6, n, d, mix, sparsity=k, noise=noise, seed=5, dtype=torch.float64)
    P = icl.linear_prompts(s.tokens)
    X, y, xq = icl.prompt_parts(P)
    g = torch.Generator().manual_seed(0)
    m = 400_000
    fam = torch.rand(m, generator=g, dtype=torch.float64) < mix["sparse"]
    dense = torch.randn(m, d, generator=g, dtype=torch.float64)
    support = torch.randint(0, d, (m,), generator=g)
    sparse = torch.zeros(m, d, dtype=torch.float64)
    sparse[torch.arange(m), support] = (
        torch.randn(m, generator=g, dtype=torch.float64) * (d / k) ** 0.5
    )
    W = torch.where(fam[:, None], sparse, dense)  # (m, d)
    loglik = -((y[:, :, None] - X @ W.T) ** 2).sum(1) / (2 * noise**2)  # (B, m)
    post = torch.softmax(loglik, 1)
    brute = (post * (xq @ W.T)).sum(1)
    ess = 1 / (post**2).sum(1)  # effective sample size of the weights
    assert ess.min() > 2000
    spread = (
        (post * (xq @ W.T - brute[:, None]) ** 2).sum(1) / ess
    ).sqrt()  # Monte Carlo standard error
    pred, p_sparse = icl.bayes_predictor(P, mix, sparsity=k, noise=noise, return_posterior=True)
    assert ((pred - brute).abs() / spread).max() < 5
    torch.testing.assert_close(p_sparse, (post * fam.double()).sum(1), atol=0.02, rtol=0)


def test_bayes_predictor_is_the_best_on_its_prior():
    d, k, noise = 6, 1, 0.1
    for n in (2, 4):
        s = icl.sample_task_mixture(
            4000, n, d, {"dense": 0.5, "sparse": 0.5}, sparsity=k, noise=noise, seed=n
        )
        P, t = icl.linear_prompts(s.tokens), s.targets[:, 0]
        mse = {
            name: float(((f - t) ** 2).mean())
            for name, f in {
                "bayes": icl.bayes_predictor(
                    P, {"dense": 0.5, "sparse": 0.5}, sparsity=k, noise=noise
                ),
                "ridge": icl.ridge_predictor(P, noise**2 / n),
                "ols": icl.least_squares_predictor(P),
                "lasso": icl.lasso_predictor(P, 0.03, 200),
            }.items()
        }
        assert mse["bayes"] < min(mse["ridge"], mse["ols"], mse["lasso"]), mse


def test_discrete_prior_predictor():
    P, t, w = icl.sample_regression_tasks(
        50, 6, 3, 0.2, seed=2, return_weights=True, dtype=torch.float64
    )
    X, y, xq = icl.prompt_parts(P)
    torch.testing.assert_close(icl.discrete_prior_predictor(P, w[:1], 0.2), xq @ w[0])
    tasks = torch.cat(
        [w[:1], torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))]
    )
    loglik = torch.stack([-((y - X @ v) ** 2).sum(1) / (2 * 0.04) for v in tasks], 1)
    expected = (torch.softmax(loglik, 1) * torch.stack([xq @ v for v in tasks], 1)).sum(1)
    torch.testing.assert_close(icl.discrete_prior_predictor(P, tasks, 0.2), expected)
    # the first prompt was labelled by tasks[0]: its posterior concentrates there
    torch.testing.assert_close(
        icl.discrete_prior_predictor(P[:1], tasks, 0.2), xq[:1] @ w[0], atol=1e-6, rtol=0
    )


def test_task_mixture_and_transformer_shapes():
    s = icl.sample_task_mixture(
        6, 8, 5, {"dense": 1, "sparse": 1, "sign": 1}, n_queries=3, n_min=2, seed=0
    )
    assert s.tokens.shape == (6, 11, 8) and s.targets.shape == (6, 3)
    assert torch.all(s.tokens[:, -3:, -2] == 1)
    model = icl.SoftmaxTransformer(5, width=16, depth=1, heads=2)
    assert model(s.tokens).shape == (6, 3)
    # invalid context tokens are ignored: changing them does not change the prediction
    tok = s.tokens.clone()
    invalid = tok[..., -1] == 0
    tok[..., :-2][invalid] = 5.0
    torch.testing.assert_close(model(tok), model(s.tokens))
    sp = icl.sample_task_mixture(50, 8, 6, {"sparse": 1}, sparsity=2, seed=1)
    assert torch.all(sp["family"] == icl.FAMILIES.index("sparse"))


def test_superposition_prompt_mixes_two_tasks():
    s = icl.sample_task_mixture(4, 10, 3, {"dense": 1}, second="sign", share=0.6, seed=0)
    X = s.tokens[:, :10, :3]
    y = s.tokens[:, :10, 3]
    # 4 of the 10 examples of each prompt are relabelled by a sign task (labels +-1)
    n_sign = ((y.abs() - 1).abs() < 1e-6).sum(1)
    assert torch.all(n_sign >= 4) and X.shape == (4, 10, 3)


def test_errors_name_the_argument():
    P, _ = _prompts(dim=4)
    with pytest.raises(ValueError, match="dim"):
        icl.LinearSelfAttention(3, 1)(P)
    with pytest.raises(ValueError, match="n_context"):
        icl.sample_regression_tasks(4, 0, 3)
    with pytest.raises(ValueError, match="n_context"):
        icl.optimal_one_step_preconditioner(0, 3)
    with pytest.raises(ValueError, match="preconditioner"):
        icl.one_step_gd_predictor(P, preconditioner=torch.eye(3))
    with pytest.raises(ValueError, match="lr"):
        icl.gd_construction(4, torch.eye(2))
    with pytest.raises(ValueError, match="exactly one"):
        icl.one_step_gd_predictor(P)
    with pytest.raises(ValueError, match="covariance"):
        icl.sample_regression_tasks(4, 5, 3, covariance=torch.eye(2))
    with pytest.raises(ValueError, match="prompts"):
        icl.least_squares_predictor(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="preconditioner"):
        icl.one_step_risk(torch.ones(2, 3), 5)
    with pytest.raises(ValueError, match="weights"):
        icl.sample_task_mixture(2, 3, 2, {"cubic": 1.0})
    with pytest.raises(ValueError, match="tokens"):
        icl.SoftmaxTransformer(3, width=8, depth=1, heads=2)(torch.zeros(2, 4, 5))
    with pytest.raises(ValueError, match="weights"):
        icl.bayes_predictor(P, {"sign": 1.0})
    with pytest.raises(ValueError, match="sparsity"):
        icl.bayes_predictor(P, {"sparse": 1.0}, sparsity=9)
    with pytest.raises(ValueError, match="tasks"):
        icl.discrete_prior_predictor(P, torch.zeros(2, 3), 0.1)
    with pytest.raises(ValueError, match="task_pool"):
        icl.sample_task_mixture(2, 3, 4, {"dense": 1.0}, task_pool=torch.zeros(2, 3))


@pytest.mark.parametrize("family", ["dense", "sparse"])
def test_sample_task_mixture_applies_its_noise(family):
    """Planted-bug guard: the context labels carry noise of standard deviation `noise`; queries do not."""
    kw = dict(
        n_tasks=4000,
        n_context=6,
        dim=3,
        weights={family: 1.0},
        n_queries=2,
        seed=7,
        dtype=torch.float64,
    )
    clean, noisy = (
        icl.sample_task_mixture(**kw, noise=0.0),
        icl.sample_task_mixture(**kw, noise=0.3),
    )
    diff = noisy.tokens[:, :6, 3] - clean.tokens[:, :6, 3]
    se = 0.3 / math.sqrt(2 * diff.numel())  # standard error of a standard deviation estimate
    assert abs(float(diff.std()) - 0.3) < 5 * se, float(diff.std())
    assert abs(float(diff.mean())) < 5 * 0.3 / math.sqrt(diff.numel())
    torch.testing.assert_close(noisy.targets, clean.targets)  # query targets are noise-free


def test_sample_regression_tasks_noise_is_a_standard_deviation():
    P, t, w = icl.sample_regression_tasks(
        4000, 5, 3, 0.25, seed=3, return_weights=True, dtype=torch.float64
    )
    X, y, xq = icl.prompt_parts(P)
    resid = torch.cat(
        [y - torch.einsum("bnd,bd->bn", X, w), (t - (xq * w).sum(-1))[:, None]], dim=1
    )
    assert abs(float(resid.std()) - 0.25) < 5 * 0.25 / math.sqrt(2 * resid.numel())
