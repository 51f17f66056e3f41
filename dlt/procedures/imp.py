"""Iterative magnitude pruning with rewinding: train, prune, rewind, and train again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..core.params import Fraction, Int, Model, Positive, validate_params
from ..core.validate import check_choice, check_fraction, check_int, check_positive
from ..prune.magnitude import densities, prune_by_magnitude
from ..prune.masked import MaskedModel, rewind
from ..train.loop import fit

__all__ = ["PruningRound", "iterative_magnitude_pruning"]


@dataclass(frozen=True)
class PruningRound:
    """One round of :func:`iterative_magnitude_pruning`: the masks it trained with and its curves.

    ``masks`` (one bool tensor per pruned parameter, ``(n_models, ...)``); ``density``
    ``(n_models, L + 1)`` the kept fraction of each pruned layer and of all together;
    ``step`` ``(T,)`` the recorded steps; ``test_accuracy`` and ``test_loss`` ``(T, n_models)``;
    ``train_accuracy`` ``(n_models,)`` at the end of the round.

    Examples
    --------
    >>> r = PruningRound(0, [], torch.ones(2, 1), torch.zeros(1), torch.zeros(1, 2),
    ...                  torch.zeros(1, 2), torch.zeros(2))
    >>> r.n_models
    2
    """

    round: int
    masks: list[torch.Tensor]
    density: torch.Tensor
    step: torch.Tensor
    test_accuracy: torch.Tensor
    test_loss: torch.Tensor
    train_accuracy: torch.Tensor

    @property
    def n_models(self) -> int:
        """Number of members."""
        return int(self.density.shape[0])

    def early_stop(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Each member's test accuracy at its record of smallest test loss, and that step
        (Frankle and Carbin's early-stopping iteration)."""
        best = self.test_loss.argmin(0)
        acc = self.test_accuracy.gather(0, best[None])[0]
        return acc, self.step[best]

    def steps_to(self, accuracy: float) -> torch.Tensor:
        """Each member's first recorded step with test accuracy >= ``accuracy`` (-1: never)."""
        reached = self.test_accuracy >= accuracy
        first = reached.to(torch.int64).argmax(0)
        return torch.where(reached.any(0), self.step[first], torch.full_like(first, -1))


