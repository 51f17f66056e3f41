r"""Linearly separable classification data whose :math:`\ell_2` and :math:`\ell_\infty` max margins differ."""

from __future__ import annotations

import torch

from ..core.params import Int, validate_params
from ..core.validate import check_int, generator

__all__ = ["separable_classes"]


@validate_params({"n": Int(1), "dim": Int(2)})
def separable_classes(
    n: int, dim: int, *, seed: int | torch.Generator | None = 0, dtype: torch.dtype | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Labels :math:`y_i = \pm 1` and inputs :math:`x_i = y_i z_i`, separable through the origin.

    The signed rows :math:`z_i = y_i x_i` have :math:`z_{i1} = 1 + E_i`, :math:`E_i \sim
    \text{Exp}(\text{mean } 1/2)`, and :math:`z_{ij} = 0.15 + 0.2\,g_{ij}` for :math:`j \ge 2`,
    :math:`g_{ij} \sim N(0, 1)`. Every row has a positive first coordinate (so :math:`e_1`
    separates the classes), and the small shared offset of the other coordinates makes the
    :math:`\ell_\infty` max-margin direction use them all while the :math:`\ell_2` one leans on
    the first: the two directions differ (cosine about 0.5 to 0.7 at ``n = 40``, ``dim = 10``).

    Parameters
    ----------
    n : int
        Samples (>= 1).
    dim : int
        Dimension (>= 2).
    seed : int or torch.Generator
    dtype : torch.dtype, optional

    Returns
    -------
    X : Tensor of shape (n, dim)
    y : Tensor of shape (n,), entries :math:`\pm 1`

    Raises
    ------
    ValueError
        If ``n < 1`` or ``dim < 2``.

    References
    ----------
    The construction follows the experiment of Zhang, Zou and Cao (2024), The implicit bias
    of Adam on separable data, NeurIPS, in spirit: a data set on which GD and Adam must differ.

    Examples
    --------
    >>> X, y = separable_classes(5, 3, seed=0)
    >>> bool(((y[:, None] * X)[:, 0] >= 1).all()), X.shape
    (True, torch.Size([5, 3]))
    """
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=2)
    g = generator(seed)
    dtype = dtype or torch.get_default_dtype()
    z = 0.15 + 0.2 * torch.randn(n, dim, generator=g, dtype=dtype)
    z[:, 0] = 1 + torch.empty(n, dtype=dtype).exponential_(2.0, generator=g)
    y = torch.where(torch.rand(n, generator=g, dtype=dtype) < 0.5, -1.0, 1.0).to(dtype)
    return y[:, None] * z, y
