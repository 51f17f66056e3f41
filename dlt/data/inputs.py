"""Inputs and labelled data with known ground truth: spheres, circles, teachers, mixtures.

Every generator takes the sample size ``n``, the shapes it needs, and a ``seed`` (an
``int`` or a ``torch.Generator``). Data are always drawn on the CPU in float64 and then
moved to ``device``, so a chapter sees the same data on a CPU and on a GPU. Label noise
is always a standard deviation named ``noise``.
"""

from __future__ import annotations

import math

import torch

from ..core.params import Int, NonNegative, Positive, Tensor, validate_params
from ..core.validate import check_finite, check_int, check_nonnegative, check_positive, generator

__all__ = ["sphere", "circle", "teacher_regression", "gaussian_mixture"]  # finish: a shared helper


def finish(
    t: torch.Tensor, dtype: torch.dtype | None, device: torch.device | str | None
) -> torch.Tensor:
    """Cast generated data to ``dtype`` (default: torch's default dtype) and move it to ``device``."""
    return t.to(dtype=dtype or torch.get_default_dtype(), device=device)


@validate_params({"n": Int(1), "dim": Int(1), "radius": Positive()})
def sphere(
    n: int,
    dim: int,
    *,
    radius: float = 1.0,
    seed: int | torch.Generator | None = 0,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    r"""Points drawn uniformly on the sphere :math:`\{x \in \mathbb{R}^d : \|x\| = r\}`.

    A standard Gaussian vector divided by its norm is uniform on the unit sphere.

    Parameters
    ----------
    n : int
        Number of points, ``n >= 1``.
    dim : int
        Ambient dimension ``d >= 1``.
    radius : float
        Radius ``r > 0``.
    seed : int or torch.Generator

    Returns
    -------
    Tensor of shape ``(n, dim)``.

    Examples
    --------
    >>> x = sphere(5, 3, seed=0)
    >>> torch.allclose(x.norm(dim=1), torch.ones(5))
    True
    """
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    radius = check_positive(radius, "radius")
    g = generator(seed)
    z = torch.randn(n, dim, generator=g, dtype=torch.float64)
    z = radius * z / z.norm(dim=1, keepdim=True)
    return finish(z, dtype, device)


@validate_params({"angles": Tensor(tuple(range(8)), "(...)")})
def circle(
    angles: torch.Tensor | int,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    r"""Points :math:`(\cos t, \sin t)` on the unit circle.

    Inputs on a circle make a kernel a function of one angle, which is how the book
    plots kernels and the functions a network draws.

    Parameters
    ----------
    angles : Tensor of shape (n,) or int
        The angles ``t`` in radians, or a number ``n`` of angles evenly spaced in
        :math:`[0, 2\pi)`.

    Returns
    -------
    Tensor of shape ``(n, 2)``.

    Examples
    --------
    >>> circle(4).round(decimals=4) + 0.0  # + 0.0 turns -0.0 into 0.0
    tensor([[ 1.,  0.],
            [ 0.,  1.],
            [-1.,  0.],
            [ 0., -1.]])
    """
    if isinstance(angles, int) and not isinstance(angles, bool):
        n = check_int(angles, "angles", minimum=1)
        angles = torch.arange(n, dtype=torch.float64) * (2 * math.pi / n)
    angles = check_finite(torch.as_tensor(angles, dtype=torch.float64), "angles")
    if angles.ndim != 1:
        raise ValueError(f"angles must have shape (n,), got shape {tuple(angles.shape)}")
    return finish(torch.stack([angles.cos(), angles.sin()], dim=1), dtype, device)


@validate_params({"n": Int(1), "dim": Int(1), "teacher_width": Int(1), "noise": NonNegative()})
def teacher_regression(
    n: int,
    dim: int,
    *,
    teacher_width: int = 32,
    noise: float = 0.0,
    on_sphere: bool = True,
    seed: int | torch.Generator | None = 0,
    teacher_seed: int = 12345,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Regression data labelled by a fixed random two-layer ReLU teacher.

    .. math:: y = f^\star(x) + \sigma\,\varepsilon, \qquad
              f^\star(x) = c \sum_{j=1}^m a_j\,
              \mathrm{relu}(w_j^\top x / \|x\|),\quad a_j, w_j \sim \mathcal{N}(0, 1)

    The teacher is drawn from ``teacher_seed`` alone, so the data of two calls with
    different ``seed`` (say a training and a test set) share one ground truth. The
    constant :math:`c` makes :math:`\mathbb{E}\,f^\star(x)^2 = 1` (estimated on 4096
    reference inputs drawn with the teacher), so a test loss reads as a fraction of the
    signal.

    Parameters
    ----------
    n, dim : int
        Sample size and input dimension (both ``>= 1``).
    teacher_width : int
        Hidden width ``m`` of the teacher.
    noise : float
        Standard deviation ``σ >= 0`` of the label noise.
    on_sphere : bool
        Inputs uniform on the unit sphere (default) or standard Gaussian.
    seed : int or torch.Generator
        Seed of the inputs and the noise.
    teacher_seed : int
        Seed of the teacher's weights.

    Returns
    -------
    X : Tensor of shape ``(n, dim)``
    y : Tensor of shape ``(n,)``

    Examples
    --------
    >>> X, y = teacher_regression(2000, 5, seed=0)
    >>> X.shape, round(float((y**2).mean()), 1)  # the teacher has unit mean square
    (torch.Size([2000, 5]), 1.0)
    """
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    teacher_width = check_int(teacher_width, "teacher_width", minimum=1)
    noise = check_nonnegative(noise, "noise")
    gt = generator(teacher_seed)
    w = torch.randn(teacher_width, dim, generator=gt, dtype=torch.float64)
    a = torch.randn(teacher_width, generator=gt, dtype=torch.float64)
    g = generator(seed)
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    if on_sphere:
        x = x / x.norm(dim=1, keepdim=True)

    def teacher(z: torch.Tensor) -> torch.Tensor:
        u = z / z.norm(dim=1, keepdim=True)
        return torch.relu(u @ w.T) @ a

    # Normalize the teacher to unit mean square on a reference sample of its own.
    ref = torch.randn(4096, dim, generator=gt, dtype=torch.float64)
    y = teacher(x) / teacher(ref).pow(2).mean().sqrt()
    y = y + noise * torch.randn(n, generator=g, dtype=torch.float64)
    return finish(x, dtype, device), finish(y, dtype, device)


@validate_params({"n": Int(1), "dim": Int(1), "separation": NonNegative(), "std": Positive()})
def gaussian_mixture(
    n: int,
    dim: int,
    *,
    separation: float = 2.0,
    std: float = 1.0,
    seed: int | torch.Generator | None = 0,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""A balanced two-class Gaussian mixture with labels :math:`y \in \{-1, +1\}`.

    .. math:: x = y\,\mu + \sigma\,z, \qquad \mu = \tfrac{s}{2} e_1,\quad z \sim \mathcal{N}(0, I_d)

    The class means are ``separation`` apart; the Bayes classifier is
    :math:`\mathrm{sign}(x_1)` with error :math:`\Phi(-s / (2\sigma))`.

    Parameters
    ----------
    n, dim : int
        Sample size and dimension (both ``>= 1``).
    separation : float
        Distance ``s >= 0`` between the class means.
    std : float
        Within-class standard deviation ``σ > 0``.

    Returns
    -------
    X : Tensor of shape ``(n, dim)``
    y : Tensor of shape ``(n,)`` with values ``±1`` (use ``(y > 0).long()`` for class indices).

    Examples
    --------
    >>> X, y = gaussian_mixture(1000, 3, separation=4.0, seed=0)
    >>> X.shape, float((torch.sign(X[:, 0]) == y).float().mean()) > 0.95  # Bayes error Phi(-2)
    (torch.Size([1000, 3]), True)
    """
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    separation = check_nonnegative(separation, "separation")
    std = check_positive(std, "std")
    g = generator(seed)
    y = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0).to(torch.float64)
    x = std * torch.randn(n, dim, generator=g, dtype=torch.float64)
    x[:, 0] += y * separation / 2
    return finish(x, dtype, device), finish(y, dtype, device)
