r"""Adversarial perturbations of any model's inputs: FGSM and PGD in the l-infinity and l2 balls.

An attack looks for :math:`\delta` in the ball :math:`\|\delta\|_p \le \varepsilon` that
increases the loss :math:`\ell(f(x + \delta), y)` of a model :math:`f` at each input row
:math:`x`. FGSM (Goodfellow, Shlens and Szegedy 2015) takes one step along the sign of the
input gradient; PGD (Madry et al. 2018) iterates steps of size :math:`\alpha` and projects
back onto the ball, from a random start in it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..core.validate import as_tensor, check_choice, check_int, check_nonnegative, generator

__all__ = ["project", "fgsm", "pgd", "NORMS"]

NORMS = ("linf", "l2")
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _rows(t: torch.Tensor) -> torch.Tensor:
    """The l2 norm of each row (first dimension) of ``t``, shaped to broadcast against it."""
    return t.flatten(1).norm(dim=1).view(-1, *([1] * (t.ndim - 1)))


def project(delta: torch.Tensor, eps: float, norm: str = "linf") -> torch.Tensor:
    r"""The Euclidean projection of each row of ``delta`` onto the ball of radius ``eps``.

    :math:`\ell_\infty`: :math:`\Pi(\delta) = \mathrm{clip}(\delta, -\varepsilon, \varepsilon)`
    coordinatewise; :math:`\ell_2`: :math:`\Pi(\delta) = \delta \min(1, \varepsilon /
    \|\delta\|_2)`. Both are the closest points of the ball (Madry et al. 2018 use
    them in PGD).

    Parameters
    ----------
    delta : Tensor of shape (n, ...)
        Perturbations, one per row.
    eps : float
        Radius (>= 0).
    norm : {"linf", "l2"}

    Returns
    -------
    Tensor of the shape of ``delta``

    Examples
    --------
    >>> project(torch.tensor([[3.0, 4.0]]), 1.0, "l2")
    tensor([[0.6000, 0.8000]])
    >>> project(torch.tensor([[3.0, -0.5]]), 1.0, "linf")
    tensor([[ 1.0000, -0.5000]])
    """
    delta = as_tensor(delta, "delta", ndim=range(2, 8), shape="(n, ...)")
    eps = check_nonnegative(eps, "eps")
    norm = check_choice(norm, "norm", NORMS)
    if norm == "linf":
        return delta.clamp(-eps, eps)
    scale = (eps / _rows(delta).clamp_min(torch.finfo(delta.dtype).tiny)).clamp(max=1.0)
    return delta * scale


def _check(
    model: nn.Module, x: object, y: object, eps: object, norm: str
) -> tuple[torch.Tensor, torch.Tensor, float, str]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    xt = as_tensor(x, "x", ndim=range(2, 8), shape="(n, ...)")
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a tensor of labels, got {type(y).__name__}")
    if y.is_floating_point():
        as_tensor(y, "y", ndim=range(1, 8), shape="(n, ...)")
    if y.shape[0] != xt.shape[0]:
        raise ValueError(f"y must have {xt.shape[0]} rows to match x, got shape {tuple(y.shape)}")
    return xt, y, check_nonnegative(eps, "eps"), check_choice(norm, "norm", NORMS)


def _ce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(out, y.long(), reduction="none")


def _input_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: LossFn) -> torch.Tensor:
    with torch.enable_grad():
        xr = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(loss(model(xr), y).sum(), xr)
    return g


def _step(g: torch.Tensor, size: float, norm: str) -> torch.Tensor:
    if norm == "linf":
        return size * g.sign()
    return size * g / _rows(g).clamp_min(torch.finfo(g.dtype).tiny)


def fgsm(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    norm: str = "linf",
    loss: LossFn | None = None,
) -> torch.Tensor:
    r"""The fast gradient sign method: one step of length ``eps`` up the loss.

    .. math:: x' = x + \varepsilon\,\mathrm{sign}\big(\nabla_x \ell(f(x), y)\big)

    (Goodfellow, Shlens and Szegedy 2015) for ``norm="linf"``; for ``norm="l2"`` the
    step is :math:`\varepsilon\,\nabla_x\ell / \|\nabla_x\ell\|_2` (the fast gradient method).
    For a linear score :math:`w^\top x` the sign step moves the score by exactly
    :math:`\varepsilon\|w\|_1`, the paper's linear explanation of adversarial examples.

    Parameters
    ----------
    model : nn.Module
        Any differentiable model; it is evaluated, not changed.
    x : Tensor of shape (n, ...)
        Inputs.
    y : Tensor of shape (n,)
        Labels (class indices for the default cross-entropy) or targets of ``loss``.
    eps : float
        Radius of the ball (>= 0).
    norm : {"linf", "l2"}
    loss : callable ``(output, y) -> Tensor of shape (n,)``, optional
        The loss of each row (default: the cross-entropy of each row); their sum is
        differentiated, so each row moves by its own gradient.

    Returns
    -------
    Tensor of the shape of ``x``: the perturbed inputs (detached).

    References
    ----------
    Goodfellow, Shlens and Szegedy (2015), Explaining and harnessing adversarial examples.

    Examples
    --------
    >>> lin = nn.Linear(3, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.tensor([[1.0, -2.0, 0.5]]))
    >>> x = torch.zeros(1, 3)
    >>> up = lambda out, y: out[:, 0]
    >>> with torch.no_grad():
    ...     round(float(lin(fgsm(lin, x, torch.zeros(1), 0.1, loss=up)) - lin(x)), 4)
    0.35
    """
    x, y, eps, norm = _check(model, x, y, eps, norm)
    g = _input_grad(model, x, y, loss or _ce)
    return (x + _step(g, eps, norm)).detach()


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    steps: int = 10,
    step_size: float | None = None,
    norm: str = "linf",
    random_start: bool = True,
    loss: LossFn | None = None,
    seed: int | torch.Generator | None = 0,
) -> torch.Tensor:
    r"""Projected gradient ascent on the loss over the ball of radius ``eps`` around each row.

    .. math:: x^{t+1} = x + \Pi_{\|\delta\|_p \le \varepsilon}\big(x^t - x + \alpha\,
        s(\nabla_x \ell(f(x^t), y))\big)

    with :math:`s(g) = \mathrm{sign}(g)` for :math:`\ell_\infty` and :math:`g/\|g\|_2` for
    :math:`\ell_2`, from :math:`x^0 = x` plus a uniform point of the ball when
    ``random_start`` (Madry et al. 2018). The iterate with the largest loss of
    each row is returned, so the attack is never weaker than its start.

    Parameters
    ----------
    model, x, y, eps, norm, loss
        As in :func:`fgsm`.
    steps : int
        Number of ascent steps (>= 1).
    step_size : float, optional
        :math:`\alpha` (default :math:`2.5\,\varepsilon/\text{steps}`, a common choice).
    random_start : bool
        Start from a uniform random point of the ball.
    seed : int or torch.Generator
        Seed of the random start.

    Returns
    -------
    Tensor of the shape of ``x``: perturbed inputs with ``||x' - x||_p <= eps`` (detached).

    References
    ----------
    Madry, Makelov, Schmidt, Tsipras and Vladu (2018), Towards deep learning models resistant
    to adversarial attacks.

    Examples
    --------
    >>> model = nn.Linear(4, 3)
    >>> x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    >>> xa = pgd(model, x, y, 0.1, steps=5)
    >>> bool((xa - x).abs().max() <= 0.1 + 1e-6)
    True
    """
    x, y, eps, norm = _check(model, x, y, eps, norm)
    steps = check_int(steps, "steps", minimum=1)
    alpha = 2.5 * eps / steps if step_size is None else check_nonnegative(step_size, "step_size")
    loss_fn = loss or _ce

    def per_row(out: torch.Tensor) -> torch.Tensor:
        value = loss_fn(out, y)
        if value.shape != (x.shape[0],):
            raise ValueError(
                f"loss must return one value per row, shape ({x.shape[0]},), got {tuple(value.shape)}"
            )
        return value

    delta = torch.zeros_like(x)
    if random_start and eps > 0:
        g = generator(seed)
        if norm == "linf":
            u = torch.rand(x.shape, generator=g, dtype=x.dtype).to(x.device)
            delta = eps * (2 * u - 1)
        else:
            z = torch.randn(x.shape, generator=g, dtype=x.dtype).to(x.device)
            d = z[0].numel()
            r = torch.rand(x.shape[0], generator=g, dtype=x.dtype).to(x.device) ** (1 / d)
            delta = eps * r.view(-1, *([1] * (x.ndim - 1))) * z / _rows(z)
    best = x + delta
    with torch.no_grad():
        best_loss = per_row(model(best))
    for _ in range(steps):
        grad = _input_grad(model, x + delta, y, loss_fn)
        delta = project(delta + _step(grad, alpha, norm), eps, norm)
        with torch.no_grad():
            cur = per_row(model(x + delta))
            better = cur > best_loss
            best = torch.where(better.view(-1, *([1] * (x.ndim - 1))), x + delta, best)
            best_loss = torch.maximum(cur, best_loss)
    if not math.isfinite(float(best_loss.sum())):
        raise ValueError("the loss of the attacked inputs is not finite")
    return best.detach()
