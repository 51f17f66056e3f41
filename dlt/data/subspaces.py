r"""Two classes of unit-norm tokens on low-dimensional subspaces at a chosen principal angle.

The data of the rate-reduction experiments (Yu et al. 2020): each class spans a
``sub_dim``-dimensional subspace of :math:`\mathbb R^{dim}`, and every principal angle
between the two subspaces equals ``angle``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ..core.params import Int, NonNegative, validate_params
from ..core.validate import check_int, check_nonnegative, generator

__all__ = ["SubspacePair", "subspace_pair"]


class SubspacePair(NamedTuple):
    """Tokens ``Z`` (rows), their class ``labels`` (0 or 1), and the orthonormal ``bases``
    of the two subspaces, shape ``(2, dim, sub_dim)``.

    Examples
    --------
    >>> subspace_pair(3, 4, 1, 0.0, seed=0).bases.shape
    torch.Size([2, 4, 1])
    """

    Z: torch.Tensor
    labels: torch.Tensor
    bases: torch.Tensor


@validate_params({"n": Int(1), "dim": Int(2), "sub_dim": Int(1), "angle": NonNegative()})
def subspace_pair(
    n: int,
    dim: int,
    sub_dim: int,
    angle: float,
    *,
    seed: int | torch.Generator | None = 0,
    dtype: torch.dtype | None = None,
) -> SubspacePair:
    r"""``n`` unit-norm tokens on each of two ``sub_dim``-dimensional subspaces whose principal
    angles all equal ``angle`` (radians).

    With a random rotation :math:`Q` of :math:`\mathbb R^{dim}` and :math:`e_i` the standard
    basis, the first subspace is spanned by :math:`Qe_1, \dots, Qe_r` and the second by
    :math:`Q(\cos\theta\, e_i + \sin\theta\, e_{r+i})`, :math:`i = 1, \dots, r`
    (:math:`r` = ``sub_dim``); a token is :math:`Uc/\|c\|` with :math:`c \sim \mathcal N(0,
    I_r)`. At ``angle = 0`` both classes lie on the same subspace.

    Parameters
    ----------
    n : int
        Tokens per class (>= 1).
    dim : int
        Ambient dimension, at least ``2 * sub_dim``.
    sub_dim : int
        Dimension of each subspace (>= 1).
    angle : float
        Principal angle :math:`\theta \in [0, \pi/2]`.
    seed : int or torch.Generator
    dtype : torch.dtype, optional

    Returns
    -------
    SubspacePair
        ``Z`` of shape ``(2n, dim)`` (class 0 first), ``labels`` of shape ``(2n,)``,
        ``bases`` of shape ``(2, dim, sub_dim)``.

    Raises
    ------
    ValueError
        If ``dim < 2 * sub_dim`` or ``angle > pi/2``.

    Examples
    --------
    >>> d = subspace_pair(5, 6, 2, math.pi / 3, seed=0, dtype=torch.float64)
    >>> cos = torch.linalg.svdvals(d.bases[0].T @ d.bases[1])
    >>> [round(float(c), 6) for c in cos], d.Z.shape
    ([0.5, 0.5], torch.Size([10, 6]))
    """
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=2)
    r = check_int(sub_dim, "sub_dim", minimum=1)
    theta = check_nonnegative(angle, "angle")
    if dim < 2 * r:
        raise ValueError(f"dim must be >= 2 * sub_dim = {2 * r}, got {dim}")
    if theta > math.pi / 2 + 1e-6:
        raise ValueError(f"angle must be in [0, pi/2], got {theta}")
    theta = min(theta, math.pi / 2)  # pi/2 rounded up in float32
    g = generator(seed)
    q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=g, dtype=torch.float64))
    eye = torch.eye(dim, dtype=torch.float64)
    u0 = q @ eye[:, :r]
    u1 = q @ (math.cos(theta) * eye[:, :r] + math.sin(theta) * eye[:, r : 2 * r])
    bases = torch.stack([u0, u1])
    c = torch.randn(2, n, r, generator=g, dtype=torch.float64)
    c = c / c.norm(dim=-1, keepdim=True)
    z = torch.einsum("knr,kdr->knd", c, bases).reshape(2 * n, dim)
    labels = torch.arange(2).repeat_interleave(n)
    dtype = dtype or torch.get_default_dtype()
    return SubspacePair(z.to(dtype), labels, bases.to(dtype))
