"""Argument checks shared by the public functions of :mod:`dlt`.

Every public function validates its inputs here, at the boundary, so that a mistake is
reported in terms of the caller's argument names (``x must have shape (n, 3), got (5,
4)``; ``X must be finite, got 2 NaN entries``) rather than as a stack trace from inside
torch. Tensors are checked for NaN and infinite entries: a non-finite input is refused,
never passed on to give a silently wrong answer.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch

__all__ = [
    "as_tensor",
    "as_matrix",
    "as_vector",
    "check_finite",
    "check_int",
    "check_positive",
    "check_nonnegative",
    "check_fraction",
    "check_choice",
    "check_square",
    "generator",
]


def _to_tensor(x: object, name: str, shape: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    try:
        return torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(
            f"{name} must be a tensor of shape {shape}, got {type(x).__name__}"
        ) from err


def check_finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """Return ``x`` if every entry is finite, else raise a ``ValueError`` naming ``name``."""
    if x.is_floating_point() or x.is_complex():
        bad = ~torch.isfinite(x)
        if bool(bad.any()):
            n_nan = int(torch.isnan(x).sum())
            n_inf = int(bad.sum()) - n_nan
            parts = [f"{n_nan} NaN"] if n_nan else []
            parts += [f"{n_inf} infinite"] if n_inf else []
            raise ValueError(f"{name} must be finite, got {' and '.join(parts)} entries")
    return x


def as_tensor(
    x: object,
    name: str,
    *,
    ndim: int | Sequence[int],
    shape: str,
    dtype: torch.dtype | None = None,
    finite: bool = True,
) -> torch.Tensor:
    """Return ``x`` as a non-empty float tensor with ``ndim`` dimensions (one of them).

    ``shape`` describes the expected shape in the error message, e.g. ``"(B, N + 1, d + 1)"``.
    """
    t = _to_tensor(x, name, shape)
    dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if t.ndim not in dims:
        raise ValueError(f"{name} must have shape {shape}, got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"{name} must be non-empty, got shape {tuple(t.shape)}")
    if dtype is not None:  # straight to dtype: integers beyond 2**24 do not pass through float32
        t = t.to(dtype)
    elif not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return check_finite(t, name) if finite else t


def as_matrix(
    x: object, name: str, *, dtype: torch.dtype | None = None, finite: bool = True
) -> torch.Tensor:
    """Return ``x`` as a finite 2-d float tensor of shape ``(n, d)`` or raise."""
    return as_tensor(x, name, ndim=2, shape="(n, d)", dtype=dtype, finite=finite)


def as_vector(y: object, name: str, n: int | None = None, *, finite: bool = True) -> torch.Tensor:
    """Return ``y`` as a finite 1-d float tensor of length ``n`` (a ``(n, 1)`` column is accepted)."""
    t = _to_tensor(y, name, "(n,)")
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1:
        raise ValueError(f"{name} must have shape (n,), got shape {tuple(t.shape)}")
    if n is not None and t.shape[0] != n:
        raise ValueError(f"{name} must have length {n} to match the inputs, got {t.shape[0]}")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return check_finite(t, name) if finite else t


def check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int`` that is at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral | torch.SymInt):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_positive(value: object, name: str) -> float:
    """Return ``value`` as a finite ``float`` that is strictly positive."""
    v = _finite_float(value, name)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    return v


def check_nonnegative(value: object, name: str) -> float:
    """Return ``value`` as a finite ``float`` that is non-negative."""
    v = _finite_float(value, name)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def check_fraction(
    value: object, name: str, *, low_open: bool = False, high_open: bool = False
) -> float:
    """Return ``value`` as a ``float`` in ``[0, 1]`` (ends open on request)."""
    v = _finite_float(value, name)
    lo_ok = v > 0 if low_open else v >= 0
    hi_ok = v < 1 if high_open else v <= 1
    if not (lo_ok and hi_ok):
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lo}0, 1{hi}, got {v}")
    return v


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def generator(
    seed: int | torch.Generator | None, device: torch.device | str | None = None
) -> torch.Generator:
    """A ``torch.Generator`` from a seed (``None`` means seed 0) or the generator itself."""
    if isinstance(seed, torch.Generator):
        return seed
    if seed is None:
        seed = 0
    seed = check_int(seed, "seed", minimum=0)
    g = torch.Generator(device=torch.device(device) if device is not None else "cpu")
    g.manual_seed(seed)
    return g


def _finite_float(value: object, name: str) -> float:
    if isinstance(value, torch.Tensor | Sequence) and not isinstance(value, str):
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        else:
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a number, got {value!r}") from err
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def check_square(k: object, name: str) -> torch.Tensor:
    """A square ``(n, n)`` float64 matrix (a kernel or Gram matrix), finite; else raise naming it.

    Examples
    --------
    >>> check_square([[1.0, 0.5], [0.5, 1.0]], "k").dtype
    torch.float64
    >>> check_square([[1.0, 0.5]], "k")
    Traceback (most recent call last):
    ...
    ValueError: k must be a square (n, n) kernel matrix, got shape (1, 2)
    """
    k = as_matrix(k, name, dtype=torch.float64)
    if k.shape[0] != k.shape[1]:
        raise ValueError(
            f"{name} must be a square (n, n) kernel matrix, got shape {tuple(k.shape)}"
        )
    return k
