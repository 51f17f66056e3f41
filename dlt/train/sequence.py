r"""The next-token loss of sequence models with ``n_models`` members and unscored positions."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..core.params import Tensor, validate_params
from ..core.validate import as_tensor, check_int

__all__ = ["sequence_cross_entropy"]


@validate_params({"out": Tensor(4, "(n_models, n, T, vocab)", finite=False)})
def sequence_cross_entropy(out: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    r"""Cross-entropy over the scored positions, averaged per member and summed over members.

    .. math:: \mathcal L = \sum_{m} \frac{1}{|P|} \sum_{(i, t) \in P}
        -\log \operatorname{softmax}(z_{m,i,t})_{y_{i,t}},

    :math:`P` the positions whose target is not ``-100``; the sum over members gives each
    member the gradient of its own mean loss (as :func:`dlt.train.ensemble_logistic`).

    Parameters
    ----------
    out : Tensor of shape (n_models, n, T, vocab)
        Logits (:class:`dlt.nets.transformer.CausalTransformer`).
    targets : Tensor of shape (n, T), int64
        Next tokens, ``-100`` where unscored (:func:`dlt.length_generalization.copy_task`).

    Returns
    -------
    Tensor of shape ()

    Examples
    --------
    >>> out = torch.zeros(2, 1, 3, 4)
    >>> float(sequence_cross_entropy(out, torch.tensor([[-100, 1, 2]])))  # 2 log 4
    2.772588...
    """
    z = as_tensor(out, "out", ndim=4, shape="(n_models, n, T, vocab)", finite=False)
    y = torch.as_tensor(targets)
    if y.is_floating_point() or y.shape != z.shape[1:3]:
        raise ValueError(
            f"targets must be int64 of shape {tuple(z.shape[1:3])}, got {y.dtype} {tuple(y.shape)}"
        )
    M, V = z.shape[0], z.shape[-1]
    return F.cross_entropy(z.reshape(-1, V), y.long().repeat(M, 1, 1).reshape(-1)) * M


class FreshBatchLoss:
    r"""A loss for :func:`dlt.train.fit` that draws a fresh batch of a sequence task at every step.

    At step :math:`t` one length :math:`k_t` is drawn uniformly from
    ``min_length..max_length`` for the whole batch (so no step pays for padding), and
    ``task(batch_size, k_t, seed=...)`` gives the batch; the loss is
    :func:`sequence_cross_entropy` of the model's logits. ``fit``'s own ``X`` and ``y`` are
    then placeholders: pass ``X = torch.zeros(1, 1)``, ``y = torch.zeros(1)``.

    Parameters
    ----------
    task : callable ``(n, length, seed=...) -> SequenceTask``
        E.g. :func:`dlt.length_generalization.copy_task`.
    batch_size : int
    min_length, max_length : int
        The training lengths.
    seed : int
        Seed of the lengths and batches (step :math:`t` uses ``seed * 1_000_003 + t``).

    Examples
    --------
    >>> from dlt.data.sequences import copy_task
    >>> loss = FreshBatchLoss(copy_task, 4, 1, 3, seed=0)
    >>> loss.takes_model
    True
    """

    takes_model = True

    def __init__(
        self, task: object, batch_size: int, min_length: int, max_length: int, seed: int = 0
    ) -> None:
        if not callable(task):
            raise TypeError(f"task must be callable, got {type(task).__name__}")
        self.task = task
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.min_length = check_int(min_length, "min_length", minimum=1)
        self.max_length = check_int(max_length, "max_length", minimum=self.min_length)
        self.seed = check_int(seed, "seed", minimum=0)

    def __call__(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, step: int
    ) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + int(step))
        k = int(torch.randint(self.min_length, self.max_length + 1, (1,), generator=g))
        dev = next(model.parameters()).device
        batch = self.task(self.batch_size, k, seed=g, device=dev)
        return sequence_cross_entropy(model(batch.tokens), batch.targets)
