r"""Accuracy of sequence models on the scored positions: exact match and per token."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..core.params import Model, Tensor, validate_params

__all__ = ["SequenceAccuracy", "sequence_accuracy"]


class SequenceAccuracy(NamedTuple):
    """Exact-match and per-token accuracy of each member, each of shape (n_models,).

    Examples
    --------
    >>> SequenceAccuracy(torch.ones(1), torch.ones(1)).exact
    tensor([1.])
    """

    exact: torch.Tensor
    token: torch.Tensor


@validate_params({"model": Model(), "tokens": Tensor(2, "(n, T)", finite=False)})
@torch.no_grad()
def sequence_accuracy(
    model: nn.Module, tokens: torch.Tensor, targets: torch.Tensor
) -> SequenceAccuracy:
    r"""Exact-match and per-token accuracy of greedy predictions on the scored positions.

    With teacher forcing, the prediction at position :math:`t` is
    :math:`\arg\max_v z_{t,v}`. A sequence is an exact match when every scored position is
    right, which for these tasks is the same as greedy decoding being right (a decoded
    sequence departs from the target only after a first wrong token). Per-token accuracy is
    the fraction of all scored positions that are right.

    Parameters
    ----------
    model : nn.Module
        Maps tokens (n, T) to logits (n_models, n, T, vocab) or (n, T, vocab).
    tokens : Tensor of shape (n, T), int64
    targets : Tensor of shape (n, T), int64
        ``-100`` where unscored; every sequence has a scored position.

    Returns
    -------
    SequenceAccuracy

    Examples
    --------
    >>> from dlt.data.sequences import copy_task
    >>> t = copy_task(3, 4, seed=0)
    >>> class Oracle(nn.Module):  # logits that put the target first, wherever it is scored
    ...     def forward(self, x):
    ...         return torch.nn.functional.one_hot(t.targets.clamp(min=0), t.vocab).float()
    >>> sequence_accuracy(Oracle(), t.tokens, t.targets).exact
    tensor([1.], dtype=torch.float64)
    """
    y = torch.as_tensor(targets).long()
    x = torch.as_tensor(tokens).long()
    if y.shape != x.shape:
        raise ValueError(
            f"targets must have the shape {tuple(x.shape)} of tokens, got {tuple(y.shape)}"
        )
    scored = y != -100
    if not bool(scored.any(1).all()):
        raise ValueError("targets must score at least one position of every sequence")
    out = model(x)
    if out.ndim == 3:
        out = out.unsqueeze(0)
    right = (out.argmax(-1) == y) & scored  # (M, n, T)
    exact = (right.sum(-1) == scored.sum(-1)).to(torch.float64).mean(-1)
    token = right.sum((-1, -2)).to(torch.float64) / scored.sum()
    return SequenceAccuracy(exact, token)
