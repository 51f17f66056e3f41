r"""Bayes-optimal in-context predictors: the posterior mean under a task prior, computed exactly."""

from __future__ import annotations

import itertools
import math

import torch

from ..core.params import Int, Positive, Tensor, validate_params
from ..core.validate import check_int, check_positive
from ..data.prompts import check_tasks, prompt_parts

__all__ = ["bayes_predictor", "discrete_prior_predictor"]


@validate_params(
    {"prompts": Tensor(3, "(B, N + 1, d + 1)"), "sparsity": Int(1), "noise": Positive()}
)
def bayes_predictor(
    prompts: torch.Tensor,
    weights: dict[str, float],
    sparsity: int = 2,
    noise: float = 0.1,
    return_posterior: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    r"""Posterior-mean prediction under the dense/sparse task prior of :func:`dlt.icl.sample_task_mixture`.

    The prior is a mixture of Gaussian linear models :math:`m`: *dense*, :math:`w \sim \mathcal{N}(0, I_d)`,
    with probability :math:`p_{\text{dense}}`, and for each support :math:`S` of size :math:`k`,
    :math:`w_S \sim \mathcal{N}(0, \tfrac{d}{k} I_k)`, :math:`w_{S^c} = 0`, with probability
    :math:`p_{\text{sparse}} / \binom{d}{k}`. Given the context, each model has the Gaussian posterior of
    Bayesian linear regression, with precision :math:`A_m = X_m^\top X_m / \sigma^2 + C_m^{-1}` and mean
    :math:`\mu_m = A_m^{-1} X_m^\top y / \sigma^2`, and the evidence

    .. math::

        \log p(y \mid X, m) = -\tfrac{1}{2}\Big(\tfrac{\|y\|^2}{\sigma^2} - \tfrac{(X_m^\top y)^\top A_m^{-1}
        X_m^\top y}{\sigma^4}\Big) - \tfrac12 \log\det A_m - \tfrac12 \log\det C_m + \text{const}.

    The prediction is :math:`\sum_m p(m \mid \text{context})\, x_q^\top \mu_m`, the Bayes-optimal
    (minimum mean squared error) predictor for that prior: what a model trained on the task
    distribution approaches with enough capacity (Müller et al. 2022). Computed exactly in float64 by
    enumerating the :math:`1 + \binom{d}{k}` models, batched over prompts.

    Parameters
    ----------
    prompts : Tensor of shape (B, N + 1, d + 1)
    weights : dict
        Family probabilities, keys ``"dense"`` and ``"sparse"`` (normalized here). The ``"sign"``
        family has no Gaussian posterior and is not supported.
    sparsity : int
        :math:`k`, nonzero coordinates of a sparse task (``1 <= k <= d``).
    noise : float
        Noise standard deviation :math:`\sigma > 0`.
    return_posterior : bool
        Also return the posterior probability of the sparse family, shape ``(B,)``.

    Returns
    -------
    Tensor of shape (B,) (and the posterior probability of ``"sparse"``).

    References
    ----------
    Müller et al., "Transformers can do Bayesian inference", ICLR 2022; Garg et al. 2022.

    Examples
    --------
    >>> from dlt.data import sample_regression_tasks
    >>> P, t = sample_regression_tasks(4, 6, 3, 0.1, seed=0)
    >>> from dlt.theory.icl import ridge_predictor
    >>> dense_only = bayes_predictor(P, {"dense": 1.0}, noise=0.1)
    >>> torch.allclose(dense_only, ridge_predictor(P, 0.1**2 / 6), atol=1e-5)  # lambda = sigma^2 / N
    True
    """
    X, y, xq = prompt_parts(prompts)
    d = X.shape[-1]
    sparsity = check_int(sparsity, "sparsity", minimum=1)
    if sparsity > d:
        raise ValueError(f"sparsity must be <= dim = {d}, got {sparsity}")
    sigma2 = check_positive(noise, "noise") ** 2
    if not isinstance(weights, dict) or not weights or set(weights) - {"dense", "sparse"}:
        raise ValueError(
            f"weights must be a dict with keys among ('dense', 'sparse'), got {weights!r}"
        )
    p_dense, p_sparse = float(weights.get("dense", 0.0)), float(weights.get("sparse", 0.0))
    if p_dense < 0 or p_sparse < 0 or p_dense + p_sparse <= 0:
        raise ValueError(f"weights must be >= 0 and not all zero, got {weights!r}")
    X, y, xq = X.double(), y.double(), xq.double()
    supports = list(itertools.combinations(range(d), sparsity)) if p_sparse > 0 else []
    log_w, means, is_sparse = [], [], []
    groups = []  # (columns of each model (M, k), prior variance, log prior of each model, sparse?)
    if p_dense > 0:
        groups.append((torch.arange(d, device=X.device)[None], 1.0, math.log(p_dense), False))
    if supports:
        cols = torch.tensor(supports, device=X.device)
        groups.append((cols, d / sparsity, math.log(p_sparse / len(supports)), True))
    for cols, var, log_prior, sparse in groups:
        Xm = X[:, :, cols].transpose(1, 2)  # (B, M, N, k): the columns of each model
        kk = cols.shape[1]
        A = Xm.transpose(-1, -2) @ Xm / sigma2 + torch.eye(kk, dtype=X.dtype, device=X.device) / var
        b = (Xm.transpose(-1, -2) @ y[:, None, :, None])[..., 0] / sigma2  # (B, M, k)
        chol = torch.linalg.cholesky(A)
        mu = torch.cholesky_solve(b[..., None], chol)[..., 0]
        logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        log_ev = 0.5 * (b * mu).sum(-1) - 0.5 * logdet - 0.5 * kk * math.log(var)
        xq_m = xq[:, cols]  # (B, M, k)
        log_w.append(log_ev + log_prior)
        means.append((xq_m * mu).sum(-1))
        is_sparse.append(torch.full((cols.shape[0],), sparse, device=X.device))
    post = torch.softmax(
        torch.cat(log_w, 1), dim=1
    )  # the term -||y||^2 / (2 sigma^2) is common to all models
    pred = (post * torch.cat(means, 1)).sum(1).to(prompts.dtype)
    if return_posterior:
        return pred, (post * torch.cat(is_sparse).to(post.dtype)).sum(1).to(prompts.dtype)
    return pred


@validate_params(
    {"prompts": Tensor(3, "(B, N + 1, d + 1)"), "tasks": Tensor(2, "(M, d)"), "noise": Positive()}
)
def discrete_prior_predictor(
    prompts: torch.Tensor, tasks: torch.Tensor, noise: float
) -> torch.Tensor:
    r"""Posterior-mean prediction when the task is one of ``M`` known vectors, uniformly (in-weights answer).

    With prior uniform over the rows :math:`w_1, \dots, w_M` of ``tasks`` and Gaussian noise,
    :math:`p(m \mid \text{context}) \propto \exp(-\|y - X w_m\|^2 / 2\sigma^2)` and
    :math:`\hat y = \sum_m p(m \mid \text{context})\, x_q^\top w_m`. This is the predictor Raventós et
    al. (2023) call dMMSE: the Bayes answer for a model that has memorized its ``M`` training tasks,
    against ridge regression (:func:`dlt.icl.ridge_predictor` with :math:`\lambda = \sigma^2 / N`), the Bayes answer
    for a Gaussian prior, which generalizes to new tasks.

    Parameters
    ----------
    prompts : Tensor of shape (B, N + 1, d + 1)
    tasks : Tensor of shape (M, d)
    noise : float
        :math:`\sigma > 0`.

    Returns
    -------
    Tensor of shape (B,)

    References
    ----------
    Raventós, Paul, Chen and Ganguli, "Pretraining task diversity and the emergence of non-Bayesian
    in-context learning for regression", NeurIPS 2023.

    Examples
    --------
    >>> from dlt.data import sample_regression_tasks
    >>> P, t, w = sample_regression_tasks(3, 8, 2, 0.1, seed=0, return_weights=True)
    >>> torch.allclose(discrete_prior_predictor(P, w[:1], 0.1), P[:, -1, :2] @ w[0], atol=1e-5)  # M = 1
    True
    """
    X, y, xq = prompt_parts(prompts)
    _tasks = check_tasks(tasks, "tasks", X.shape[-1])
    sigma2 = check_positive(noise, "noise") ** 2
    W = tasks.to(device=X.device, dtype=torch.float64)
    X, y = X.double(), y.double()
    # ||y - X w_m||^2 up to the term ||y||^2 common to all m, in O(B M d^2) time and O(B M) memory
    gram = X.transpose(1, 2) @ X  # (B, d, d)
    sq = -2 * (X.transpose(1, 2) @ y[..., None])[..., 0] @ W.T + torch.einsum(
        "md,bde,me->bm", W, gram, W
    )
    post = torch.softmax(-sq / (2 * sigma2), dim=1)  # (B, M)
    return (post * (xq.double() @ W.T)).sum(1).to(prompts.dtype)
