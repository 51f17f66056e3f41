r"""The normalized margin of linear classifiers in any :math:`\ell_p` norm."""

from __future__ import annotations

import math

import torch

from ..core.params import Matrix, Tensor, validate_params
from ..core.validate import as_matrix, as_tensor

__all__ = ["margin"]


@validate_params(
    {"w": Tensor((1, 2), "(d,) or (T, d), d the number of columns of Z"), "Z": Matrix()}
)
def margin(w: torch.Tensor, Z: torch.Tensor, norm: float = 2.0) -> torch.Tensor:
    r"""The normalized margin :math:`\min_i z_i^\top w / \|w\|_p` of one or many classifiers.

    With rows :math:`z_i = y_i x_i`, this is the quantity the max-margin programs of
    :mod:`dlt.implicit_bias` maximize: the ratio of ``margin(w, Z, p)`` to the
    :math:`\ell_p` max margin is 1 exactly at the max-margin direction and below 1 elsewhere.

    Parameters
    ----------
    w : Tensor of shape (d,) or (T, d)
        One classifier, or a trajectory of ``T`` of them (rows).
    Z : Tensor of shape (n, d)
        Rows :math:`z_i = y_i x_i`.
    norm : float
        :math:`p \ge 1`, ``float("inf")`` for :math:`\ell_\infty`.

    Returns
    -------
    Tensor of shape () or (T,), in the promoted dtype of ``w`` and ``Z``. A zero ``w``
    gives ``nan`` (its direction is undefined). Invariant to the scale of ``w``, which is
    divided by its largest entry first, so a float32 ``w`` of size 1e-30 or 1e30 is fine.

    Raises
    ------
    ValueError
        If shapes disagree, inputs are not finite, or ``norm < 1``.

    References
    ----------
    Gunasekar, Lee, Soudry and Srebro (2018), Characterizing implicit bias in terms of
    optimization geometry, ICML.

    Examples
    --------
    >>> Z = torch.tensor([[1.0, 1.0], [1.0, -0.5]])
    >>> float(margin(torch.tensor([2.0, 0.0]), Z)), float(margin(torch.tensor([1.0, 1.0]), Z, 1))
    (1.0, 0.25)
    """
    z = as_matrix(Z, "Z")
    v = as_tensor(w, "w", ndim=(1, 2), shape=f"(d,) or (T, d) with d = {z.shape[1]}")
    if v.shape[-1] != z.shape[1]:
        raise ValueError(f"w must have {z.shape[1]} columns to match Z, got shape {tuple(v.shape)}")
    if isinstance(norm, bool) or not isinstance(norm, int | float):
        raise TypeError(f"norm must be a number >= 1 or inf, got {norm!r}")
    p = float(norm)
    if math.isnan(p) or p < 1:
        raise ValueError(f"norm must be >= 1 (or inf), got {norm}")
    dtype = torch.promote_types(v.dtype, z.dtype)
    v, z = v.to(dtype), z.to(device=v.device, dtype=dtype)
    # The margin is invariant to the scale of w: divide each w by its largest entry first, so
    # that the norm of a tiny (or huge) float32 w neither underflows to 0 nor overflows to inf.
    v = v / v.abs().amax(-1, keepdim=True)
    size = torch.linalg.vector_norm(v, ord=p, dim=-1)
    return (v @ z.T).min(-1).values / size
