r"""In-context learning of regression: prompts, linear and softmax transformers, baselines.

A *prompt* holds ``N`` labelled examples and one query of a task drawn at random,
written as a token matrix in the layout of von Oswald et al. (2023): token
:math:`z_i = (x_i, y_i) \in \mathbb{R}^{d+1}` for :math:`i \le N` and the query token
:math:`z_{N+1} = (x_q, 0)`. Batched prompts are tensors of shape ``(B, N + 1, d + 1)``
(tokens as rows).

Conventions used throughout (and in chapters 12 and 13):

- task vector :math:`w \sim \mathcal{N}(0, I_d)`, inputs :math:`x_i, x_q \sim \mathcal{N}(0, \Sigma)`,
  labels :math:`y_i = w^\top x_i + \varepsilon_i` with :math:`\varepsilon_i \sim \mathcal{N}(0, \sigma^2)`,
  and the query target :math:`y_q = w^\top x_q + \varepsilon_q` (noisy as well);
- the in-context loss is :math:`L(w) = \frac{1}{2N} \sum_i (w^\top x_i - y_i)^2`, so one
  preconditioned gradient step from :math:`w = 0` gives
  :math:`w_1 = \Gamma \frac{1}{N} \sum_i y_i x_i` and the prediction :math:`\hat y = x_q^\top w_1`;
- a linear self-attention (LSA) model predicts :math:`\hat y = -[\text{query token}]_{d+1}`
  after its layers (the sign convention of von Oswald et al.).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

from ._validate import check_int, check_nonnegative, check_positive, generator

__all__ = [
    "sample_regression_tasks",
    "prompt_parts",
    "LinearSelfAttention",
    "gd_construction",
    "one_step_gd_predictor",
    "gd_predictor",
    "optimal_one_step_preconditioner",
    "one_step_risk",
    "least_squares_predictor",
    "ridge_predictor",
    "lasso",
    "lasso_predictor",
    "bayes_predictor",
    "discrete_prior_predictor",
    "sample_task_mixture",
    "FAMILIES",
    "SoftmaxTransformer",
]

FAMILIES = ("dense", "sparse", "sign")


# ----------------------------------------------------------------------------- prompts


def _covariance(covariance: object, dim: int) -> torch.Tensor:
    if covariance is None:
        return torch.eye(dim, dtype=torch.float64)
    c = torch.as_tensor(covariance, dtype=torch.float64)
    if c.shape != (dim, dim):
        raise ValueError(f"covariance must have shape ({dim}, {dim}) to match dim, got {tuple(c.shape)}")
    if not torch.allclose(c, c.T, atol=1e-10):
        raise ValueError("covariance must be symmetric")
    if torch.linalg.eigvalsh(c).min() <= 0:
        raise ValueError("covariance must be positive definite")
    return c


def _sample_weights(family: str, n: int, dim: int, sparsity: int, g: torch.Generator) -> torch.Tensor:
    w = torch.randn(n, dim, generator=g, dtype=torch.float64)
    if family == "sparse":
        # k coordinates chosen uniformly, scaled so that E||w||^2 = d as for the dense family
        keys = torch.rand(n, dim, generator=g, dtype=torch.float64)
        support = keys.argsort(dim=1)[:, :sparsity]
        mask = torch.zeros(n, dim, dtype=torch.float64).scatter_(1, support, 1.0)
        w = w * mask * math.sqrt(dim / sparsity)
    return w


def _labels(family: str, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    s = torch.einsum("bnd,bd->bn", x, w)
    return torch.sign(s) if family == "sign" else s


def sample_regression_tasks(
    n_tasks: int,
    n_context: int,
    dim: int,
    noise: float = 0.0,
    seed: int | torch.Generator | None = 0,
    covariance: torch.Tensor | None = None,
    *,
    return_weights: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, ...]:
    r"""Prompts of in-context linear regression in the token layout of von Oswald et al.

    For each of ``n_tasks`` prompts: :math:`w \sim \mathcal{N}(0, I_d)`,
    :math:`x_1, \dots, x_N, x_q \sim \mathcal{N}(0, \Sigma)`,
    :math:`y_i = w^\top x_i + \varepsilon_i`, :math:`y_q = w^\top x_q + \varepsilon_q`,
    :math:`\varepsilon \sim \mathcal{N}(0, \sigma^2)`. The prompt is the token matrix with rows
    :math:`(x_1, y_1), \dots, (x_N, y_N), (x_q, 0)`.

    Parameters
    ----------
    n_tasks : int
        Number of prompts ``B >= 1``.
    n_context : int
        Number of labelled examples ``N >= 1``.
    dim : int
        Input dimension ``d >= 1``.
    noise : float
        Label noise standard deviation :math:`\sigma \ge 0`.
    seed : int or torch.Generator
    covariance : Tensor of shape (dim, dim), optional
        Input covariance :math:`\Sigma` (default identity).
    return_weights : bool
        Also return the task vectors.

    Returns
    -------
    prompts : Tensor of shape (n_tasks, n_context + 1, dim + 1)
    targets : Tensor of shape (n_tasks,)
        The query labels :math:`y_q`.
    weights : Tensor of shape (n_tasks, dim)
        Only with ``return_weights=True``.

    References
    ----------
    von Oswald et al., "Transformers learn in-context by gradient descent", ICML 2023.
    Garg et al., "What can transformers learn in-context?", NeurIPS 2022.

    Examples
    --------
    >>> P, t = sample_regression_tasks(4, 10, 3, seed=0)
    >>> P.shape, t.shape, float(P[:, -1, -1].abs().max())
    (torch.Size([4, 11, 4]), torch.Size([4]), 0.0)
    """
    n_tasks = check_int(n_tasks, "n_tasks", minimum=1)
    n_context = check_int(n_context, "n_context", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    noise = check_nonnegative(noise, "noise")
    cov = _covariance(covariance, dim)
    g = generator(seed)
    w = _sample_weights("dense", n_tasks, dim, dim, g)
    chol = torch.linalg.cholesky(cov)
    x = torch.randn(n_tasks, n_context + 1, dim, generator=g, dtype=torch.float64) @ chol.T
    y = _labels("dense", x, w) + noise * torch.randn(n_tasks, n_context + 1, generator=g, dtype=torch.float64)
    prompts = torch.cat([x, y[..., None]], dim=-1)
    targets = prompts[:, -1, -1].clone()
    prompts[:, -1, -1] = 0.0
    out = (prompts.to(dtype=dtype, device=device), targets.to(dtype=dtype, device=device))
    if return_weights:
        out = (*out, w.to(dtype=dtype, device=device))
    return out


def prompt_parts(prompts: torch.Tensor, dim: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split prompts of shape ``(B, N + 1, d + 1)`` into ``X (B, N, d)``, ``y (B, N)``, ``x_query (B, d)``.

    Raises
    ------
    ValueError
        If ``prompts`` is not 3-d, has no context token, or its width is not ``dim + 1``.

    Examples
    --------
    >>> X, y, xq = prompt_parts(torch.zeros(2, 6, 4), dim=3)
    >>> X.shape, y.shape, xq.shape
    (torch.Size([2, 5, 3]), torch.Size([2, 5]), torch.Size([2, 3]))
    """
    if not isinstance(prompts, torch.Tensor):
        raise TypeError(f"prompts must be a tensor of shape (B, N + 1, d + 1), got {type(prompts).__name__}")
    if prompts.ndim != 3:
        raise ValueError(f"prompts must have shape (B, N + 1, d + 1), got shape {tuple(prompts.shape)}")
    if prompts.shape[1] < 2:
        raise ValueError(f"prompts must hold n_context >= 1 examples and a query, got {prompts.shape[1]} tokens")
    if dim is not None and prompts.shape[2] != dim + 1:
        raise ValueError(f"prompts must have width dim + 1 = {dim + 1} (tokens (x, y)), got {prompts.shape[2]}")
    return prompts[:, :-1, :-1], prompts[:, :-1, -1], prompts[:, -1, :-1]


