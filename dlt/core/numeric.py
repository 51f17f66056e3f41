"""Small numerical comparisons every kind and every chapter uses the same way."""

from __future__ import annotations

import torch

from .params import Choice, validate_params
from .validate import as_tensor, check_choice

__all__ = ["relative_error"]

_NORMS = ("fro", "max", "elementwise")


@validate_params({"norm": Choice(tuple(_NORMS))})
def relative_error(estimate: object, reference: object, *, norm: str = "fro") -> float:
    r"""The relative error of ``estimate`` against ``reference``, in one of three norms.

    .. math::

        \text{fro:}\ \frac{\lVert a - b\rVert_F}{\lVert b\rVert_F}, \qquad
        \text{max:}\ \frac{\max_i |a_i - b_i|}{\max_i |b_i|}, \qquad
        \text{elementwise:}\ \max_i \frac{|a_i - b_i|}{|b_i|}.

    The Frobenius form equals the ratio of root-mean-square values,
    :math:`\mathrm{RMS}(a - b) / \mathrm{RMS}(b)`, for tensors of the same shape.

    Parameters
    ----------
    estimate, reference : Tensor (or array-like) of the same shape
        Compared in float64.
    norm : {"fro", "max", "elementwise"}

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, an input is not finite, the reference is zero (``fro``,
        ``max``) or has a zero entry (``elementwise``), or ``norm`` is unknown.

    Examples
    --------
    >>> relative_error(torch.tensor([1.1, 2.0]), torch.tensor([1.0, 2.0]))  # 0.1 / sqrt(5)
    0.0447...
    >>> relative_error([1.1, 2.0], [1.0, 2.0], norm="elementwise")
    0.1000...
    """
    norm = check_choice(norm, "norm", _NORMS)
    dims = tuple(range(9))
    a = as_tensor(estimate, "estimate", ndim=dims, shape="(...)", dtype=torch.float64)
    b = as_tensor(reference, "reference", ndim=dims, shape="(...)", dtype=torch.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"estimate and reference must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    diff = (a - b).abs()
    if norm == "elementwise":
        if bool((b == 0).any()):
            raise ValueError(
                "reference has a zero entry: the elementwise relative error is undefined"
            )
        return float((diff / b.abs()).max())
    scale = b.norm() if norm == "fro" else b.abs().max()
    if float(scale) == 0.0:
        raise ValueError("reference is zero: its relative error is undefined")
    top = diff.norm() if norm == "fro" else diff.max()
    return float(top / scale)
