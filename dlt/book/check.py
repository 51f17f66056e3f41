"""Executable claims: the checks that make a chapter's sentences falsifiable.

Each function compares a measured number with what the text claims. When the claim
holds it returns a :class:`Verdict`: the measured value (a ``float``) that displays as
the check's line when it is the last expression of a cell, so a chapter shows it
without printing anything::

    ✔ empirical NTK error shrinks like width^-1/2
      measured slope -0.50, expected -0.50 ± 0.15

When the claim fails it raises :class:`ClaimError` with the same facts. A cell with
several checks shows them together with :func:`show`. Results that the text states as
negative, or as open questions, are marked by ``kind`` so they read differently from
confirmed ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .verdict import KINDS, MIME, Claim, ClaimError, Report, Verdict, _record, history, show

__all__ = [
    "ClaimError",
    "Claim",
    "Verdict",
    "Report",
    "KINDS",
    "MIME",
    "claim",
    "close",
    "less",
    "greater",
    "between",
    "slope",
    "fit_slope",
    "show",
    "history",
]


def _num(x: object, name: str = "measured") -> float:
    if isinstance(x, torch.Tensor):
        if x.numel() != 1:
            raise ValueError(f"{name} must be a scalar, got a tensor of shape {tuple(x.shape)}")
        return float(x.detach().cpu())
    if isinstance(x, np.ndarray):
        if x.size != 1:
            raise ValueError(f"{name} must be a scalar, got an array of shape {x.shape}")
        return float(x.reshape(()))
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a number, got {type(x).__name__}") from err


def _fmt(x: float, digits: int) -> str:
    if x != 0 and math.isfinite(x) and (abs(x) < 10 ** (-digits) or abs(x) >= 1e5):
        return f"{x:.{max(digits - 1, 1)}e}"
    return f"{x:.{digits}f}"


def _shown(x: float, digits: int) -> float | None:
    """``x`` rounded as it is displayed (``None`` if not finite, which JSON cannot hold)."""
    return float(_fmt(x, digits)) if math.isfinite(x) else None


def claim(
    statement: str,
    ok: bool,
    measured: str = "",
    expected: str = "",
    *,
    kind: str = "result",
    id: str | None = None,
    rejects: str | None = None,
) -> Verdict:
    """Check a claim given as a boolean, with the evidence spelled out in words.

    The verdict's value is ``1.0``.

    Examples
    --------
    >>> claim("train accuracy is 100%", True, "1.00", "1.00")
    ✔ train accuracy is 100%
      measured 1.00, expected 1.00
    """
    return _record(
        statement, 1.0, measured or str(bool(ok)), expected or "True", bool(ok), kind, id, rejects
    )


def close(
    statement: str,
    measured: object,
    expected: object,
    *,
    atol: float = 0.0,
    rtol: float = 0.0,
    digits: int = 3,
    kind: str = "result",
    id: str | None = None,
    rejects: str | None = None,
) -> Verdict:
    r"""Check :math:`|m - e| \le \mathrm{atol} + \mathrm{rtol}\,|e|`.

    Examples
    --------
    >>> close("one third", 0.3334, 1 / 3, atol=1e-3)
    ✔ one third
      measured 0.333, expected 0.333 ± 0.001
    >>> float(close("one third", 0.3334, 1 / 3, atol=1e-3))
    0.3334
    """
    if atol < 0 or rtol < 0 or (atol == 0 and rtol == 0):
        raise ValueError(f"atol and rtol must be >= 0 and not both 0, got atol={atol}, rtol={rtol}")
    m, e = _num(measured), _num(expected, "expected")
    tol = atol + rtol * abs(e)
    ok = math.isfinite(m) and abs(m - e) <= tol
    exp = f"{_fmt(e, digits)} ± {_fmt(tol, digits)}"
    band = {"target": _shown(e, digits), "tol": _shown(tol, digits)}
    return _record(statement, m, _fmt(m, digits), exp, ok, kind, id, rejects, band)


def less(
    statement: str,
    measured: object,
    bound: object,
    *,
    digits: int = 3,
    kind: str = "result",
    id: str | None = None,
    rejects: str | None = None,
) -> Verdict:
    """Check ``measured < bound``.

    Examples
    --------
    >>> less("the kernel barely moves", 0.01, 0.05)
    ✔ the kernel barely moves
      measured 0.010, expected < 0.050
    """
    m, b = _num(measured), _num(bound, "bound")
    ok = math.isfinite(m) and m < b
    band = {"op": "<", "bound": _shown(b, digits)}
    return _record(
        statement, m, _fmt(m, digits), f"< {_fmt(b, digits)}", ok, kind, id, rejects, band
    )


def greater(
    statement: str,
    measured: object,
    bound: object,
    *,
    digits: int = 3,
    kind: str = "result",
    id: str | None = None,
    rejects: str | None = None,
) -> Verdict:
    """Check ``measured > bound``.

    Examples
    --------
    >>> greater("the ratio is large", 12.0, 10)
    ✔ the ratio is large
      measured 12.000, expected > 10.000
    """
    m, b = _num(measured), _num(bound, "bound")
    ok = math.isfinite(m) and m > b
    band = {"op": ">", "bound": _shown(b, digits)}
    return _record(
        statement, m, _fmt(m, digits), f"> {_fmt(b, digits)}", ok, kind, id, rejects, band
    )


def between(
    statement: str,
    measured: object,
    low: object,
    high: object,
    *,
    digits: int = 3,
    kind: str = "result",
    id: str | None = None,
    rejects: str | None = None,
) -> Verdict:
    """Check ``low <= measured <= high``.

    Examples
    --------
    >>> between("a probability", 0.3, 0, 1)
    ✔ a probability
      measured 0.300, expected in [0.000, 1.000]
    """
    m, lo, hi = _num(measured), _num(low, "low"), _num(high, "high")
    ok = math.isfinite(m) and lo <= m <= hi
    exp = f"in [{_fmt(lo, digits)}, {_fmt(hi, digits)}]"
    band = {"low": _shown(lo, digits), "high": _shown(hi, digits)}
    return _record(statement, m, _fmt(m, digits), exp, ok, kind, id, rejects, band)


def fit_slope(
    x: Sequence[float] | np.ndarray | torch.Tensor,
    y: Sequence[float] | np.ndarray | torch.Tensor,
    *,
    loglog: bool = True,
) -> tuple[float, float]:
    r"""Least-squares fit of :math:`\log y = a \log x + b` (or :math:`y = a x + b`).

    Returns
    -------
    (slope, intercept) : tuple of float

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in length, have fewer than 2 points, are not finite, or
        (log-log) are not positive.

    Examples
    --------
    >>> a, b = fit_slope([1, 10, 100], [2, 0.2, 0.02])
    >>> round(a, 6), round(math.exp(b), 6)
    (-1.0, 2.0)
    """
    xa = np.asarray(torch.as_tensor(x).detach().cpu(), dtype=float).ravel()
    ya = np.asarray(torch.as_tensor(y).detach().cpu(), dtype=float).ravel()
    if xa.shape != ya.shape or xa.size < 2:
        raise ValueError(f"x and y must have the same length >= 2, got {xa.size} and {ya.size}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("x and y must be finite")
    if loglog:
        if np.any(xa <= 0) or np.any(ya <= 0):
            raise ValueError("x and y must be positive for a log-log fit")
        xa, ya = np.log(xa), np.log(ya)
    a, b = np.polyfit(xa, ya, 1)
    return float(a), float(b)


def slope(
    statement: str,
    x: Sequence[float] | np.ndarray | torch.Tensor,
    y: Sequence[float] | np.ndarray | torch.Tensor,
    expected: float,
    tol: float,
    *,
    loglog: bool = True,
    digits: int = 2,
    kind: str = "result",
    id: str | None = None,
    rejects: str | None = None,
) -> Verdict:
    """Fit the slope of ``y`` against ``x`` (log-log by default); check it is ``expected ± tol``.

    Examples
    --------
    >>> w = [64, 256, 1024]
    >>> slope("error ~ width^-1/2", w, [v ** -0.5 for v in w], -0.5, 0.05)
    ✔ error ~ width^-1/2
      measured slope -0.50, expected -0.50 ± 0.05
    """
    a, _ = fit_slope(x, y, loglog=loglog)
    ok = math.isfinite(a) and abs(a - expected) <= tol
    exp = f"{_fmt(expected, digits)} ± {_fmt(tol, digits)}"
    band = {
        "target": _shown(expected, digits),
        "tol": _shown(tol, digits),
        "fit": "loglog" if loglog else "linear",
    }
    return _record(
        statement, round(a, 12), f"slope {_fmt(a, digits)}", exp, ok, kind, id, rejects, band
    )
