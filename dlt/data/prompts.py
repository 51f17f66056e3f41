r"""Prompts of in-context regression, in two token layouts.

*Linear layout* (von Oswald et al. 2023; :func:`dlt.icl.sample_regression_tasks`): a prompt holds
``N`` labelled examples and one query, as the token matrix with rows
:math:`z_i = (x_i, y_i) \in \mathbb{R}^{d+1}` for :math:`i \le N` and
:math:`z_{N+1} = (x_q, 0)`; batched prompts have shape ``(B, N + 1, d + 1)``.
:func:`dlt.icl.prompt_parts` splits them into ``X (B, N, d)``, ``y (B, N)``, ``x_q (B, d)``.

*Masked layout* (:mod:`dlt.data.masked_prompts`: :func:`dlt.icl.sample_task_mixture`, read
by :class:`dlt.nets.SoftmaxTransformer`): tokens :math:`(x, y, \text{is-query},
\text{is-valid})` of width ``d + 3``, several queries per prompt, a variable number of valid
examples; :func:`dlt.icl.linear_prompts` converts them to the linear layout, so every
predictor of :mod:`dlt.icl` reads both. The task families, drawn here, are shared by both.

Conventions: task :math:`w \sim \mathcal{N}(0, I_d)`, inputs :math:`x \sim \mathcal{N}(0,
\Sigma)`, labels :math:`y = w^\top x + \varepsilon` with :math:`\varepsilon \sim
\mathcal{N}(0, \sigma^2)`, ``noise`` :math:`= \sigma` (a standard deviation).
"""

from __future__ import annotations

import math

import torch

from ..core.params import Int, NonNegative, Tensor, validate_params
from ..core.validate import as_tensor, check_int, check_nonnegative, generator

# check_covariance, check_tasks: shared helpers of the kinds that read prompts
__all__ = [
    "FAMILIES",
    "sample_regression_tasks",
    "prompt_parts",
]

FAMILIES = ("dense", "sparse", "sign")


def check_covariance(covariance: object, dim: int) -> torch.Tensor:
    """Return ``covariance`` (identity when ``None``) as a float64 SPD ``(dim, dim)`` matrix, or raise."""
    if covariance is None:
        return torch.eye(dim, dtype=torch.float64)
    c = as_tensor(covariance, "covariance", ndim=2, shape=f"({dim}, {dim})", dtype=torch.float64)
    if c.shape != (dim, dim):
        raise ValueError(
            f"covariance must have shape ({dim}, {dim}) to match dim, got {tuple(c.shape)}"
        )
    if not torch.allclose(c, c.T, atol=1e-10):
        raise ValueError("covariance must be symmetric")
    if torch.linalg.eigvalsh(c).min() <= 0:
        raise ValueError("covariance must be positive definite")
    return c


def _sample_weights(
    family: str, n: int, dim: int, sparsity: int, g: torch.Generator
) -> torch.Tensor:
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


@validate_params(
    {
        "covariance": Tensor(2, "(dim, dim)"),
        "n_tasks": Int(1),
        "n_context": Int(1),
        "dim": Int(1),
        "noise": NonNegative(),
    }
)
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
    cov = check_covariance(covariance, dim)
    g = generator(seed)
    w = _sample_weights("dense", n_tasks, dim, dim, g)
    chol = torch.linalg.cholesky(cov)
    x = torch.randn(n_tasks, n_context + 1, dim, generator=g, dtype=torch.float64) @ chol.T
    y = _labels("dense", x, w) + noise * torch.randn(
        n_tasks, n_context + 1, generator=g, dtype=torch.float64
    )
    prompts = torch.cat([x, y[..., None]], dim=-1)
    targets = prompts[:, -1, -1].clone()
    prompts[:, -1, -1] = 0.0
    out: tuple[torch.Tensor, ...] = (
        prompts.to(dtype=dtype, device=device),
        targets.to(dtype=dtype, device=device),
    )
    if return_weights:
        out = (*out, w.to(dtype=dtype, device=device))
    return out


@validate_params({"prompts": Tensor(3, "(B, N + 1, d + 1)")})
def prompt_parts(
    prompts: torch.Tensor, dim: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split prompts of shape ``(B, N + 1, d + 1)`` into ``X (B, N, d)``, ``y (B, N)``, ``x_query (B, d)``.

    Raises
    ------
    ValueError
        If ``prompts`` is not 3-d, has no context token, its width is not ``dim + 1``, or
        it holds a non-finite entry.

    Examples
    --------
    >>> X, y, xq = prompt_parts(torch.zeros(2, 6, 4), dim=3)
    >>> X.shape, y.shape, xq.shape
    (torch.Size([2, 5, 3]), torch.Size([2, 5]), torch.Size([2, 3]))
    """
    prompts = as_tensor(prompts, "prompts", ndim=3, shape="(B, N + 1, d + 1)")
    if prompts.shape[1] < 2:
        raise ValueError(
            f"prompts must hold n_context >= 1 examples and a query, got {prompts.shape[1]} tokens"
        )
    if dim is not None and prompts.shape[2] != dim + 1:
        raise ValueError(
            f"prompts must have width dim + 1 = {dim + 1} (tokens (x, y)), got {prompts.shape[2]}"
        )
    return prompts[:, :-1, :-1], prompts[:, :-1, -1], prompts[:, -1, :-1]


def check_tasks(tasks: object, name: str, dim: int) -> torch.Tensor:
    """Return ``tasks`` if it is a finite tensor of task vectors of shape ``(M, dim)``, else raise."""
    if not isinstance(tasks, torch.Tensor) or tasks.ndim != 2 or tasks.shape[1] != dim:
        shape = tuple(tasks.shape) if isinstance(tasks, torch.Tensor) else type(tasks).__name__
        raise ValueError(f"{name} must have shape (M, {dim}) to match dim, got {shape}")
    return as_tensor(tasks, name, ndim=2, shape=f"(M, {dim})")