# ----------------------------------------------------------------------------- linear self-attention


class LinearSelfAttention(nn.Module):
    r"""Linear self-attention with a residual stream, batched over prompts.

    Layer :math:`\ell` updates every token :math:`h_j` by attention over the context tokens,
    with no softmax:

    .. math::
        h_j \leftarrow h_j + \frac{1}{N} \sum_{i=1}^{N} (h_j^\top Q_\ell\, h_i)\, V_\ell h_i ,

    with :math:`Q_\ell = W_K^\top W_Q` and :math:`V_\ell = W_P W_V` merged into one
    :math:`(d+1)\times(d+1)` matrix each (von Oswald et al. 2023; Zhang, Frei and Bartlett 2024;
    Ahn et al. 2023). The query token attends to the context but is not a key itself. The
    prediction is minus the label coordinate of the query token after the last layer.

    Parameters
    ----------
    dim : int
        Input dimension ``d``; tokens have width ``d + 1``.
    n_layers : int
        Number of layers ``L >= 1``.
    init_scale : float
        Standard deviation of the Gaussian initialization of every entry of ``Q`` and ``V``.
    parameterization : {"full", "preconditioned"}
        ``"full"``: every entry of ``Q`` and ``V`` is trained. ``"preconditioned"``: the
        parameterization of Ahn et al. (2023), :math:`Q_\ell = \begin{pmatrix} A_\ell & 0 \\ 0 & 0
        \end{pmatrix}` with :math:`A_\ell` trained and :math:`V_\ell` fixed to the value matrix of
        :func:`gd_construction`, so that layer :math:`\ell` is exactly one GD step preconditioned by
        :math:`A_\ell` (initialized at ``init_scale`` times the identity).
    seed : int or torch.Generator

    Examples
    --------
    >>> P, _ = sample_regression_tasks(3, 8, 2, seed=0)
    >>> LinearSelfAttention(2, 2, seed=0)(P).shape
    torch.Size([3])
    """

    def __init__(self, dim: int, n_layers: int = 1, *, init_scale: float = 0.1,
                 parameterization: str = "full", seed: int | torch.Generator | None = 0) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        self.n_layers = check_int(n_layers, "n_layers", minimum=1)
        init_scale = check_nonnegative(init_scale, "init_scale")
        if parameterization not in ("full", "preconditioned"):
            raise ValueError(f"parameterization must be 'full' or 'preconditioned', got {parameterization!r}")
        self.parameterization = parameterization
        g = generator(seed)
        shape = (self.n_layers, dim + 1, dim + 1)
        if parameterization == "full":
            self.Q = nn.Parameter(init_scale * torch.randn(shape, generator=g))
            self.V = nn.Parameter(init_scale * torch.randn(shape, generator=g))
        else:
            self.A = nn.Parameter(init_scale * torch.eye(dim).repeat(self.n_layers, 1, 1))

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``(L, d + 1, d + 1)`` key-query and value matrices ``Q`` and ``V``."""
        if self.parameterization == "full":
            return self.Q, self.V
        d = self.dim
        q = torch.nn.functional.pad(self.A, (0, 1, 0, 1))
        v = torch.zeros(self.n_layers, d + 1, d + 1, dtype=self.A.dtype, device=self.A.device)
        v[:, d, d] = -1.0
        return q, v

    def tokens(self, prompts: torch.Tensor) -> list[torch.Tensor]:
        """The token matrices after each layer: a list of ``L + 1`` tensors ``(B, N + 1, d + 1)``."""
        prompt_parts(prompts, self.dim)
        n = prompts.shape[1] - 1
        h = prompts
        out = [h]
        for q, v in zip(*self.weights(), strict=True):
            ctx = h[:, :-1]
            scores = h @ q @ ctx.transpose(1, 2)  # (B, N+1, N): h_j^T Q h_i
            h = h + scores @ (ctx @ v.T) / n
            out.append(h)
        return out

    def forward(self, prompts: torch.Tensor) -> torch.Tensor:
        """Predictions ``(B,)``: minus the label coordinate of the query token."""
        return -self.tokens(prompts)[-1][:, -1, -1]

    @torch.no_grad()
    def set_gd(self, lr: float | torch.Tensor) -> LinearSelfAttention:
        """Load :func:`gd_construction` into every layer (``L`` layers = ``L`` GD steps)."""
        q, v = gd_construction(self.dim, lr)
        if self.parameterization == "full":
            self.Q.copy_(q.expand_as(self.Q))
            self.V.copy_(v.expand_as(self.V))
        else:
            self.A.copy_(q[: self.dim, : self.dim].expand_as(self.A))
        return self

    @torch.no_grad()
    def effective_preconditioner(self, layer: int = 0) -> torch.Tensor:
        r"""The matrix :math:`\Gamma` of layer ``layer`` acting as a preconditioned GD step.

        With :math:`Q = \begin{pmatrix} Q_{xx} & q_{xy} \\ \cdot & \cdot \end{pmatrix}` and the
        last row of :math:`V` equal to :math:`(v_x^\top, v_y)`, the label coordinate of the query
        token moves by :math:`-x_q^\top \Gamma \frac1N\sum_i y_i x_i` plus terms even in the labels,
        where :math:`\Gamma = -(v_y Q_{xx} + q_{xy} v_x^\top)`. For one layer it is the matrix
        the theory of Zhang, Frei and Bartlett predicts.
        """
        d = self.dim
        qs, vs = self.weights()
        q, v = qs[layer], vs[layer]
        return -(v[d, d] * q[:d, :d] + torch.outer(q[:d, d], v[d, :d]))


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
            raise ValueError(f"{name} must be a number or a ({dim}, {dim}) matrix, got shape {tuple(value.shape)}")
        return value.to(torch.get_default_dtype()) if not value.is_floating_point() else value
    return check_positive(value, name) * torch.eye(dim, dtype=torch.float64)


def one_step_gd_predictor(prompts: torch.Tensor, lr: float | None = None,
                          preconditioner: torch.Tensor | None = None) -> torch.Tensor:
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
    >>> P, t = sample_regression_tasks(2, 5, 3, seed=0)
    >>> one_step_gd_predictor(P, lr=0.1).shape
    torch.Size([2])
    """
    if (lr is None) == (preconditioner is None):
        raise ValueError("give exactly one of lr and preconditioner")
    X, y, xq = prompt_parts(prompts)
    d = X.shape[-1]
    gamma = _preconditioner(lr if preconditioner is None else preconditioner, d,
                            "lr" if preconditioner is None else "preconditioner")
    gamma = gamma.to(dtype=prompts.dtype, device=prompts.device)
    h = torch.einsum("bn,bnd->bd", y, X) / X.shape[1]
    return torch.einsum("bd,de,be->b", xq, gamma, h)


