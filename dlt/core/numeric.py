"""Small numerical comparisons every kind and every chapter uses the same way."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .params import Choice, validate_params
from .validate import _finite_float, as_tensor, check_choice, check_positive

__all__ = ["bisect_threshold", "relative_error"]

_NORMS = ("fro", "max", "elementwise")


def _float64(x: object) -> object:
    """Python numbers and lists straight to float64: via torch's default float32 they would
    lose their last digits (two floats 1e-16 apart would compare equal)."""
    if isinstance(x, torch.Tensor):
        return x
    try:
        return torch.as_tensor(x, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return x  # as_tensor names the argument in its error


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
    a = as_tensor(_float64(estimate), "estimate", ndim=dims, shape="(...)", dtype=torch.float64)
    b = as_tensor(_float64(reference), "reference", ndim=dims, shape="(...)", dtype=torch.float64)
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


def bisect_threshold(
    fails: Callable[[float], bool], lo: float, hi: float, *, tol: float = 0.02
) -> float:
    r"""The point where a monotone yes/no outcome switches, by bisection.

    For an outcome that is false below a threshold :math:`c^\star` and true above it (a
    training run that diverges at step sizes above :math:`c^\star`), and a bracket with
    ``fails(lo)`` false and ``fails(hi)`` true, halve the bracket until it is shorter than
    ``tol`` and return its midpoint, within ``tol / 2`` of :math:`c^\star`. ``fails`` is called
    :math:`\lceil\log_2((hi - lo)/tol)\rceil` times; the ends are trusted, not evaluated.

    Parameters
    ----------
    fails : callable float -> bool
        The outcome at a point, e.g. "training at this step size diverged".
    lo, hi : float
        A bracket, ``lo < hi``: the last point known to pass and the first known to fail.
    tol : float
        Width of the final bracket (> 0).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``lo >= hi``, a number is not finite, or ``tol`` is not positive.

    Examples
    --------
    >>> round(bisect_threshold(lambda c: c * c > 2, 1.0, 2.0, tol=1e-6), 5)  # sqrt(2)
    1.41421
    """
    lo, hi = _finite_float(lo, "lo"), _finite_float(hi, "hi")
    tol = check_positive(tol, "tol")
    if not lo < hi:
        raise ValueError(f"lo must be below hi, got lo = {lo} and hi = {hi}")
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if fails(mid):
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)
