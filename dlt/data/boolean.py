r"""The Boolean cube :math:`\{-1, +1\}^d` and its parities, in the order the Walsh transform uses.

Row :math:`r = \sum_i b_i 2^i` of :func:`boolean_cube` is the point with
:math:`x_i = (-1)^{b_i}` (row 0 is all ones), and a subset :math:`S \subseteq \{0, \dots,
d - 1\}` is indexed by its bitmask :math:`\sum_{i \in S} 2^i`, so that
:math:`\chi_S(x_r) = (-1)^{|r \wedge S|}`: the matrix of all parities on all points is the
Sylvester-Hadamard matrix (O'Donnell 2014, *Analysis of Boolean Functions*, ch. 1).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from ..core.params import Int, Tensor, validate_params
from ..core.validate import as_tensor, check_int

__all__ = ["boolean_cube", "parity", "subset_index"]


@validate_params({"d": Int(1)})
def boolean_cube(
    d: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    r"""All :math:`2^d` points of :math:`\{-1, +1\}^d`.

    Row :math:`r` has :math:`x_i = (-1)^{\text{bit } i \text{ of } r}`.

    Parameters
    ----------
    d : int
        Dimension (1 to 24).
    dtype : torch.dtype, optional
    device : torch.device or str, optional

    Returns
    -------
    Tensor of shape (2^d, d)

    Examples
    --------
    >>> boolean_cube(2).tolist()
    [[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]]
    """
    d = check_int(d, "d", minimum=1)
    if d > 24:
        raise ValueError(f"d must be <= 24 (2^d rows are built), got {d}")
    r = torch.arange(2**d)
    bits = (r.unsqueeze(1) >> torch.arange(d)) & 1
    return (1 - 2 * bits).to(dtype or torch.get_default_dtype()).to(device)


def subset_index(subset: Iterable[int]) -> int:
    r"""The bitmask :math:`\sum_{i \in S} 2^i` of a subset of coordinates (its index in a vector of Walsh coefficients).

    Parameters
    ----------
    subset : iterable of int
        Distinct coordinates, each >= 0.

    Returns
    -------
    int

    Examples
    --------
    >>> subset_index([0, 2]), subset_index([])
    (5, 0)
    """
    items = [check_int(i, "subset", minimum=0) for i in subset]
    if len(set(items)) != len(items):
        raise ValueError(f"subset must not repeat a coordinate, got {items}")
    return sum(1 << i for i in items)


@validate_params({"x": Tensor(2, "(n, d)")})
def parity(x: torch.Tensor, subset: Iterable[int]) -> torch.Tensor:
    r"""The parity (Walsh character) :math:`\chi_S(x) = \prod_{i \in S} x_i` at the rows of ``x``.

    Parameters
    ----------
    x : Tensor of shape (n, d)
        Points of the cube (any reals: the product is taken as is).
    subset : iterable of int
        The coordinates of :math:`S`; the empty set gives the constant 1.

    Returns
    -------
    Tensor of shape (n,)

    Examples
    --------
    >>> parity(boolean_cube(2), [0, 1]).tolist()
    [1.0, -1.0, -1.0, 1.0]
    """
    x = as_tensor(x, "x", ndim=2, shape="(n, d)")
    idx = [check_int(i, "subset", minimum=0) for i in subset]
    if any(i >= x.shape[1] for i in idx):
        raise ValueError(f"subset must hold coordinates below d = {x.shape[1]}, got {idx}")
    if not idx:
        return torch.ones(x.shape[0], dtype=x.dtype, device=x.device)
    return x[:, idx].prod(1)
