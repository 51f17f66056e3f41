"""A multi-class teacher: the argmax of a random tanh network (the lottery-ticket chapter's data)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core.params import Int, Positive, validate_params
from ..core.validate import check_int, check_positive, generator

__all__ = ["TeacherClasses", "tanh_teacher_classes"]


@dataclass(frozen=True)
class TeacherClasses:
    """Train and test sets of a classification teacher: inputs, integer labels, class count.

    Examples
    --------
    >>> d = tanh_teacher_classes(10, 5, dim=4, n_classes=3)
    >>> d.X_train.shape, d.y_test.shape, d.n_classes
    (torch.Size([10, 4]), torch.Size([5]), 3)
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int


@validate_params(
    {
        "n_train": Int(1),
        "n_test": Int(1),
        "dim": Int(1),
        "n_classes": Int(2),
        "temperature": Positive(),
    }
)
def tanh_teacher_classes(
    n_train: int,
    n_test: int,
    *,
    dim: int = 32,
    n_classes: int = 5,
    temperature: float = 0.7,
    seed: int | torch.Generator | None = 1000,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> TeacherClasses:
    r"""Gaussian inputs labelled by the largest output of a random one-hidden-layer tanh network.

    .. math::

        x \sim \mathcal N(0, I_d), \qquad
        y = \arg\max_{c}\, \big(V \tanh(\tau\, U x)\big)_c ,

    with :math:`U \in \mathbb R^{d\times d}` of entries :math:`\mathcal N(0, 1/d)`,
    :math:`V \in \mathbb R^{C\times d}` of entries :math:`\mathcal N(0, 1)` and the
    temperature :math:`\tau`: a small :math:`\tau` makes the teacher nearly linear (easy), a
    large one makes its class boundaries curved (harder). ``U``, ``V``, the training inputs
    and the test inputs are drawn in that order from one generator, in float64.

    Parameters
    ----------
    n_train, n_test : int
        Sizes of the two sets (>= 1).
    dim : int
        Input dimension :math:`d` (>= 1), also the teacher's width.
    n_classes : int
        Number of classes :math:`C` (>= 2).
    temperature : float
        :math:`\tau > 0`.
    seed : int or torch.Generator
        Seed of the teacher and of both sets.
    dtype, device : optional
        Of the inputs; the labels are ``torch.long``.

    Returns
    -------
    TeacherClasses

    Raises
    ------
    ValueError
        If a size is below its minimum or the temperature is not positive.

    References
    ----------
    A synthetic stand-in for the small classification benchmarks of Frankle and Carbin (2019),
    The lottery ticket hypothesis, ICLR.

    Examples
    --------
    >>> d = tanh_teacher_classes(200, 100, seed=0)
    >>> sorted(set(d.y_train.tolist())) == list(range(5))
    True
    """
    n_train = check_int(n_train, "n_train", minimum=1)
    n_test = check_int(n_test, "n_test", minimum=1)
    d = check_int(dim, "dim", minimum=1)
    c = check_int(n_classes, "n_classes", minimum=2)
    tau = check_positive(temperature, "temperature")
    g = generator(seed)
    f64 = torch.float64
    U = torch.randn(d, d, generator=g, dtype=f64) / d**0.5
    V = torch.randn(c, d, generator=g, dtype=f64)
    X_tr = torch.randn(n_train, d, generator=g, dtype=f64)
    X_te = torch.randn(n_test, d, generator=g, dtype=f64)

    def label(x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(tau * x @ U.T).matmul(V.T).argmax(1).to(device)

    return TeacherClasses(
        X_tr.to(dtype=dtype, device=device),
        label(X_tr),
        X_te.to(dtype=dtype, device=device),
        label(X_te),
        c,
    )
