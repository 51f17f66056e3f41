r"""In-context regression in closed form: the gradient-descent construction, the optimal
one-step predictor and its risk, and the baselines a trained transformer is compared with.

Conventions (those of :mod:`dlt.data.prompts`): prompts ``(B, N + 1, d + 1)`` in the linear
layout; the in-context loss is :math:`L(w) = \frac{1}{2N} \sum_i (w^\top x_i - y_i)^2`, so one
preconditioned gradient step from :math:`w = 0` gives :math:`w_1 = \Gamma \frac{1}{N}
\sum_i y_i x_i` and the prediction :math:`\hat y = x_q^\top w_1`; label noise is the standard
deviation ``noise`` :math:`= \sigma`; ridge and Lasso penalties are in the convention of
:mod:`dlt.solve` (data term :math:`\frac{1}{2N}\|y - Xw\|^2`).
"""

from __future__ import annotations

import torch

from ..core.params import Int, NonNegative, Positive, Tensor, validate_params
from ..core.validate import as_tensor, check_int, check_nonnegative, check_positive
from ..data.prompts import check_covariance, prompt_parts
from ..solve.lasso import lasso
from ..solve.least_squares import min_norm_interpolator, ridge

__all__ = [
    "gd_construction",
    "one_step_gd_predictor",
    "gd_predictor",
    "optimal_one_step_preconditioner",
    "one_step_risk",
    "least_squares_predictor",
    "ridge_predictor",
    "lasso_predictor",
]


