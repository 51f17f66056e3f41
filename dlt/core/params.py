"""Argument constraints declared once, beside the function, and checked at call time.

A public function of :mod:`dlt` declares what each argument must be with
:func:`validate_params` (as scikit-learn's ``_param_validation`` does)::

    @validate_params({"x1": Matrix(), "depth": Int(0), "sigma_w": Positive()})
    def nngp(x1, x2=None, depth=1, sigma_w=1.0): ...

The decorator checks the arguments a call passes before the body runs, with the checks of
:mod:`dlt.core.validate`, so an error names the argument and what was expected (``depth must
be >= 0, got -1``). The same declaration is read by the common test (``tests/test_api.py``),
which generates, for every public function, a call with an invalid value for each declared
argument (:meth:`Constraint.invalid`) and one with a NaN in each tensor argument, and asserts
an error naming it. An argument whose default is ``None`` may be passed as ``None``. The body
still converts its arguments (to float64, to a device) with the same functions; what a
declaration cannot say (shapes that must agree between arguments) the body checks.

The wrapper keeps the function's signature and type (``functools.wraps`` and ``ParamSpec``),
so ``inspect.signature``, IDEs and mypy see the function as declared.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import torch
from torch import nn

from .validate import (
    as_matrix,
    as_tensor,
    as_vector,
    check_choice,
    check_fraction,
    check_int,
    check_nonnegative,
    check_positive,
    check_square,
)

__all__ = [
    "Constraint",
    "Tensor",
    "Matrix",
    "Vector",
    "Square",
    "Int",
    "Positive",
    "NonNegative",
    "Fraction",
    "Choice",
    "PerMember",
    "Model",
    "validate_params",
    "declared_params",
]

P = ParamSpec("P")
R = TypeVar("R")


class Constraint:
    """What one argument must be: :meth:`check` raises naming it, :meth:`invalid` gives
    values that must be refused (each with the error it must raise)."""

    tensor = False  # a tensor argument: the common test also poisons it with NaN

    def check(self, value: object, name: str) -> None:
        raise NotImplementedError

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        return []


def _wrong_ndim(allowed: Sequence[int]) -> torch.Tensor:
    k = next(k for k in range(1, 10) if k not in allowed)
    return torch.zeros((2,) * k)


@dataclass(frozen=True)
class Tensor(Constraint):
    """A non-empty tensor (or array-like) with one of ``ndim`` dimensions, finite unless
    ``finite=False``; ``shape`` describes it in the message, e.g. ``"(B, N + 1, d + 1)"``."""

    ndim: int | tuple[int, ...]
    shape: str
    finite: bool = True
    tensor = True

    def check(self, value: object, name: str) -> None:
        as_tensor(value, name, ndim=self.ndim, shape=self.shape, finite=self.finite)

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        dims = (self.ndim,) if isinstance(self.ndim, int) else self.ndim
        return [(_wrong_ndim(dims), ValueError)]


@dataclass(frozen=True)
class Matrix(Constraint):
    """A non-empty ``(n, d)`` matrix, finite unless ``finite=False``."""

    finite: bool = True
    tensor = True

    def check(self, value: object, name: str) -> None:
        as_matrix(value, name, finite=self.finite)

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        return [(torch.zeros(3), ValueError)]


@dataclass(frozen=True)
class Vector(Constraint):
    """A ``(n,)`` vector (an ``(n, 1)`` column is accepted), finite unless ``finite=False``."""

    finite: bool = True
    tensor = True

    def check(self, value: object, name: str) -> None:
        as_vector(value, name, finite=self.finite)

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        return [(torch.zeros(2, 2, 2), ValueError)]


@dataclass(frozen=True)
class Square(Constraint):
    """A finite square ``(n, n)`` matrix (a kernel or Gram matrix)."""

    tensor = True

    def check(self, value: object, name: str) -> None:
        check_square(value, name)

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        return [(torch.zeros(2, 3), ValueError)]


@dataclass(frozen=True)
class Int(Constraint):
    """An integer ``>= minimum`` (a float with an integer value is accepted)."""

    minimum: int | None = None

    def check(self, value: object, name: str) -> None:
        check_int(value, name, minimum=self.minimum)

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        low = [] if self.minimum is None else [(self.minimum - 1, ValueError)]
        return [*low, (2.5, TypeError)]


@dataclass(frozen=True)
class Positive(Constraint):
    """A finite number ``> 0``."""

    def check(self, value: object, name: str) -> None:
        check_positive(value, name)

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        return [(0.0, ValueError), (float("nan"), ValueError)]


@dataclass(frozen=True)
class NonNegative(Constraint):
    """A finite number ``>= 0``."""

    def check(self, value: object, name: str) -> None:
        check_nonnegative(value, name)

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        return [(-1.0, ValueError), (float("inf"), ValueError)]


@dataclass(frozen=True)
class Fraction(Constraint):
    """A number in ``[0, 1]`` (each end open on request)."""

    low_open: bool = False
    high_open: bool = False

    def check(self, value: object, name: str) -> None:
        check_fraction(value, name, low_open=self.low_open, high_open=self.high_open)

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        return [(-0.5, ValueError), (1.5, ValueError)]


@dataclass(frozen=True)
class Choice(Constraint):
    """One of the strings ``options``, read at call time: a registry passed as ``options`` (a
    dict such as ``PARAMETERIZATIONS``) may gain entries after the declaration, and they count."""

    options: Collection[str]

    def check(self, value: object, name: str) -> None:
        check_choice(value, name, tuple(self.options))

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        return [("no-such-option", ValueError)]


@dataclass(frozen=True)
class PerMember(Constraint):
    """A value ``inner`` accepts, or a non-empty list or tuple of them (one per member of an
    ensemble); an element is named by its index, ``name[i]``."""

    inner: Constraint

    def check(self, value: object, name: str) -> None:
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"{name} must be one value or a non-empty list of them, got []")
            for i, v in enumerate(value):
                self.inner.check(v, f"{name}[{i}]")
        else:
            self.inner.check(value, name)

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        bad = self.inner.invalid()
        return [*bad, ([], ValueError), *(([v], e) for v, e in bad[:1])]


@dataclass(frozen=True)
class Model(Constraint):
    """A ``torch.nn.Module``."""

    def check(self, value: object, name: str) -> None:
        if not isinstance(value, nn.Module):
            raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")

    def invalid(self) -> list[tuple[object, type[Exception]]]:
        return [(object(), TypeError)]


def validate_params(
    constraints: Mapping[str, Constraint],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Check the declared arguments of every call before the function runs.

    Parameters
    ----------
    constraints : mapping of str to Constraint
        Argument name to what it must be. Every name must be a parameter of the function.

    Returns
    -------
    A decorator; the decorated function keeps its name, docstring and signature, and
    carries its declaration as ``__dlt_params__``.

    Raises
    ------
    TypeError
        At decoration, if a declared name is not a parameter of the function.

    Examples
    --------
    >>> @validate_params({"n": Int(1), "rate": Fraction()})
    ... def draws(n, rate=0.5):
    ...     return n * rate
    >>> draws(4)
    2.0
    >>> draws(0)
    Traceback (most recent call last):
    ...
    ValueError: n must be >= 1, got 0
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(fn)
        unknown = set(constraints) - set(sig.parameters)
        if unknown:
            raise TypeError(f"{fn.__qualname__} has no parameters {sorted(unknown)}")
        optional = {k for k in constraints if sig.parameters[k].default is None}  # None: absent
        # Where each declared argument sits among the positional ones (no inspect.bind: a call
        # pays a dictionary lookup per declared argument, not a signature binding).
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        positional = [k for k, p in sig.parameters.items() if p.kind in kinds]
        index = {k: positional.index(k) if k in positional else -1 for k in constraints}
        checks = tuple((k, c, index[k], k in optional) for k, c in constraints.items())

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for name, constraint, i, may_be_none in checks:
                if 0 <= i < len(args):
                    value = args[i]
                elif name in kwargs:
                    value = kwargs[name]
                else:
                    continue  # the default
                if value is None and may_be_none:
                    continue
                constraint.check(value, name)
            return fn(*args, **kwargs)

        wrapper.__dlt_params__ = dict(constraints)  # type: ignore[attr-defined]
        return wrapper

    return decorate


def declared_params(obj: Any) -> dict[str, Constraint]:
    """The declaration of a function (or of a class's ``__init__``), empty if none.

    Examples
    --------
    >>> @validate_params({"n": Int(1)})
    ... def f(n):
    ...     return n
    >>> declared_params(f)
    {'n': Int(minimum=1)}
    """
    target = getattr(obj, "__init__", None) if isinstance(obj, type) else obj
    return dict(getattr(target, "__dlt_params__", {}))
