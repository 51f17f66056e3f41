"""Executable claims: the checks that make a chapter's sentences falsifiable.

Each function compares a measured number with what the text claims, prints one
rounded line when the claim holds (so nbval can compare it) and raises
:class:`ClaimError` with a readable message when it does not::

    claim: NTK error shrinks like width^-1/2; measured slope -0.12, expected -0.50 ± 0.15

Every check returns the measured value, so a chapter can print or plot it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "ClaimError",
    "Claim",
    "claim",
    "close",
    "less",
    "greater",
    "between",
    "slope",
    "fit_slope",
    "history",
]


class ClaimError(AssertionError):
    """Raised when a measured result contradicts the claim the text makes."""


@dataclass(frozen=True)
class Claim:
    """One checked claim: the statement, what was measured, what was expected."""

    statement: str
    measured: str
    expected: str
    passed: bool


_HISTORY: list[Claim] = []


def history() -> list[Claim]:
    """The claims checked so far in this process (for summary tables)."""
    return list(_HISTORY)


def _num(x: object) -> float:
    if isinstance(x, torch.Tensor):
        if x.numel() != 1:
            raise ValueError(f"expected a scalar measurement, got a tensor of shape {tuple(x.shape)}")
        return float(x.detach().cpu())
    if isinstance(x, np.ndarray):
        if x.size != 1:
            raise ValueError(f"expected a scalar measurement, got an array of shape {x.shape}")
        return float(x.reshape(()))
    return float(x)  # type: ignore[arg-type]


def _fmt(x: float, digits: int) -> str:
    if x != 0 and (abs(x) < 10 ** (-digits) or abs(x) >= 1e5):
        return f"{x:.{max(digits - 1, 1)}e}"
    return f"{x:.{digits}f}"


def _record(statement: str, measured: str, expected: str, ok: bool, quiet: bool) -> None:
    _HISTORY.append(Claim(statement, measured, expected, ok))
    if not ok:
        raise ClaimError(f"claim: {statement}; measured {measured}, expected {expected}")
    if not quiet:
        print(f"✔ {statement}: {measured} (expected {expected})")


def claim(statement: str, ok: bool, measured: str = "", expected: str = "", *, quiet: bool = False) -> bool:
    """Check a claim given as a boolean, with the evidence spelled out in words.

    Examples
    --------
    >>> from dlt import check
    >>> check.claim("train accuracy is 100%", True, "1.00", "1.00", quiet=True)
    True
    """
    _record(statement, measured or str(bool(ok)), expected or "True", bool(ok), quiet)
    return bool(ok)


def close(
    statement: str,
    measured: object,
    expected: object,
    *,
    atol: float = 0.0,
    rtol: float = 0.0,
    digits: int = 3,
    quiet: bool = False,
) -> float:
    r"""Check :math:`|m - e| \le \mathrm{atol} + \mathrm{rtol}\,|e|`.

    Examples
    --------
    >>> from dlt import check
    >>> check.close("one third", 0.3334, 1 / 3, atol=1e-3, quiet=True)
    0.3334
    """
    if atol < 0 or rtol < 0 or (atol == 0 and rtol == 0):
        raise ValueError(f"atol and rtol must be >= 0 and not both 0, got atol={atol}, rtol={rtol}")
    m, e = _num(measured), _num(expected)
    tol = atol + rtol * abs(e)
    ok = math.isfinite(m) and abs(m - e) <= tol
    _record(statement, _fmt(m, digits), f"{_fmt(e, digits)} ± {_fmt(tol, digits)}", ok, quiet)
    return m


def less(statement: str, measured: object, bound: object, *, digits: int = 3, quiet: bool = False) -> float:
    """Check ``measured < bound``."""
    m, b = _num(measured), _num(bound)
    _record(statement, _fmt(m, digits), f"< {_fmt(b, digits)}", math.isfinite(m) and m < b, quiet)
    return m


def greater(statement: str, measured: object, bound: object, *, digits: int = 3, quiet: bool = False) -> float:
    """Check ``measured > bound``."""
    m, b = _num(measured), _num(bound)
    _record(statement, _fmt(m, digits), f"> {_fmt(b, digits)}", math.isfinite(m) and m > b, quiet)
    return m


def between(
    statement: str, measured: object, low: object, high: object, *, digits: int = 3, quiet: bool = False
) -> float:
    """Check ``low <= measured <= high``."""
    m, lo, hi = _num(measured), _num(low), _num(high)
    ok = math.isfinite(m) and lo <= m <= hi
    _record(statement, _fmt(m, digits), f"in [{_fmt(lo, digits)}, {_fmt(hi, digits)}]", ok, quiet)
    return m


def fit_slope(x: Sequence[float] | np.ndarray | torch.Tensor, y: Sequence[float] | np.ndarray | torch.Tensor,
              *, loglog: bool = True) -> tuple[float, float]:
    r"""Least-squares fit of :math:`\log y = a \log x + b` (or :math:`y = a x + b`).

    Returns
    -------
    (slope, intercept) : tuple of float
    """
    xa = np.asarray(torch.as_tensor(x).detach().cpu(), dtype=float).ravel()
    ya = np.asarray(torch.as_tensor(y).detach().cpu(), dtype=float).ravel()
    if xa.shape != ya.shape or xa.size < 2:
        raise ValueError(f"x and y must have the same length >= 2, got {xa.size} and {ya.size}")
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
    quiet: bool = False,
) -> float:
    """Fit the slope of ``y`` against ``x`` (log-log by default) and check it is ``expected ± tol``.

    Examples
    --------
    >>> from dlt import check
    >>> w = [64, 256, 1024]
    >>> check.slope("error ~ width^-1/2", w, [v ** -0.5 for v in w], -0.5, 0.05, quiet=True)
    -0.5
    """
    a, _ = fit_slope(x, y, loglog=loglog)
    ok = math.isfinite(a) and abs(a - expected) <= tol
    _record(statement, f"slope {_fmt(a, digits)}", f"{_fmt(expected, digits)} ± {_fmt(tol, digits)}", ok, quiet)
    return round(a, 12)
