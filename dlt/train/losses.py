"""Losses and optimizers by name, for :func:`dlt.train.fit`."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["LOSSES", "OPTIMIZERS", "LossFn", "ensemble_logistic"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if out.ndim == 2 and out.shape[1] == 1 and y.ndim == 1:
        out = out[:, 0]
    return 0.5 * ((out - y) ** 2).mean()


def _cross_entropy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(out, y.long())


def _ensemble_cross_entropy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # outputs (members, n, classes) of independent networks: the sum of their mean losses,
    # so each member's gradient is that of its own cross-entropy
    if out.ndim != 3:
        raise ValueError(
            f"ensemble_cross_entropy needs outputs (members, n, classes), got {tuple(out.shape)}"
        )
    m = out.shape[0]
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.long().repeat(m)) * m


def _logistic(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    return F.softplus(-y * out).mean()


def ensemble_logistic(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""The logistic loss of an ensemble of independent models: the sum of their mean losses.

    .. math::

        L = \sum_{m=1}^{M} \frac{1}{n} \sum_{i=1}^{n} \log\left(1 + e^{-y_{im} f_m(x_i)}\right),

    so the gradient with respect to member :math:`m`'s parameters is that of its own mean
    logistic loss (``LOSSES["logistic"]``), and :math:`M` models batched in one module (as
    :class:`dlt.nets.PatchCNN` with ``n_models``) train as if each were trained alone, with
    the learning rate of one. The two-class, ±1-label counterpart of
    ``LOSSES["ensemble_cross_entropy"]``, whose members are the first axis instead.

    Parameters
    ----------
    out : Tensor of shape (n, M)
        Each member's real output on each sample.
    y : Tensor of shape (n, M) or (n,)
        Labels in {-1, +1}, per member or shared by all.

    Returns
    -------
    Tensor
        The scalar loss.

    Raises
    ------
    ValueError
        If ``out`` is not 2-D or ``y``'s shape is neither (n, M) nor (n,).

    Examples
    --------
    >>> out = torch.zeros(4, 3)  # 3 members, every output 0: log 2 each
    >>> round(float(ensemble_logistic(out, torch.ones(4))), 6)  # 3 log 2
    2.079442
    """
    if out.ndim != 2:
        raise ValueError(f"out must be (n, members), got shape {tuple(out.shape)}")
    if y.shape == out.shape[:1]:
        y = y[:, None]
    elif y.shape != out.shape:
        raise ValueError(
            f"y must have shape {tuple(out.shape)} or ({out.shape[0]},), got {tuple(y.shape)}"
        )
    return F.softplus(-y * out).mean(0).sum()


LOSSES: dict[str, LossFn] = {
    "mse": _mse,  # 1/(2n) sum (f - y)^2, the convention of dlt.kernels.kernel_gd_dynamics
    "cross_entropy": _cross_entropy,  # integer class labels
    "logistic": _logistic,  # labels in {-1, +1}
    "ensemble_cross_entropy": _ensemble_cross_entropy,  # (members, n, classes), summed over members
    "ensemble_logistic": ensemble_logistic,  # (n, members), labels in {-1, +1}, summed over members
}

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}
