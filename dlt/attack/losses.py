r"""Training losses built from attacks and bounds, for the one training loop :func:`dlt.train.fit`.

A plain loss of :func:`~dlt.train.fit` sees only ``(output, y)``; these losses need the model
and the inputs (to attack them or to bound the outputs over a box) and the step (to ramp the
radius). They declare ``takes_model = True`` and are called as ``loss(model, x, y, step)``,
the small extension of fit's loss protocol that serves them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..core.validate import as_tensor, check_choice, check_fraction, check_int, check_nonnegative
from .ibp import ibp_bounds
from .perturb import NORMS, pgd

__all__ = ["worst_case_logits", "CertifiedLoss", "AdversarialLoss", "ramp"]


def ramp(step: int, eps: float, warmup: int, ramp_steps: int) -> float:
    r"""The radius at ``step`` of a linear ramp: 0 for ``warmup`` steps, then up to ``eps``.

    :math:`\varepsilon_t = \varepsilon \min(1, \max(0, t - t_0) / T)` (Gowal et al. 2018
    section 4, ramp the radius from 0 so that training starts from a clean fit).

    Examples
    --------
    >>> [ramp(t, 0.1, 10, 20) for t in (0, 10, 20, 30, 40)]
    [0.0, 0.0, 0.05, 0.1, 0.1]
    """
    step = check_int(step, "step", minimum=0)
    eps = check_nonnegative(eps, "eps")
    warmup = check_int(warmup, "warmup", minimum=0)
    ramp_steps = check_int(ramp_steps, "ramp_steps", minimum=0)
    if ramp_steps == 0:
        return eps if step >= warmup else 0.0
    return eps * min(1.0, max(0, step - warmup) / ramp_steps)


def worst_case_logits(lower: torch.Tensor, upper: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""The logits of the worst case that interval bounds allow: true class low, others high.

    .. math:: \hat z_k = u_k \ (k \ne y), \qquad \hat z_y = l_y

    (Gowal et al. 2018). The prediction is certified at a box when
    :math:`\arg\max_k \hat z_k = y`, and the cross-entropy of :math:`\hat z` bounds the
    cross-entropy of every output of the box from above.

    Parameters
    ----------
    lower, upper : Tensor of shape (n, k)
        Bounds of the logits.
    y : Tensor of shape (n,)
        Class indices.

    Returns
    -------
    Tensor of shape (n, k)

    Examples
    --------
    >>> worst_case_logits(torch.zeros(1, 3), torch.ones(1, 3), torch.tensor([1]))
    tensor([[1., 0., 1.]])
    """
    lower = as_tensor(lower, "lower", ndim=2, shape="(n, k)")
    upper = as_tensor(upper, "upper", ndim=2, shape="(n, k)")
    if upper.shape != lower.shape:
        raise ValueError(
            f"upper must have the shape of lower {tuple(lower.shape)}, got {tuple(upper.shape)}"
        )
    if not isinstance(y, torch.Tensor) or y.shape != lower.shape[:1]:
        raise ValueError(f"y must be a tensor of {lower.shape[0]} class indices")
    true = F.one_hot(y.long(), lower.shape[1]).bool()
    return torch.where(true, lower, upper)


class CertifiedLoss:
    r"""The IBP-certified training loss with a ramped radius (Gowal et al. 2018).

    .. math:: \kappa\,\ell(f(x), y) + (1 - \kappa)\,\ell(\hat z(x, \varepsilon_t), y)

    with :math:`\ell` the cross-entropy, :math:`\hat z` the worst-case logits of
    :func:`worst_case_logits` from :func:`ibp_bounds` over the box of radius
    :math:`\varepsilon_t` (:func:`ramp`) and :math:`\kappa` the weight of the clean loss.
    The second term bounds the robust cross-entropy from above, so driving it down certifies.

    Parameters
    ----------
    eps : float
        Final radius (>= 0).
    warmup, ramp_steps : int
        Clean steps, then steps of the linear ramp of the radius.
    kappa : float
        Weight of the clean loss, in [0, 1].

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> loss = CertifiedLoss(0.1, warmup=0, ramp_steps=0)
    >>> x, y = torch.randn(4, 2), torch.tensor([0, 1, 2, 0])
    >>> bool(loss(net, x, y, 0) >= F.cross_entropy(net(x), y) - 1e-6)
    True
    """

    takes_model = True

    def __init__(self, eps: float, warmup: int = 0, ramp_steps: int = 0, kappa: float = 0.5):
        self.eps = check_nonnegative(eps, "eps")
        self.warmup = check_int(warmup, "warmup", minimum=0)
        self.ramp_steps = check_int(ramp_steps, "ramp_steps", minimum=0)
        self.kappa = check_fraction(kappa, "kappa")

    def __call__(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, step: int
    ) -> torch.Tensor:
        eps = ramp(step, self.eps, self.warmup, self.ramp_steps)
        clean = F.cross_entropy(model(x), y.long())
        if eps == 0:
            return clean
        lo, hi = ibp_bounds(model, x, eps)
        robust = F.cross_entropy(worst_case_logits(lo, hi, y), y.long())
        return self.kappa * clean + (1 - self.kappa) * robust


class AdversarialLoss:
    r"""The adversarial-training loss of Madry et al. (2018): the cross-entropy at PGD points.

    .. math:: \kappa\,\ell(f(x), y) + (1 - \kappa)\,\ell(f(x_{\mathrm{PGD}}), y)

    with :math:`x_{\mathrm{PGD}}` from :func:`pgd` over the ball of radius
    :math:`\varepsilon_t` (:func:`ramp`); :math:`\kappa = 0` is Madry et al.'s min-max
    objective, :math:`\kappa = 1/2` the mixture of Goodfellow et al. (2015).

    Parameters
    ----------
    eps : float
        Final radius (>= 0).
    steps : int
        PGD steps per training step.
    norm : {"linf", "l2"}
    warmup, ramp_steps : int
        As in :class:`CertifiedLoss`.
    kappa : float
        Weight of the clean loss, in [0, 1].

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> loss = AdversarialLoss(0.1, steps=3, kappa=0.0)
    >>> x, y = torch.randn(4, 2), torch.tensor([0, 1, 2, 0])
    >>> bool(loss(net, x, y, 0) >= F.cross_entropy(net(x), y))
    True
    """

    takes_model = True

    def __init__(
        self,
        eps: float,
        steps: int = 10,
        norm: str = "linf",
        warmup: int = 0,
        ramp_steps: int = 0,
        kappa: float = 0.0,
    ):
        self.eps = check_nonnegative(eps, "eps")
        self.steps = check_int(steps, "steps", minimum=1)
        self.norm = check_choice(norm, "norm", NORMS)
        self.warmup = check_int(warmup, "warmup", minimum=0)
        self.ramp_steps = check_int(ramp_steps, "ramp_steps", minimum=0)
        self.kappa = check_fraction(kappa, "kappa")

    def __call__(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, step: int
    ) -> torch.Tensor:
        eps = ramp(step, self.eps, self.warmup, self.ramp_steps)
        clean = F.cross_entropy(model(x), y.long())
        if eps == 0:
            return clean
        xa = pgd(model, x, y, eps, steps=self.steps, norm=self.norm, seed=step)
        return self.kappa * clean + (1 - self.kappa) * F.cross_entropy(model(xa), y.long())
