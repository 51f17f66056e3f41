r"""Teachers with a planted direction: single-index regression and a noisy binary teacher.

A single-index target depends on the input only through one projection
:math:`\beta^\top x`, so whether a network has *learned a feature* can be read off its
first layer: the rows that align with :math:`\beta` (Ba et al. 2022; Bietti et al. 2022).
The binary teacher labels inputs by a fixed direction plus a bounded nonlinear term, with a
chosen fraction of labels flipped, as in the experiments on generalization measures.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ..core.params import Fraction, Int, NonNegative, validate_params
from ..core.validate import check_fraction, check_int, check_nonnegative, generator
from .inputs import finish

__all__ = ["SingleIndex", "single_index", "BinaryTeacher", "binary_teacher"]


class SingleIndex(NamedTuple):
    """Single-index regression data: inputs ``X (n, d)``, targets ``y (n,)``, unit direction ``beta (d,)``.

    Examples
    --------
    >>> X, y, beta = single_index(3, 2, seed=0)
    >>> tuple(X.shape), tuple(y.shape), tuple(beta.shape)
    ((3, 2), (3,), (2,))
    """

    X: torch.Tensor
    y: torch.Tensor
    beta: torch.Tensor


@validate_params({"n": Int(1), "dim": Int(1), "noise": NonNegative()})
def single_index(
    n: int,
    dim: int,
    *,
    offset: float = 0.4,
    noise: float = 0.0,
    seed: int | torch.Generator | None = 0,
    teacher_seed: int = 12345,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> SingleIndex:
    r"""Gaussian inputs labelled by a ReLU of one hidden direction.

    .. math:: x \sim \mathcal{N}(0, I_d), \qquad
              y = \mathrm{relu}(\beta^\top x) - c + \sigma\,\varepsilon,
              \qquad \|\beta\| = 1,

    with :math:`\beta` uniform on the sphere, drawn from ``teacher_seed`` alone (so a training
    and a test set drawn with different ``seed`` share it). The default offset
    :math:`c = 0.4 \approx 1/\sqrt{2\pi} = \mathbb{E}\,\mathrm{relu}(g)` nearly centres the target.

    Parameters
    ----------
    n, dim : int
        Sample size and input dimension (both ``>= 1``).
    offset : float
        The constant :math:`c` subtracted from the ReLU.
    noise : float
        Standard deviation :math:`\sigma \ge 0` of the label noise.
    seed : int or torch.Generator
        Seed of the inputs and the noise.
    teacher_seed : int
        Seed of the direction :math:`\beta`.

    Returns
    -------
    SingleIndex
        ``(X, y, beta)`` of shapes ``(n, dim)``, ``(n,)``, ``(dim,)``.

    Raises
    ------
    ValueError
        If ``n`` or ``dim`` is below 1, ``noise`` is negative or a number is not finite.

    References
    ----------
    Ba, Erdogdu, Suzuki, Wang, Wu and Yang (2022), High-dimensional asymptotics of feature
    learning: how one gradient step improves the representation, NeurIPS.

    Examples
    --------
    >>> data = single_index(4000, 5, seed=0)
    >>> data.X.shape, round(float(data.beta.norm()), 6), abs(float(data.y.mean())) < 0.05
    (torch.Size([4000, 5]), 1.0, True)
    """
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    noise = check_nonnegative(noise, "noise")
    offset = float(offset)
    if not math.isfinite(offset):
        raise ValueError(f"offset must be finite, got {offset}")
    beta = torch.randn(dim, generator=generator(teacher_seed), dtype=torch.float64)
    beta = beta / beta.norm()
    g = generator(seed)
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    y = torch.relu(x @ beta) - offset + noise * torch.randn(n, generator=g, dtype=torch.float64)
    return SingleIndex(
        finish(x, dtype, device), finish(y, dtype, device), finish(beta, dtype, device)
    )


class BinaryTeacher(NamedTuple):
    """Binary data: inputs ``X (n, d)``, observed labels ``y (n,)`` in {0, 1}, clean labels ``clean (n,)``.

    Examples
    --------
    >>> X, y, clean = binary_teacher(4, 3, seed=0)
    >>> bool((y == clean).all()), y.dtype
    (True, torch.int64)
    """

    X: torch.Tensor
    y: torch.Tensor
    clean: torch.Tensor


@validate_params({"n": Int(1), "dim": Int(1), "label_noise": Fraction(), "wiggle": NonNegative()})
def binary_teacher(
    n: int,
    dim: int,
    *,
    label_noise: float = 0.0,
    wiggle: float = 0.5,
    seed: int | torch.Generator | None = 0,
    teacher_seed: int = 12345,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> BinaryTeacher:
    r"""Gaussian inputs labelled by a fixed direction plus a bounded wiggle, some labels flipped.

    .. math:: x \sim \mathcal{N}(0, I_d),\qquad
              y^\star = \mathbf{1}\big[w_\star^\top x + a \sin(3 x_1) > 0\big],\qquad
              y = y^\star \oplus \xi,\quad \xi \sim \mathrm{Bernoulli}(p),

    with :math:`\|w_\star\| = 1` drawn from ``teacher_seed``, :math:`a` = ``wiggle`` and
    :math:`p` = ``label_noise`` (each label flipped independently with probability
    :math:`p`; :math:`p = 1/2` gives labels independent of the inputs).

    Parameters
    ----------
    n, dim : int
        Sample size and input dimension (both ``>= 1``).
    label_noise : float
        Flip probability :math:`p \in [0, 1]`.
    wiggle : float
        Amplitude :math:`a \ge 0` of the nonlinear term.
    seed : int or torch.Generator
        Seed of the inputs and the flips.
    teacher_seed : int
        Seed of :math:`w_\star`.

    Returns
    -------
    BinaryTeacher
        ``(X, y, clean)``: inputs ``(n, dim)``, observed and clean labels ``(n,)`` as
        integers (``torch.long``), ready for ``loss="cross_entropy"``.

    Raises
    ------
    ValueError
        If a size is below 1 or ``label_noise`` is outside ``[0, 1]``.

    References
    ----------
    Zhang, Bengio, Hardt, Recht and Vinyals (2017), Understanding deep learning requires
    rethinking generalization, ICLR (labels flipped at random).

    Examples
    --------
    >>> d = binary_teacher(1000, 5, label_noise=0.2, seed=0)
    >>> d.X.shape, round(float((d.y != d.clean).double().mean()), 1)
    (torch.Size([1000, 5]), 0.2)
    """
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    p = check_fraction(label_noise, "label_noise")
    wiggle = check_nonnegative(wiggle, "wiggle")
    w = torch.randn(dim, generator=generator(teacher_seed), dtype=torch.float64)
    w = w / w.norm()
    g = generator(seed)
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    clean = (x @ w + wiggle * torch.sin(3 * x[:, 0]) > 0).long()
    flip = (torch.rand(n, generator=g, dtype=torch.float64) < p).long()
    y = (clean + flip) % 2
    return BinaryTeacher(finish(x, dtype, device), y.to(device), clean.to(device))
