"""The one training loop of the book.

:func:`fit` trains any ``nn.Module`` full-batch or on minibatches with any torch
optimizer and returns a :class:`History`. Chapters reuse it instead of writing loops.

A progress bar (``tqdm.auto``) is shown in live sessions for runs of 200 steps or more;
set ``DLT_PROGRESS=0`` (as ``make execute``, ``dlt run`` and the tests do) to hide it so
that rendered pages and test logs stay clean.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..core.params import Int, Model, NonNegative, Positive, Tensor, validate_params
from ..core.validate import (
    as_tensor,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    generator,
)
from .losses import LOSSES, OPTIMIZERS, LossFn

__all__ = ["History", "fit", "minibatch_indices", "progress_enabled"]


def progress_enabled(steps: int, progress: bool | None = None) -> bool:
    """Whether a run of ``steps`` steps shows a progress bar (see the module docstring).

    Examples
    --------
    >>> progress_enabled(1000, progress=False)
    False
    """
    if progress is not None:
        return bool(progress)
    return os.environ.get("DLT_PROGRESS", "1") != "0" and steps >= 200


@validate_params({"n": Int(1), "batch_size": Int(1)})
def minibatch_indices(
    n: int, batch_size: int, seed: int | torch.Generator | None = 0
) -> Iterator[torch.Tensor]:
    """Minibatches of indices without replacement: each epoch is a fresh seeded permutation of ``range(n)``.

    An epoch gives ``n // batch_size`` full batches; the remainder of the permutation is
    dropped and the next epoch draws a new permutation, so every sample is seen once per
    epoch up to the dropped remainder, in an order that changes from epoch to epoch.

    Examples
    --------
    >>> batches = minibatch_indices(6, 3, seed=0)
    >>> first_epoch = torch.cat([next(batches), next(batches)])
    >>> sorted(first_epoch.tolist())
    [0, 1, 2, 3, 4, 5]
    """
    n = check_int(n, "n", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if batch_size > n:
        raise ValueError(f"batch_size must be <= n = {n}, got {batch_size}")
    g = generator(seed)
    while True:
        perm = torch.randperm(n, generator=g)
        for pos in range(0, n - batch_size + 1, batch_size):
            yield perm[pos : pos + batch_size]


@dataclass
class History:
    """What :func:`fit` recorded: the steps, the training loss, and every ``record`` entry.

    Examples
    --------
    >>> h = History(step=[0, 10], train_loss=[1.0, 0.5])
    >>> h.last(), h["step"].tolist()
    (0.5, [0, 10])
    """

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    records: dict[str, list[float]] = field(default_factory=dict)
    diverged: bool = False

    def __getitem__(self, key: str) -> np.ndarray:
        """``history["train_loss"]``, ``history["step"]`` or a recorded key, as an array."""
        if key == "step":
            return np.asarray(self.step)
        if key == "train_loss":
            return np.asarray(self.train_loss)
        if key not in self.records:
            raise KeyError(
                f"{key!r} was not recorded; recorded: {['step', 'train_loss', *self.records]}"
            )
        return np.asarray(self.records[key])

    def last(self, key: str = "train_loss") -> float:
        """The last recorded value of ``key``."""
        return float(self[key][-1])


@validate_params(
    {
        "model": Model(),
        "X": Tensor((2, 3, 4, 5, 6, 7), "(n, ...), a sample dimension first"),
        "steps": Int(0),
        "lr": Positive(),
        "weight_decay": NonNegative(),
        "batch_size": Int(1),
    }
)
def fit(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    loss: str | LossFn = "mse",
    optimizer: str | Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] = "sgd",
    lr: float = 0.1,
    steps: int = 1000,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    record_every: int | None = None,
    record: dict[str, Callable[[nn.Module], float]] | None = None,
    callback: Callable[[int, nn.Module], None] | None = None,
    stop: Callable[[History], bool] | None = None,
    seed: int | torch.Generator | None = 0,
    progress: bool | None = None,
    full_loss: bool = True,
    lr_schedule: str | Callable[[int], float] | None = None,
) -> History:
    r"""Train ``model`` on ``(X, y)`` and record its history.

    Each step takes one minibatch (a fresh random permutation per epoch, seeded) or the
    full batch, computes the loss, and applies one optimizer step. With ``loss="mse"``
    the loss is :math:`\frac{1}{2n}\sum_i (f(x_i) - y_i)^2`.

    Parameters
    ----------
    model : nn.Module
    X : Tensor of shape (n, ...)
        Inputs; the first dimension indexes samples.
    y : Tensor of shape (n, ...)
        Targets.
    loss : {"mse", "cross_entropy", "logistic"} or callable ``(output, y) -> scalar``
        A callable with the attribute ``takes_model = True`` is called instead as
        ``loss(model, x, y, step)`` with the batch's inputs and the step number: losses that
        attack or bound the model's inputs (:class:`dlt.attack.AdversarialLoss`,
        :class:`dlt.attack.CertifiedLoss`) and losses with a schedule use it.
    optimizer : {"sgd", "adam", "adamw"} or callable ``params -> torch.optim.Optimizer``
    lr : float
        Learning rate (> 0), used with a named optimizer. A model with a ``param_groups(lr)``
        method (:meth:`dlt.nets.MLP.param_groups`) gets its per-layer rates from it.
    steps : int
        Number of optimizer steps (>= 0).
    batch_size : int, optional
        Minibatch size; ``None`` trains full-batch.
    weight_decay : float
        Passed to a named optimizer.
    record_every : int, optional
        Record every this many steps (default: about 100 records per run); the initial
        and final states are always recorded.
    record : dict of callables ``model -> float``, optional
        Extra quantities to record (test loss, accuracy, kernel distance...), evaluated
        without gradients.
    callback : callable ``(step, model)``, optional
        Called after each recorded step.
    stop : callable ``History -> bool``, optional
        Evaluated after each record; when it returns ``True`` training ends there (the
        last record is the stopping step), e.g. ``lambda h: h["test_loss"][-1] < 0.1``.
    seed : int or torch.Generator
        Seed of the minibatch order.
    progress : bool, optional
        Force the progress bar on or off.
    lr_schedule : {"cosine"} or callable ``step -> factor``, optional
        Multiplies the learning rate of every parameter group at each step by a factor:
        ``"cosine"`` is :math:`\tfrac12(1 + \cos(\pi t / T))` for ``steps`` :math:`= T`
        (Loshchilov and Hutter's cosine annealing without restarts); ``None`` keeps it fixed.
    full_loss : bool
        With minibatches, the recorded training loss is the loss on all of ``X`` (one pass
        over the data per record); ``False`` records the loss of the current minibatch
        instead, which costs nothing extra when ``X`` is a large pool.

    Returns
    -------
    History

    Examples
    --------
    >>> from dlt.nets import MLP
    >>> X, y = torch.randn(32, 2), torch.randn(32)
    >>> h = fit(MLP([2, 32, 1], seed=0), X, y, lr=0.5, steps=50)
    >>> h.last() < h.train_loss[0]
    True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("X and y must be tensors")
    if X.ndim == 1:
        raise ValueError(
            f"X must have a sample dimension first, shape (n, ...), got {tuple(X.shape)}"
        )
    as_tensor(X, "X", ndim=range(2, 8), shape="(n, ...)")
    if y.is_floating_point():
        as_tensor(y, "y", ndim=range(1, 8), shape="(n, ...)")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have {X.shape[0]} rows to match X, got shape {tuple(y.shape)}")
    loss_fn = LOSSES[check_choice(loss, "loss", tuple(LOSSES))] if isinstance(loss, str) else loss
    if not callable(loss_fn):
        raise TypeError(f"loss must be a name of {sorted(LOSSES)} or a callable, got {loss!r}")
    takes_model = bool(getattr(loss_fn, "takes_model", False))
    current_step = 0

    def evaluate(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        if takes_model:
            return loss_fn(model, xb, yb, current_step)  # type: ignore[call-arg,arg-type]
        return loss_fn(model(xb), yb)

    steps = check_int(steps, "steps", minimum=0)
    lr = check_positive(lr, "lr")
    weight_decay = check_nonnegative(weight_decay, "weight_decay")
    params = [p for p in model.parameters() if p.requires_grad]
    if isinstance(optimizer, str):
        cls = OPTIMIZERS[check_choice(optimizer, "optimizer", tuple(OPTIMIZERS))]
        groups = getattr(model, "param_groups", None)
        opt = cls(groups(lr) if callable(groups) else params, lr=lr, weight_decay=weight_decay)  # type: ignore[call-arg]
    else:
        opt = optimizer(params)
    if isinstance(lr_schedule, str):
        check_choice(lr_schedule, "lr_schedule", ("cosine",))
        total = max(steps, 1)

        def schedule(t: int) -> float:
            return 0.5 * (1 + math.cos(math.pi * t / total))

    elif lr_schedule is None or callable(lr_schedule):
        schedule = lr_schedule  # type: ignore[assignment]
    else:
        raise TypeError(f"lr_schedule must be 'cosine', a callable or None, got {lr_schedule!r}")
    base_lrs = [group["lr"] for group in opt.param_groups]
    n = X.shape[0]
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        if batch_size >= n:
            batch_size = None
    every = record_every if record_every is not None else max(1, steps // 100)
    every = check_int(every, "record_every", minimum=1)
    g = generator(seed)
    record = record or {}
    hist = History(records={k: [] for k in record})

    def loss_on_data() -> float:
        with torch.no_grad():
            if batches is not None and not full_loss:
                idx = next(batches).to(X.device)
                return float(evaluate(X[idx], y[idx]))
            return float(evaluate(X, y))

    def log(step: int, value: float) -> None:
        hist.step.append(step)
        hist.train_loss.append(value)
        if record:
            with torch.no_grad():
                for k, fn in record.items():
                    hist.records[k].append(float(fn(model)))
        if callback is not None:
            callback(step, model)

    bar = None
    if progress_enabled(steps, progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="training", leave=False)
    batches = minibatch_indices(n, batch_size, g) if batch_size is not None else None
    try:
        for step in range(steps):
            if batches is None:
                xb, yb = X, y
            else:
                idx = next(batches).to(X.device)
                xb, yb = X[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            current_step = step
            value = evaluate(xb, yb)
            if step % every == 0:
                current = float(value.detach())  # one host sync per record, not per step
                log(step, current if batch_size is None or not full_loss else loss_on_data())
                if not math.isfinite(current):
                    hist.diverged = True
                    break
                if stop is not None and stop(hist):
                    break
            value.backward()
            if schedule is not None:
                factor = float(schedule(step))
                for group, base in zip(opt.param_groups, base_lrs, strict=True):
                    group["lr"] = base * factor
            opt.step()
            if bar is not None:
                bar.update(1)
        else:
            log(steps, loss_on_data())
    finally:
        if bar is not None:
            bar.close()
    return hist
