"""Losses and optimizers by name, for :func:`dlt.train.fit`."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["LOSSES", "OPTIMIZERS", "LossFn"]

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


LOSSES: dict[str, LossFn] = {
    "mse": _mse,  # 1/(2n) sum (f - y)^2, the convention of dlt.kernels.kernel_gd_dynamics
    "cross_entropy": _cross_entropy,  # integer class labels
    "logistic": _logistic,  # labels in {-1, +1}
    "ensemble_cross_entropy": _ensemble_cross_entropy,  # (members, n, classes), summed over members
}

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}