@validate_params(
    {
        "model": Model(),
        "rounds": Int(0),
        "fraction": Fraction(),
        "steps": Int(1),
        "lr": Positive(),
        "batch_size": Int(1),
        "record_every": Int(1),
    }
)
def iterative_magnitude_pruning(
    model: nn.Module,
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    rounds: int,
    fraction: float = 0.5,
    scope: str | Sequence[str] = "global",
    layer_fraction: float | Sequence[float] | None = None,
    mask_from: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
    steps: int = 1000,
    lr: float = 1.2e-3,
    batch_size: int | None = 64,
    optimizer: str = "adam",
    record_every: int = 25,
    seed: int = 0,
) -> list[PruningRound]:
    r"""Iterative magnitude pruning with rewinding to initialization, for an ensemble of classifiers.

    Frankle and Carbin's procedure: store the initialization :math:`\theta_0`; round 0 trains
    the dense network; each later round removes the fraction :math:`p` of the surviving
    weights of smallest magnitude in the trained network (:func:`dlt.lottery.prune_by_magnitude`),
    rewinds the survivors to :math:`\theta_0` (:func:`dlt.lottery.rewind`) and trains again,
    so that after :math:`r` rounds a density :math:`(1 - p)^r` remains. The
    pruned weights are held at zero by a :class:`dlt.prune.MaskedModel` through
    :func:`dlt.train.fit`, which minimizes the sum of the members' mean cross-entropies.

    ``model`` maps inputs to logits ``(n_models, n, classes)`` (an ensemble such as
    :class:`dlt.nets.MLPEnsemble`), and each member is pruned on its own, so one batched
    training runs every member of a round. A control member :math:`j` with
    ``mask_from[j] = i`` takes member :math:`i`'s mask instead of its own, and keeps its own
    initialization: the random re-initialization control of Frankle and Carbin when its
    initialization was drawn independently.

    Parameters
    ----------
    model : nn.Module
        The dense ensemble at initialization (trained in place).
    X_train, y_train, X_test, y_test : Tensor
        Inputs (n, ...) and integer labels (n,).
    rounds : int
        Number of pruning rounds after the dense one (>= 0).
    fraction : float
        :math:`p \in [0, 1]` removed per round by the members of scope ``"global"``.
    scope : {"global", "layer"} or a sequence of them, one per member
    layer_fraction : float or sequence of float, optional
        The fraction removed per round (per layer, or one for all) by the members of scope
        ``"layer"``; default ``fraction``.
    mask_from : sequence of int, optional
        One per member: whose mask each member takes (default its own).
    names : sequence of str, optional
        The parameters to prune (default: every parameter with at least 3 dimensions, the
        weight matrices of an ensemble).
    steps, lr, batch_size, optimizer, seed
        Passed to :func:`dlt.train.fit` in every round (``seed``: the minibatch order, the
        same in every round).
    record_every : int
        Record the test accuracy and loss every this many steps.

    Returns
    -------
    list of PruningRound
        ``rounds + 1`` rounds, the dense one first.

    Raises
    ------
    ValueError
        If an argument is out of range or does not match the number of members.

    References
    ----------
    Frankle and Carbin (2019), The lottery ticket hypothesis: finding sparse, trainable
    neural networks, ICLR.

    Examples
    --------
    >>> from dlt.nets import MLPEnsemble
    >>> X, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    >>> out = iterative_magnitude_pruning(MLPEnsemble([4, 8, 2], seed=[0, 1]), X, y, X, y,
    ...                                   rounds=2, steps=5, record_every=5)
    >>> [round(float(r.density[0, -1]), 3) for r in out]
    [1.0, 0.5, 0.25]
    """
    rounds = check_int(rounds, "rounds", minimum=0)
    fraction = check_fraction(fraction, "fraction")
    steps = check_int(steps, "steps", minimum=1)
    lr = check_positive(lr, "lr")
    params = dict(model.named_parameters())
    names = (
        tuple(names) if names is not None else tuple(n for n, p in params.items() if p.ndim >= 3)
    )
    if not names or any(n not in params for n in names):
        raise ValueError(
            f"names must name parameters of model, got {names!r}; parameters: {sorted(params)}"
        )
    n_models = params[names[0]].shape[0]
    scopes = [scope] * n_models if isinstance(scope, str) else list(scope)
    if len(scopes) != n_models:
        raise ValueError(
            f"scope must be one string or {n_models} (one per member), got {len(scopes)}"
        )
    for s in scopes:
        check_choice(s, "scope", ("global", "layer"))
    source = list(range(n_models)) if mask_from is None else [int(i) for i in mask_from]
    if len(source) != n_models or any(not 0 <= i < n_models for i in source):
        raise ValueError(
            f"mask_from must be {n_models} member indices in [0, {n_models}), got {mask_from!r}"
        )
    lf = fraction if layer_fraction is None else layer_fraction
    is_global = torch.tensor([s == "global" for s in scopes])
    init = {n: params[n].detach().clone() for n in params}
    masks = [torch.ones_like(params[n], dtype=torch.bool) for n in names]
    y_long = y_test.long()
    out = []
    for r in range(rounds + 1):
        rewind(model, init)
        masked = MaskedModel(model, dict(zip(names, masks, strict=True)))
        rec: dict[str, list[torch.Tensor]] = {"step": [], "acc": [], "loss": []}

        def on_record(step: int, net: nn.Module, rec: dict[str, list[torch.Tensor]] = rec) -> None:
            with torch.no_grad():
                logits = net(X_test)
                rec["step"].append(torch.tensor(step))
                rec["acc"].append((logits.argmax(-1) == y_long).double().mean(-1))
                loss = F.cross_entropy(
                    logits.transpose(1, 2), y_long.expand(logits.shape[:2]), reduction="none"
                )
                rec["loss"].append(loss.double().mean(-1))

        fit(
            masked,
            X_train,
            y_train,
            loss="ensemble_cross_entropy",
            optimizer=optimizer,
            lr=lr,
            steps=steps,
            batch_size=batch_size,
            record_every=record_every,
            callback=on_record,
            seed=seed,
            full_loss=False,
        )
        with torch.no_grad():
            train_acc = (masked(X_train).argmax(-1) == y_train.long()).double().mean(-1)
            trained = [w.detach() for w in masked.masked_weights().values()]
        out.append(
            PruningRound(
                r,
                [m.clone() for m in masks],
                densities(masks, members=True),
                torch.stack(rec["step"]),
                torch.stack(rec["acc"]),
                torch.stack(rec["loss"]),
                train_acc,
            )
        )
        if r == rounds:
            break
        g = prune_by_magnitude(trained, fraction, "global", masks, members=True)
        lw = prune_by_magnitude(trained, lf, "layer", masks, members=True)
        new = [
            torch.where(is_global.view(-1, *[1] * (a.ndim - 1)).to(a.device), a, b)
            for a, b in zip(g, lw, strict=True)
        ]
        masks = [m[source] for m in new]
    return out