def gd_predictor(prompts: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    r"""Prediction :math:`x_q^\top w_T` after ``steps`` GD steps from :math:`w=0` on the in-context loss.

    :math:`w_{t+1} = w_t - \eta \frac1N X^\top (X w_t - y)`.

    Examples
    --------
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


def optimal_one_step_preconditioner(n_context: int, dim: int, covariance: torch.Tensor | None = None,
                                    noise: float = 0.0) -> torch.Tensor:
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

    With :math:`\sigma = 0` this is the global minimizer found by gradient flow in Zhang, Frei
    and Bartlett (2024, Thm. 4.1); Ahn et al. (2023) and Mahankali et al. (2024) give the same
    one-step optimum.

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
    cov = _covariance(covariance, dim)
    a = (n + 1) / n * cov + (torch.trace(cov) + sigma2) / n * torch.eye(dim, dtype=torch.float64)
    return torch.linalg.inv(a)


def one_step_risk(preconditioner: torch.Tensor, n_context: int, covariance: torch.Tensor | None = None,
                  noise: float = 0.0) -> float:
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
    gamma = torch.as_tensor(preconditioner, dtype=torch.float64).cpu()
    if gamma.ndim != 2 or gamma.shape[0] != gamma.shape[1]:
        raise ValueError(f"preconditioner must be a square (d, d) matrix, got shape {tuple(gamma.shape)}")
    dim = gamma.shape[0]
    n = check_int(n_context, "n_context", minimum=1)
    sigma2 = check_nonnegative(noise, "noise") ** 2
    cov = _covariance(covariance, dim)
    tr = torch.trace(cov)
    big_g = (n + 1) / n * cov @ cov + (tr + sigma2) / n * cov
    risk = tr + sigma2 - 2 * torch.trace(cov @ gamma @ cov) + torch.trace(gamma.T @ cov @ gamma @ big_g)
    return float(risk)


# ----------------------------------------------------------------------------- baselines


def least_squares_predictor(prompts: torch.Tensor) -> torch.Tensor:
    r"""Ordinary least squares on the context, minimum-norm when :math:`N < d`: :math:`\hat y = x_q^\top X^+ y`.

    Examples
    --------
    >>> P, t = sample_regression_tasks(3, 10, 2, seed=0)
    >>> torch.allclose(least_squares_predictor(P), t, atol=1e-4)  # noiseless, N > d: exact
    True
    """
    X, y, xq = prompt_parts(prompts)
    w = (torch.linalg.pinv(X.double()) @ y.double()[..., None])[..., 0]
    return (xq.double() * w).sum(-1).to(prompts.dtype)


def ridge_predictor(prompts: torch.Tensor, lam: float) -> torch.Tensor:
    r"""Ridge regression on the context: :math:`\hat y = x_q^\top (X^\top X + \lambda I)^{-1} X^\top y`.

    With :math:`w \sim \mathcal{N}(0, I)` and noise :math:`\sigma^2`, :math:`\lambda = \sigma^2` is the
    posterior mean, the Bayes-optimal predictor.

    Examples
    --------
    >>> P, t = sample_regression_tasks(3, 10, 2, seed=0)
    >>> ridge_predictor(P, 0.1).shape
    torch.Size([3])
    """
    lam = check_positive(lam, "lam")
    X, y, xq = prompt_parts(prompts)
    X, y = X.double(), y.double()
    a = X.transpose(1, 2) @ X + lam * torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)
    w = torch.linalg.solve(a, (X.transpose(1, 2) @ y[..., None]))[..., 0]
    return (xq.double() * w).sum(-1).to(prompts.dtype)


def lasso(X: torch.Tensor, y: torch.Tensor, lam: float, n_iter: int = 500) -> torch.Tensor:
    r"""Lasso by FISTA, batched over problems.

    Minimizes :math:`\frac{1}{2N}\|Xw - y\|^2 + \lambda \|w\|_1` for each problem of the batch with
    the accelerated proximal gradient method of Beck and Teboulle (2009), step :math:`1/L`,
    :math:`L = \lambda_{\max}(X^\top X / N)`, and the soft-threshold
    :math:`\operatorname{prox}(v) = \operatorname{sign}(v)\max(|v| - \lambda/L, 0)`.

    Parameters
    ----------
    X : Tensor of shape (B, N, d)
    y : Tensor of shape (B, N)
    lam : float
        :math:`\lambda > 0`.
    n_iter : int
        FISTA iterations.

    Returns
    -------
    Tensor of shape (B, d), float64

    References
    ----------
    Tibshirani, "Regression shrinkage and selection via the lasso", JRSS B 1996.
    Beck and Teboulle, "A fast iterative shrinkage-thresholding algorithm", SIAM J. Imaging Sci. 2009.

    Examples
    --------
    >>> X = torch.eye(3)[None] * 3 ** 0.5  # X^T X / N = I: the solution is a soft-threshold
    >>> y = torch.tensor([[2.0, 0.1, -1.0]]) * 3 ** 0.5
    >>> lasso(X, y, 0.5).round(decimals=4).tolist()
    [[1.5, 0.0, -0.5]]
    """
    lam = check_positive(lam, "lam")
    n_iter = check_int(n_iter, "n_iter", minimum=1)
    if X.ndim != 3 or y.shape != X.shape[:2]:
        raise ValueError(f"X must have shape (B, N, d) and y (B, N), got {tuple(X.shape)} and {tuple(y.shape)}")
    X, y = X.double(), y.double()
    n = X.shape[1]
    step = 1.0 / torch.linalg.eigvalsh(X.transpose(1, 2) @ X / n)[:, -1].clamp_min(1e-12)  # (B,)
    Xty = torch.einsum("bnd,bn->bd", X, y) / n
    gram = X.transpose(1, 2) @ X / n
    w = torch.zeros_like(Xty)
    z, t = w.clone(), 1.0
    for _ in range(n_iter):
        grad = torch.einsum("bde,be->bd", gram, z) - Xty
        v = z - step[:, None] * grad
        w_new = torch.sign(v) * (v.abs() - lam * step[:, None]).clamp_min(0.0)
        t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
        z = w_new + (t - 1) / t_new * (w_new - w)
        w, t = w_new, t_new
    return w


def lasso_predictor(prompts: torch.Tensor, lam: float, n_iter: int = 500) -> torch.Tensor:
    r"""Lasso on the context, then :math:`\hat y = x_q^\top \hat w_{\text{lasso}}` (see :func:`lasso`).

    Examples
    --------
    >>> P, t = sample_regression_tasks(3, 10, 2, seed=0)
    >>> lasso_predictor(P, 0.01).shape
    torch.Size([3])
    """
    X, y, xq = prompt_parts(prompts)
    w = lasso(X, y, lam, n_iter)
    return (xq.double() * w).sum(-1).to(prompts.dtype)


def bayes_predictor(prompts: torch.Tensor, weights: dict[str, float], sparsity: int = 2, noise: float = 0.1,
                    return_posterior: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    r"""Posterior-mean prediction under the dense/sparse task prior of :func:`sample_task_mixture`.

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
    >>> P, t = sample_regression_tasks(4, 6, 3, 0.1, seed=0)
    >>> torch.allclose(bayes_predictor(P, {"dense": 1.0}, noise=0.1), ridge_predictor(P, 0.01), atol=1e-5)
    True
    """
    X, y, xq = prompt_parts(prompts)
    d = X.shape[-1]
    sparsity = check_int(sparsity, "sparsity", minimum=1)
    if sparsity > d:
        raise ValueError(f"sparsity must be <= dim = {d}, got {sparsity}")
    sigma2 = check_positive(noise, "noise") ** 2
    if not isinstance(weights, dict) or not weights or set(weights) - {"dense", "sparse"}:
        raise ValueError(f"weights must be a dict with keys among ('dense', 'sparse'), got {weights!r}")
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
    post = torch.softmax(torch.cat(log_w, 1), dim=1)  # the term -||y||^2 / (2 sigma^2) is common to all models
    pred = (post * torch.cat(means, 1)).sum(1).to(prompts.dtype)
    if return_posterior:
        return pred, (post * torch.cat(is_sparse).to(post.dtype)).sum(1).to(prompts.dtype)
    return pred


def _check_tasks(tasks: object, name: str, dim: int) -> None:
    """Raise unless ``tasks`` is a tensor of task vectors of shape ``(M, dim)``."""
    if not isinstance(tasks, torch.Tensor) or tasks.ndim != 2 or tasks.shape[1] != dim:
        shape = tuple(tasks.shape) if isinstance(tasks, torch.Tensor) else type(tasks).__name__
        raise ValueError(f"{name} must have shape (M, {dim}) to match dim, got {shape}")


def discrete_prior_predictor(prompts: torch.Tensor, tasks: torch.Tensor, noise: float) -> torch.Tensor:
    r"""Posterior-mean prediction when the task is one of ``M`` known vectors, uniformly (in-weights answer).

    With prior uniform over the rows :math:`w_1, \dots, w_M` of ``tasks`` and Gaussian noise,
    :math:`p(m \mid \text{context}) \propto \exp(-\|y - X w_m\|^2 / 2\sigma^2)` and
    :math:`\hat y = \sum_m p(m \mid \text{context})\, x_q^\top w_m`. This is the predictor Raventós et
    al. (2023) call dMMSE: the Bayes answer for a model that has memorized its ``M`` training tasks,
    against ridge regression (:func:`ridge_predictor` with :math:`\lambda = \sigma^2`), the Bayes answer
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
    >>> P, t, w = sample_regression_tasks(3, 8, 2, 0.1, seed=0, return_weights=True)
    >>> torch.allclose(discrete_prior_predictor(P, w[:1], 0.1), P[:, -1, :2] @ w[0], atol=1e-5)  # M = 1
    True
    """
    X, y, xq = prompt_parts(prompts)
    _check_tasks(tasks, "tasks", X.shape[-1])
    sigma2 = check_positive(noise, "noise") ** 2
    W = tasks.to(device=X.device, dtype=torch.float64)
    X, y = X.double(), y.double()
    # ||y - X w_m||^2 up to the term ||y||^2 common to all m, in O(B M d^2) time and O(B M) memory
    gram = X.transpose(1, 2) @ X  # (B, d, d)
    sq = -2 * (X.transpose(1, 2) @ y[..., None])[..., 0] @ W.T + torch.einsum("md,bde,me->bm", W, gram, W)
    post = torch.softmax(-sq / (2 * sigma2), dim=1)  # (B, M)
    return (post * (xq.double() @ W.T)).sum(1).to(prompts.dtype)


# ----------------------------------------------------------------------------- chapter 13: mixtures


def sample_task_mixture(
    n_tasks: int,
    n_context: int,
    dim: int,
    weights: dict[str, float] | Sequence[float],
    *,
    n_queries: int = 1,
    sparsity: int = 2,
    noise: float = 0.0,
    n_min: int | None = None,
    second: str | None = None,
    share: float = 1.0,
    task_pool: torch.Tensor | None = None,
    seed: int | torch.Generator | None = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> dict[str, torch.Tensor]:
    r"""Prompts from a mixture of task families, with several queries each (chapter 13).

    Families (``FAMILIES``): ``"dense"`` :math:`y = w^\top x`, :math:`w \sim \mathcal{N}(0, I_d)`;
    ``"sparse"`` the same with ``sparsity`` nonzero coordinates scaled by :math:`\sqrt{d/k}`
    (so :math:`\mathbb{E}\|w\|^2 = d` in both); ``"sign"`` :math:`y = \operatorname{sign}(w^\top x)`.
    Inputs :math:`x \sim \mathcal{N}(0, I_d)`. Each prompt draws its family with probabilities
    ``weights``. With ``second`` set, a fraction ``1 - share`` of each prompt's context examples
    (the last ones, then shuffled) is relabelled by a second task of family ``second``
    (a prompt in *superposition*); ``targets_a``/``targets_b`` are the two tasks' answers on the queries.

    With ``task_pool`` of shape ``(M, d)``, every prompt's task is instead a row of the pool drawn
    uniformly, with linear labels: the few-task training distribution under which a model can answer
    from its weights (Raventós et al. 2023; see :func:`discrete_prior_predictor`).

    Tokens have width ``d + 3``: :math:`(x, y, \text{is-query}, \text{is-valid})`. With ``n_min``,
    each prompt keeps a uniform number of examples in ``[n_min, n_context]``; the rest are marked invalid.

    Returns
    -------
    dict with ``tokens (B, N + Q, d + 3)``, ``targets (B, Q)``, ``targets_a``, ``targets_b``,
    ``family (B,)`` (index into ``FAMILIES``), ``n (B,)`` (valid examples).

    Examples
    --------
    >>> s = sample_task_mixture(4, 6, 3, {"dense": 1.0}, n_queries=2, seed=0)
    >>> s["tokens"].shape, s["targets"].shape
    (torch.Size([4, 8, 6]), torch.Size([4, 2]))
    """
    n_tasks = check_int(n_tasks, "n_tasks", minimum=1)
    n_context = check_int(n_context, "n_context", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    n_queries = check_int(n_queries, "n_queries", minimum=1)
    sparsity = check_int(sparsity, "sparsity", minimum=1)
    noise = check_nonnegative(noise, "noise")
    if sparsity > dim:
        raise ValueError(f"sparsity must be <= dim = {dim}, got {sparsity}")
    if isinstance(weights, dict):
        unknown = set(weights) - set(FAMILIES)
        if unknown:
            raise ValueError(f"weights keys must be among {FAMILIES}, got {sorted(unknown)}")
        probs = torch.tensor([float(weights.get(f, 0.0)) for f in FAMILIES], dtype=torch.float64)
    else:
        probs = torch.as_tensor(list(weights), dtype=torch.float64)
        if probs.shape != (len(FAMILIES),):
            raise ValueError(f"weights must have {len(FAMILIES)} entries {FAMILIES}, got {tuple(probs.shape)}")
    if (probs < 0).any() or probs.sum() <= 0:
        raise ValueError(f"weights must be >= 0 and not all zero, got {probs.tolist()}")
    if second is not None and second not in FAMILIES:
        raise ValueError(f"second must be one of {FAMILIES}, got {second!r}")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    g = generator(seed)
    fam = torch.multinomial(probs / probs.sum(), n_tasks, replacement=True, generator=g)
    x = torch.randn(n_tasks, n_context + n_queries, dim, generator=g, dtype=torch.float64)
    y = torch.zeros(n_tasks, n_context + n_queries, dtype=torch.float64)
    w_dense = _sample_weights("dense", n_tasks, dim, sparsity, g)
    w_sparse = _sample_weights("sparse", n_tasks, dim, sparsity, g)
    for k, name in enumerate(FAMILIES):
        w = w_sparse if name == "sparse" else w_dense
        y = torch.where((fam == k)[:, None], _labels(name, x, w), y)
    if task_pool is not None:
        _check_tasks(task_pool, "task_pool", dim)
        pick = torch.randint(0, task_pool.shape[0], (n_tasks,), generator=g)
        fam = torch.full((n_tasks,), FAMILIES.index("dense"))
        y = _labels("dense", x, task_pool.detach().cpu().double()[pick])
    y_a = y.clone()
    y_b = y.clone()
    if second is not None:
        wb = _sample_weights(second, n_tasks, dim, sparsity, g)
        y_b = _labels(second, x, wb)
        n_b = round((1.0 - share) * n_context)
        if n_b > 0:
            order = torch.rand(n_tasks, n_context, generator=g).argsort(dim=1)
            from_b = torch.zeros(n_tasks, n_context, dtype=torch.bool)
            from_b.scatter_(1, order[:, :n_b], True)
            y[:, :n_context] = torch.where(from_b, y_b[:, :n_context], y[:, :n_context])
    y[:, :n_context] += noise * torch.randn(n_tasks, n_context, generator=g, dtype=torch.float64)
    if n_min is None:
        n = torch.full((n_tasks,), n_context)
    else:
        n_min = check_int(n_min, "n_min", minimum=1)
        n = torch.randint(n_min, n_context + 1, (n_tasks,), generator=g)
    valid = torch.arange(n_context)[None, :] < n[:, None]
    is_query = torch.zeros(n_tasks, n_context + n_queries, dtype=torch.float64)
    is_query[:, n_context:] = 1.0
    valid_all = torch.cat([valid.double(), torch.ones(n_tasks, n_queries, dtype=torch.float64)], dim=1)
    y_in = y.clone()
    y_in[:, n_context:] = 0.0
    y_in = y_in * valid_all
    x_in = x * valid_all[..., None]
    tokens = torch.cat([x_in, y_in[..., None], is_query[..., None], valid_all[..., None]], dim=-1)
    out = {
        "tokens": tokens,
        "targets": y[:, n_context:],
        "targets_a": y_a[:, n_context:],
        "targets_b": y_b[:, n_context:],
    }
    out = {k: v.to(dtype=dtype, device=device) for k, v in out.items()}
    out["family"] = fam.to(device)
    out["n"] = n.to(device)
    return out


class SoftmaxTransformer(nn.Module):
    r"""A small pre-norm softmax transformer that reads prompts from :func:`sample_task_mixture`.

    Tokens :math:`(x, y, \text{is-query}, \text{is-valid})` are embedded linearly; each block is
    multi-head softmax attention followed by a two-layer GELU MLP, both with residuals. Every token
    attends to the valid context examples (queries never see each other, so each query is answered
    from the context alone, as in Garg et al. 2022); no position encoding, so the model is
    permutation invariant in the examples. The prediction is a linear read-out of each query token.

    Parameters
    ----------
    dim : int
        Input dimension ``d`` (token width ``d + 3``).
    width : int
        Model width (divisible by ``heads``).
    depth : int
        Number of blocks.
    heads : int
    seed : int or torch.Generator

    Examples
    --------
    >>> s = sample_task_mixture(2, 5, 3, {"dense": 1.0}, n_queries=2, seed=0)
    >>> SoftmaxTransformer(3, width=16, depth=1, heads=2)(s["tokens"]).shape
    torch.Size([2, 2])
    """

    def __init__(self, dim: int, width: int = 64, depth: int = 2, heads: int = 4,
                 seed: int | torch.Generator | None = 0) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        width = check_int(width, "width", minimum=1)
        self.depth = check_int(depth, "depth", minimum=1)
        self.heads = check_int(heads, "heads", minimum=1)
        if width % heads:
            raise ValueError(f"width must be divisible by heads = {heads}, got {width}")
        g = generator(seed)
        state = torch.random.get_rng_state()
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
        try:
            self.embed = nn.Linear(dim + 3, width)
            self.attn = nn.ModuleList(nn.MultiheadAttention(width, heads, batch_first=True) for _ in range(depth))
            self.norm1 = nn.ModuleList(nn.LayerNorm(width) for _ in range(depth))
            self.norm2 = nn.ModuleList(nn.LayerNorm(width) for _ in range(depth))
            self.mlp = nn.ModuleList(
                nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width)) for _ in range(depth)
            )
            self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 1))
        finally:
            torch.random.set_rng_state(state)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Predictions ``(B, Q)`` at the query tokens."""
        if tokens.ndim != 3 or tokens.shape[-1] != self.dim + 3:
            raise ValueError(f"tokens must have shape (B, T, dim + 3 = {self.dim + 3}), got {tuple(tokens.shape)}")
        is_query = tokens[..., -2] > 0.5
        key_ok = (tokens[..., -1] > 0.5) & ~is_query  # keys: valid context examples only
        # a query attends to itself as well, so that no row of the attention is empty
        t = tokens.shape[1]
        eye = torch.eye(t, dtype=torch.bool, device=tokens.device)
        allowed = key_ok[:, None, :] | eye[None]
        mask = torch.zeros(allowed.shape, dtype=tokens.dtype, device=tokens.device)
        mask = mask.masked_fill(~allowed, float("-inf"))
        mask = mask.repeat_interleave(self.heads, dim=0)
        h = self.embed(tokens)
        for attn, n1, n2, mlp in zip(self.attn, self.norm1, self.norm2, self.mlp, strict=True):
            a = n1(h)
            h = h + attn(a, a, a, attn_mask=mask, need_weights=False)[0]
            h = h + mlp(n2(h))
        pred = self.out(h)[..., 0]
        return pred[:, -int(is_query[0].sum()):] if is_query.any() else pred[:, :0]
