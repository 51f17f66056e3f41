"""The declarations of argument constraints (dlt.core.params): what the decorator keeps and checks."""

import inspect

import pytest
import torch

from dlt import kernels
from dlt.core.params import (
    Choice,
    Fraction,
    Int,
    Matrix,
    Model,
    NonNegative,
    Positive,
    Square,
    Tensor,
    Vector,
    declared_params,
    validate_params,
)


@validate_params({"x": Matrix(), "n": Int(1), "rate": Fraction(), "kind": Choice(("a", "b"))})
def _f(x: torch.Tensor, n: int = 1, rate: float = 0.5, kind: str = "a", y: object = None):
    """A function to decorate."""
    return x.shape[0] * n * rate


def test_the_wrapper_keeps_name_docstring_and_signature():
    assert _f.__name__ == "_f" and _f.__doc__ == "A function to decorate."
    assert list(inspect.signature(_f).parameters) == ["x", "n", "rate", "kind", "y"]
    assert list(inspect.signature(kernels.nngp).parameters)[:2] == ["x1", "x2"]
    assert set(declared_params(_f)) == {"x", "n", "rate", "kind"}


def test_valid_calls_pass_through_unchanged():
    assert _f(torch.ones(4, 2), 2, rate=0.25, kind="b") == 2.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(x=torch.ones(3)), ValueError, r"x must have shape \(n, d\), got shape \(3,\)"),
        (dict(x=torch.tensor([[float("nan")]])), ValueError, "x must be finite, got 1 NaN"),
        (dict(x=torch.ones(2, 2), n=0), ValueError, "n must be >= 1, got 0"),
        (dict(x=torch.ones(2, 2), n=1.5), TypeError, "n must be an integer"),
        (dict(x=torch.ones(2, 2), rate=2.0), ValueError, r"rate must be in \[0, 1\]"),
        (dict(x=torch.ones(2, 2), kind="c"), ValueError, "kind must be one of"),
    ],
)
def test_a_bad_argument_is_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        _f(**kwargs)


def test_none_passes_where_it_is_the_default():
    @validate_params({"x2": Matrix()})
    def g(x1, x2=None):
        return x2

    assert g(1) is None
    with pytest.raises(ValueError, match="x2 must have shape"):
        g(1, torch.ones(3))


def test_a_declaration_must_name_parameters():
    with pytest.raises(TypeError, match=r"has no parameters \['z'\]"):
        validate_params({"z": Int()})(lambda x: x)


def test_a_missing_argument_raises_the_functions_own_error():
    with pytest.raises(TypeError, match="missing"):
        _f()


@pytest.mark.parametrize(
    "constraint",
    [
        Tensor((1, 2), "(n,) or (n, k)"),
        Matrix(),
        Vector(),
        Square(),
        Int(0),
        Int(),
        Positive(),
        NonNegative(),
        Fraction(low_open=True),
        Choice(("a",)),
        Model(),
    ],
)
def test_every_invalid_example_is_refused_with_its_error(constraint):
    assert constraint.invalid(), "each constraint gives the common test at least one bad value"
    for value, error in constraint.invalid():
        with pytest.raises(error, match=r"\barg\b"):
            constraint.check(value, "arg")
