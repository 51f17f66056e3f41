"""Argument checks shared by the public functions of :mod:`dlt`.

Every public function validates its inputs here, at the boundary, so that a
mistake is reported in terms of the caller's argument names rather than as a
stack trace from inside torch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch

__all__ = [
    "as_matrix",
    "as_vector",
    "check_int",
    "check_positive",
    "check_nonnegative",
    "check_choice",
    "generator",
]


def as_matrix(x: object, name: str, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Return ``x`` as a 2-d tensor of shape ``(n, d)`` or raise a ``ValueError``."""
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{name} must be a tensor of shape (n, d), got {type(x).__name__}") from err
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got shape {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {tuple(x.shape)}")
    if not (x.is_floating_point()):
        x = x.to(torch.get_default_dtype())
    if dtype is not None:
        x = x.to(dtype)
    return x


def as_vector(y: object, name: str, n: int | None = None) -> torch.Tensor:
    """Return ``y`` as a 1-d float tensor of length ``n`` (a ``(n, 1)`` column is accepted)."""
    if not isinstance(y, torch.Tensor):
        try:
            y = torch.as_tensor(y, dtype=torch.get_default_dtype())
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{name} must be a tensor of shape (n,), got {type(y).__name__}") from err
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must have shape (n,), got shape {tuple(y.shape)}")
    if n is not None and y.shape[0] != n:
        raise ValueError(f"{name} must have length {n} to match the inputs, got {y.shape[0]}")
    if not y.is_floating_point():
        y = y.to(torch.get_default_dtype())
    return y


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


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return str(value)


def generator(seed: int | torch.Generator | None, device: torch.device | str | None = None) -> torch.Generator:
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
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a number, got {value!r}") from err
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v
