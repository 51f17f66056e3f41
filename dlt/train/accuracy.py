r"""Training with accuracy curves: :func:`dlt.train.fit` plus the train and test accuracy of each member.

Grokking is read off two curves, train and test accuracy against steps. :func:`dlt.grokking.fit_accuracy`
trains a classifier through :func:`dlt.train.fit` (AdamW, full batch) and records both
curves for every member of a model whose outputs are ``(n_models, n, classes)``, optionally
stopping once every member reaches a test accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..core.params import Fraction, Int, Model, NonNegative, Positive, validate_params
from ..core.validate import check_fraction, check_int, check_nonnegative, check_positive
from .loop import History, fit

__all__ = ["AccuracyCurves", "member_accuracy", "fit_accuracy"]


def member_accuracy(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Accuracy of each member: :math:`\frac1n \sum_i \mathbb 1[\arg\max_c f_m(x_i)_c = y_i]`.

    Parameters
    ----------
    outputs : Tensor of shape (n_models, n, classes) or (n, classes)
    y : Tensor of shape (n,)
        Integer labels.

    Returns
    -------
    Tensor of shape (n_models,) or ()
        float64 accuracies in [0, 1].

    Raises
    ------
    ValueError
        If the shapes disagree or ``outputs`` is not finite.

    Examples
    --------
    >>> out = torch.tensor([[[2.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> member_accuracy(out, torch.tensor([0, 1])).tolist()
    [1.0, 0.5]
    """
    if not isinstance(outputs, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("outputs and y must be tensors")
    if outputs.ndim not in (2, 3):
        raise ValueError(
            f"outputs must have shape (n_models, n, classes) or (n, classes), got {tuple(outputs.shape)}"
        )
    if y.ndim != 1 or y.shape[0] != outputs.shape[-2]:
        raise ValueError(f"y must have shape ({outputs.shape[-2]},), got {tuple(y.shape)}")
    if outputs.is_floating_point() and not bool(torch.isfinite(outputs).all()):
        raise ValueError("outputs must be finite")
    return (outputs.argmax(-1) == y.long()).to(torch.float64).mean(-1)


@dataclass
class AccuracyCurves:
    """What :func:`fit_accuracy` recorded.

    ``step`` (T,) the recorded steps; ``train`` and ``test`` (T, n_models) the accuracies;
    ``history`` the :class:`dlt.train.History` of :func:`dlt.train.fit` (training loss at the same steps).

    Examples
    --------
    >>> c = AccuracyCurves(torch.tensor([0, 10]), torch.zeros(2, 1), torch.zeros(2, 1), History())
    >>> c.n_models
    1
    """

    step: torch.Tensor
    train: torch.Tensor
    test: torch.Tensor
    history: History

    @property
    def n_models(self) -> int:
        """Number of models, the members of the ensemble (columns of the curves)."""
        return int(self.train.shape[1])


@validate_params(
    {
        "model": Model(),
        "lr": Positive(),
        "weight_decay": NonNegative(),
        "steps": Int(1),
        "record_every": Int(1),
        "stop_at": Fraction(low_open=True),
    }
)
def fit_accuracy(
    model: nn.Module,
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    lr: float = 1e-2,
    weight_decay: float = 1.0,
    betas: tuple[float, float] = (0.9, 0.98),
    steps: int = 1000,
    record_every: int = 10,
    stop_at: float | None = None,
    stop_after: int = 0,
    callback: Callable[[int, nn.Module], None] | None = None,
) -> AccuracyCurves:
    r"""Train a classifier full-batch with AdamW and record train and test accuracy per member.

    Minimizes the sum over members of each member's mean cross-entropy (the
    ``"ensemble_cross_entropy"`` loss of :func:`dlt.train.fit`; since AdamW acts coordinate-wise,
    each member follows exactly its own AdamW trajectory) with decoupled weight decay
    :math:`\theta \leftarrow \theta - \eta\lambda\theta` (Loshchilov and Hutter 2019).

    Parameters
    ----------
    model : nn.Module
        Maps ``X`` (n, ...) to logits (n_models, n, classes).
    X_train, y_train, X_test, y_test : Tensor
        Inputs (n, ...) and integer labels (n,) of both sets.
    lr : float
        Learning rate :math:`\eta > 0`.
    weight_decay : float
        :math:`\lambda \ge 0`.
    betas : (float, float)
        AdamW's moment coefficients, each in [0, 1).
    steps : int
        Maximum number of steps (>= 1).
    record_every : int
        Record both accuracies every this many steps (>= 1).
    stop_at : float, optional
        Stop at the first record where every member's test accuracy is at least this.
    stop_after : int
        With ``stop_at``: keep training ``stop_after`` steps (>= 0) past the first record
        at which every member's test accuracy is at least ``stop_at`` (then stop at the
        first record at least that far on), so that every member trains at least this long
        past its own first crossing.
    callback : callable ``(step, model)``, optional
        Called at every record, after both accuracies are recorded (for instance to keep a
        copy of some weights along training).

    Returns
    -------
    AccuracyCurves

    Raises
    ------
    ValueError
        If an argument is out of range, or the labels do not match the inputs.

    References
    ----------
    Power et al. (2022), Grokking, arXiv:2201.02177 (the protocol: AdamW, curves vs steps).

    Examples
    --------
    >>> class Twin(nn.Module):  # two linear classifiers side by side
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = nn.Parameter(torch.zeros(2, 2, 2))
    ...     def forward(self, x):
    ...         return x @ self.w
    >>> X = torch.eye(2)
    >>> y = torch.tensor([0, 1])
    >>> c = fit_accuracy(Twin(), X, y, X, y, lr=0.1, steps=20, record_every=10)
    >>> c.step.tolist(), c.test[-1].tolist()
    ([0, 10, 20], [1.0, 1.0])
    """
    lr = check_positive(lr, "lr")
    weight_decay = check_nonnegative(weight_decay, "weight_decay")
    b1, b2 = (check_fraction(b, "betas", high_open=True) for b in betas)
    steps = check_int(steps, "steps", minimum=1)
    record_every = check_int(record_every, "record_every", minimum=1)
    if stop_at is not None:
        stop_at = check_fraction(stop_at, "stop_at", low_open=True)
    stop_after = check_int(stop_after, "stop_after", minimum=0)
    if stop_after and stop_at is None:
        raise ValueError("stop_after needs stop_at (the accuracy after which to count)")
    for name, X, y in (("y_train", X_train, y_train), ("y_test", X_test, y_test)):
        if not isinstance(y, torch.Tensor) or y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"{name} must be integer labels of shape ({X.shape[0]},)")
    record: dict[str, list[torch.Tensor]] = {"step": [], "train": [], "test": []}

    def on_record(step: int, net: nn.Module) -> None:
        with torch.no_grad():
            record["step"].append(torch.tensor(step))
            record["train"].append(member_accuracy(net(X_train), y_train).reshape(-1))
            record["test"].append(member_accuracy(net(X_test), y_test).reshape(-1))
        if callback is not None:
            callback(step, net)

    all_reached_at: list[int] = []  # the first record at which every member met stop_at

    def stop(_: History) -> bool:
        if stop_at is None:
            return False
        if not all_reached_at and bool((record["test"][-1] >= stop_at).all()):
            all_reached_at.append(int(record["step"][-1]))
        return bool(all_reached_at) and int(record["step"][-1]) >= all_reached_at[0] + stop_after

    hist = fit(
        model,
        X_train,
        y_train,
        loss="ensemble_cross_entropy",
        optimizer=lambda ps: torch.optim.AdamW(
            ps, lr=lr, betas=(b1, b2), weight_decay=weight_decay
        ),
        steps=steps,
        record_every=record_every,
        callback=on_record,
        stop=stop,
    )
    return AccuracyCurves(
        torch.stack(record["step"]),
        torch.stack(record["train"]),
        torch.stack(record["test"]),
        hist,
    )