@validate_params({"dim": Int(1)})
def gd_construction(dim: int, lr: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""LSA weights for which one layer is exactly one gradient step on the in-context loss.

    .. math::
        Q = \begin{pmatrix} \Gamma & 0 \\ 0 & 0 \end{pmatrix},\qquad
        V = \begin{pmatrix} 0 & 0 \\ 0 & -1 \end{pmatrix},

    so that context labels become residuals :math:`y_i - x_i^\top w_1` and the query label
    coordinate becomes :math:`-x_q^\top w_1`, with :math:`w_1 = \Gamma \frac1N \sum_i y_i x_i`,
    one step of preconditioned GD from :math:`w = 0` on
    :math:`L(w) = \frac{1}{2N}\sum_i (w^\top x_i - y_i)^2` (von Oswald et al. 2023, Prop. 1).
    Stacking ``L`` such layers gives ``L`` steps.

    Parameters
    ----------
    dim : int
        Input dimension ``d``.
    lr : float or Tensor of shape (dim, dim)
        The step size :math:`\eta` (then :math:`\Gamma = \eta I`) or a preconditioner :math:`\Gamma`.

    Returns
    -------
    Q, V : Tensors of shape (dim + 1, dim + 1)

    Examples
    --------
    >>> Q, V = gd_construction(2, 0.5)
    >>> Q.diagonal().tolist(), V[-1].tolist()
    ([0.5, 0.5, 0.0], [0.0, 0.0, -1.0])
    """
    dim = check_int(dim, "dim", minimum=1)
    gamma = _preconditioner(lr, dim, "lr")
    q = torch.zeros(dim + 1, dim + 1, dtype=gamma.dtype)
    q[:dim, :dim] = gamma
    v = torch.zeros(dim + 1, dim + 1, dtype=gamma.dtype)
    v[dim, dim] = -1.0
    return q, v


def _preconditioner(value: object, dim: int, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor) and value.ndim > 0:
        if value.shape != (dim, dim):
            raise ValueError(
                f"{name} must be a number or a ({dim}, {dim}) matrix, got shape {tuple(value.shape)}"
            )
        return as_tensor(value, name, ndim=2, shape=f"({dim}, {dim})")
    return check_positive(value, name) * torch.eye(dim, dtype=torch.float64)


@validate_params({"prompts": Tensor(3, "(B, N + 1, d + 1)")})
def one_step_gd_predictor(
    prompts: torch.Tensor, lr: float | None = None, preconditioner: torch.Tensor | None = None
) -> torch.Tensor:
    r"""Prediction of one preconditioned GD step from :math:`w = 0` on the in-context loss.

    .. math:: \hat y = x_q^\top \Gamma \, \frac{1}{N} \sum_{i=1}^N y_i x_i ,
        \qquad \Gamma = \eta I \text{ or a given preconditioner.}

    Parameters
    ----------
    prompts : Tensor of shape (B, N + 1, d + 1)
    lr : float, optional
        Step size :math:`\eta > 0`.
    preconditioner : Tensor of shape (d, d), optional
        :math:`\Gamma`; exactly one of ``lr`` and ``preconditioner`` is given.

    Returns
    -------
    Tensor of shape (B,)

    Examples
    --------
    >>> from dlt.data import sample_regression_tasks
    >>> P, t = sample_regression_tasks(2, 5, 3, seed=0)
    >>> one_step_gd_predictor(P, lr=0.1).shape
    torch.Size([2])
    """
    if (lr is None) == (preconditioner is None):
        raise ValueError("give exactly one of lr and preconditioner")
    X, y, xq = prompt_parts(prompts)
    d = X.shape[-1]
    gamma = _preconditioner(
        lr if preconditioner is None else preconditioner,
        d,
        "lr" if preconditioner is None else "preconditioner",
    )
    gamma = gamma.to(dtype=prompts.dtype, device=prompts.device)
    h = torch.einsum("bn,bnd->bd", y, X) / X.shape[1]
    return torch.einsum("bd,de,be->b", xq, gamma, h)


@validate_params({"prompts": Tensor(3, "(B, N + 1, d + 1)"), "lr": Positive(), "steps": Int(0)})
def gd_predictor(prompts: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    r"""Prediction :math:`x_q^\top w_T` after ``steps`` GD steps from :math:`w=0` on the in-context loss.

    :math:`w_{t+1} = w_t - \eta \frac1N X^\top (X w_t - y)`.

    Examples
    --------
    >>> from dlt.data import sample_regression_tasks
    >>> P, _ = sample_regression_tasks(2, 5, 3, seed=0)
    >>> torch.allclose(gd_predictor(P, 0.1, 1), one_step_gd_predictor(P, lr=0.1))
    True
    """
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", minimum=0)
    X, y, xq = prompt_parts(prompts)
    n = X.shape[1]
    w = torch.zeros_like(xq)
    for _ in range(steps):
        w = w - lr * torch.einsum("bnd,bn->bd", X, torch.einsum("bnd,bd->bn", X, w) - y) / n
    return (xq * w).sum(-1)


@validate_params(
    {
        "covariance": Tensor(2, "(dim, dim)"),
        "n_context": Int(1),
        "dim": Int(1),
        "noise": NonNegative(),
    }
)
def optimal_one_step_preconditioner(
    n_context: int, dim: int, covariance: torch.Tensor | None = None, noise: float = 0.0
) -> torch.Tensor:
    r"""The preconditioner minimizing the risk of the one-step predictor (= trained one-layer LSA).

    For :math:`\hat y = x_q^\top \Gamma h`, :math:`h = \frac1N\sum_i y_i x_i`, with Gaussian
    :math:`x \sim \mathcal{N}(0, \Sigma)`, :math:`w \sim \mathcal{N}(0, I)` and label noise
    :math:`\sigma^2`, the risk :math:`\mathbb{E}(y_q - \hat y)^2` is
    :math:`\operatorname{tr}\Sigma + \sigma^2 - 2\operatorname{tr}(\Sigma\Gamma\Sigma)
    + \operatorname{tr}(\Gamma^\top \Sigma \Gamma G)` with
    :math:`G = \mathbb{E}[hh^\top] = \frac{N+1}{N}\Sigma^2 + \frac{\operatorname{tr}\Sigma + \sigma^2}{N}\Sigma`
    (Gaussian fourth moment :math:`\mathbb{E}[xx^\top xx^\top] = 2\Sigma^2 + \operatorname{tr}(\Sigma)\Sigma`).
    Setting the gradient to zero, :math:`\Gamma^\star = \Sigma G^{-1}`:

    .. math::
        \Gamma^\star = \Big(\tfrac{N+1}{N}\,\Sigma + \tfrac{\operatorname{tr}\Sigma + \sigma^2}{N}\, I\Big)^{-1}.

    With :math:`\sigma = 0` this is the limit of gradient flow from the structured initialization
    of Zhang, Frei and Bartlett (2024, Thm. 4.1); Ahn et al. (2023) and Mahankali et al. (2024)
    show that the global minimizer of one LSA layer is a preconditioned gradient step. For
    :math:`\Sigma = I`, :math:`\Gamma^\star = \frac{N}{N+1+d+\sigma^2} I` and the risk is
    :math:`\sigma^2 + \frac{d(d+1+\sigma^2)}{N+d+1+\sigma^2}` (:func:`one_step_risk`).

    Parameters
    ----------
    n_context : int
        ``N >= 1``.
    dim : int
        ``d >= 1``.
    covariance : Tensor of shape (dim, dim), optional
        :math:`\Sigma` (identity by default).
    noise : float
        Label noise standard deviation :math:`\sigma`.

    Returns
    -------
    Tensor of shape (dim, dim), float64

    Examples
    --------
    >>> g = optimal_one_step_preconditioner(20, 5)
    >>> round(float(g[0, 0]), 4)  # N / (N + 1 + d)
    0.7692
    """
    n = check_int(n_context, "n_context", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    sigma2 = check_nonnegative(noise, "noise") ** 2
    cov = check_covariance(covariance, dim)
    a = (n + 1) / n * cov + (torch.trace(cov) + sigma2) / n * torch.eye(dim, dtype=torch.float64)
    return torch.linalg.inv(a)


@validate_params(
    {
        "covariance": Tensor(2, "(dim, dim)"),
        "preconditioner": Tensor(2, "(d, d)"),
        "n_context": Int(1),
        "noise": NonNegative(),
    }
)
def one_step_risk(
    preconditioner: torch.Tensor,
    n_context: int,
    covariance: torch.Tensor | None = None,
    noise: float = 0.0,
) -> float:
    r"""Closed-form risk :math:`\mathbb{E}(y_q - x_q^\top \Gamma h)^2` of the one-step predictor.

    :math:`\operatorname{tr}\Sigma + \sigma^2 - 2\operatorname{tr}(\Sigma\Gamma\Sigma)
    + \operatorname{tr}(\Gamma^\top\Sigma\Gamma G)`, see :func:`optimal_one_step_preconditioner`.
    At :math:`\Gamma^\star` it equals
    :math:`\operatorname{tr}\Sigma + \sigma^2 - \operatorname{tr}(\Sigma\Gamma^\star\Sigma)`.

    Examples
    --------
    >>> g = optimal_one_step_preconditioner(20, 5)
    >>> round(one_step_risk(g, 20), 4)  # d - d N / (N + 1 + d)
    1.1538
    """
    gamma = as_tensor(
        preconditioner, "preconditioner", ndim=2, shape="(d, d)", dtype=torch.float64
    ).cpu()
    if gamma.ndim != 2 or gamma.shape[0] != gamma.shape[1]:
        raise ValueError(
            f"preconditioner must be a square (d, d) matrix, got shape {tuple(gamma.shape)}"
        )
    dim = gamma.shape[0]
    n = check_int(n_context, "n_context", minimum=1)
    sigma2 = check_nonnegative(noise, "noise") ** 2
    cov = check_covariance(covariance, dim)
    tr = torch.trace(cov)
    big_g = (n + 1) / n * cov @ cov + (tr + sigma2) / n * cov
    risk = (
        tr
        + sigma2
        - 2 * torch.trace(cov @ gamma @ cov)
        + torch.trace(gamma.T @ cov @ gamma @ big_g)
    )
    return float(risk)


# ----------------------------------------------------------------------------- baselines


@validate_params({"prompts": Tensor(3, "(B, N + 1, d + 1)")})
def least_squares_predictor(prompts: torch.Tensor) -> torch.Tensor:
    r"""Ordinary least squares on the context, minimum-norm when :math:`N < d`: :math:`\hat y = x_q^\top X^+ y`.

    Examples
    --------
    >>> from dlt.data import sample_regression_tasks
    >>> P, t = sample_regression_tasks(3, 10, 2, seed=0)
    >>> torch.allclose(least_squares_predictor(P), t, atol=1e-4)  # noiseless, N > d: exact
    True
    """
    X, y, xq = prompt_parts(prompts)
    w = min_norm_interpolator(X.double(), y.double())
    return (xq.double() * w).sum(-1).to(prompts.dtype)


@validate_params({"prompts": Tensor(3, "(B, N + 1, d + 1)"), "lam": Positive()})
def ridge_predictor(prompts: torch.Tensor, lam: float) -> torch.Tensor:
    r"""Ridge on the context (:func:`dlt.interpolation.ridge`), then :math:`\hat y = x_q^\top \hat w_\lambda`.

    :math:`\hat w_\lambda = (X^\top X / N + \lambda I)^{-1} X^\top y / N`. With :math:`w \sim
    \mathcal{N}(0, I)` and noise :math:`\sigma^2`, :math:`\lambda = \sigma^2 / N` gives the
    posterior mean, the Bayes-optimal predictor.

    Examples
    --------
    >>> from dlt.data import sample_regression_tasks
    >>> P, t = sample_regression_tasks(3, 10, 2, seed=0)
    >>> ridge_predictor(P, 0.1).shape
    torch.Size([3])
    """
    lam = check_positive(lam, "lam")
    X, y, xq = prompt_parts(prompts)
    w = ridge(X.double(), y.double(), lam)
    return (xq.double() * w).sum(-1).to(prompts.dtype)


@validate_params({"prompts": Tensor(3, "(B, N + 1, d + 1)")})
def lasso_predictor(prompts: torch.Tensor, lam: float, n_iter: int = 500) -> torch.Tensor:
    r"""Lasso on the context, then :math:`\hat y = x_q^\top \hat w_{\text{lasso}}` (see :func:`lasso`).

    Examples
    --------
    >>> from dlt.data import sample_regression_tasks
    >>> P, t = sample_regression_tasks(3, 10, 2, seed=0)
    >>> lasso_predictor(P, 0.01).shape
    torch.Size([3])
    """
    X, y, xq = prompt_parts(prompts)
    w = lasso(X, y, lam, n_iter)
    return (xq.double() * w).sum(-1).to(prompts.dtype)
