"""Edges of ``dlt.measure.tracking``: the sharpness callback's schedule and warm start, and the
exact Hessian and per-sample gradients of models whose answers are known by hand.

``Point`` returns its parameter, so the loss ``out @ A @ out / 2`` has Hessian exactly ``A``;
with two close top eigenvalues power iteration converges slowly, and the number of iterations
each record uses shows in its value.
"""

import math

import pytest
import torch
from references import Point
from torch import nn

from dlt.measure.hessian import top_hessian_eigenvalue
from dlt.measure.tracking import SharpnessCallback, full_hessian, output_jacobian

A = torch.diag(torch.tensor([1.0, 0.98, 0.5, -0.2], dtype=torch.float64))


def quadratic(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 0.5 * out @ A @ out


X1 = torch.zeros(1, 4, dtype=torch.float64)
Y1 = torch.zeros(1, dtype=torch.float64)


def _direct(iters, tol, seed=0, init=None, loss=quadratic):
    return top_hessian_eigenvalue(
        Point(torch.ones(4)), X1, Y1, loss=loss, iters=iters, tol=tol, seed=seed, init=init
    )


# ----------------------------------------------------------------------------- the callback


def test_callback_first_record_uses_ten_times_the_iterations_then_warm_starts():
    """Record 1 is power iteration from the seed's vector with 10 * iters steps; record 2
    starts from record 1's vector with iters steps. Equal, to the last bit, to those two direct
    calls, and different from 11 * iters or a cold second start (with tol tiny every step
    counts: the top eigenvalues 1 and 0.98 are close)."""
    cb = SharpnessCallback(X1, Y1, every=1, loss=quadratic, iters=3, tol=1e-15, seed=2)
    model = Point(torch.ones(4))
    cb(0, model)
    cb(1, model)
    first = _direct(30, 1e-15, seed=2)
    second = _direct(3, 1e-15, init=first.vector)
    assert cb.sharpness == [first.value, second.value]
    assert cb.step == [0, 1]
    assert _direct(33, 1e-15, seed=2).value != first.value
    assert _direct(3, 1e-15, seed=2).value != second.value
    assert _direct(30, 1e-15, seed=0).value != first.value  # the seed is used


def test_callback_schedule_every_k_steps_and_no_repeat():
    """Steps 0..12 with every=5 record 0, 5 and 10; a step reported twice in a row (fit's
    last step) is recorded once; a step that is not a multiple is skipped."""
    cb = SharpnessCallback(X1, Y1, every=5, loss=quadratic, iters=2)
    model = Point(torch.ones(4))
    for t in range(13):
        cb(t, model)
    cb(10, model)
    assert cb.step == [0, 5, 10]
    assert all(isinstance(s, int) for s in cb.step)
    assert len(cb.sharpness) == 3
    assert repr(cb) == "SharpnessCallback(every=5, records=3)"
    assert repr(SharpnessCallback(X1, Y1)) == "SharpnessCallback(every=10, records=0)"


def test_callback_defaults_are_the_documented_ones():
    """Defaults every=10, iters=10, tol=1e-3, seed=0: the same records as the explicit call
    and as direct calls with 100 then 10 iterations. The Hessian diag(1, -0.99, ..., -0.99)
    makes the power iteration from seed 0 slow, so both caps are reached and each default
    changes the records."""
    B = torch.diag(torch.tensor([1.0] + [-0.99] * 19, dtype=torch.float64))

    def slow(out, y):
        return 0.5 * out @ B @ out

    X, y = torch.zeros(1, 20, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)

    def run(**kw):
        cb = SharpnessCallback(X, y, loss=slow, **kw)
        model = Point(torch.ones(20))
        for t in range(21):
            cb(t, model)
        return cb

    cb = run()
    assert cb.step == [0, 10, 20]
    assert cb.sharpness == run(every=10, iters=10, tol=1e-3, seed=0).sharpness
    first = top_hessian_eigenvalue(Point(torch.ones(20)), X, y, loss=slow, iters=100, tol=1e-3)
    second = top_hessian_eigenvalue(
        Point(torch.ones(20)), X, y, loss=slow, iters=10, tol=1e-3, init=first.vector
    )
    assert (first.iterations, second.iterations) == (100, 10)
    assert cb.sharpness[:2] == [first.value, second.value]
    for change in ({"tol": 1e-2}, {"iters": 11}, {"seed": 1}):
        assert run(**change).sharpness != cb.sharpness


def test_callback_uses_the_given_loss():
    """A loss passed in is the one differentiated: twice the squared loss doubles the
    sharpness (a callback that fell back to the squared loss would not)."""
    Xl = torch.diag(torch.tensor([1.0, 2.0], dtype=torch.float64))
    yl = torch.zeros(2, dtype=torch.float64)
    lin = nn.Linear(2, 1, bias=False).double()

    def double_mse(out, y):
        return ((out[:, 0] - y) ** 2).mean()

    plain = SharpnessCallback(Xl, yl, every=1, iters=100, tol=1e-12)
    doubled = SharpnessCallback(Xl, yl, every=1, loss=double_mse, iters=100, tol=1e-12)
    plain(0, lin)
    doubled(0, lin)
    assert plain.sharpness[0] == pytest.approx(2.0, rel=1e-9)  # X^T X / n = diag(0.5, 2)
    assert doubled.sharpness[0] == pytest.approx(4.0, rel=1e-9)


def test_callback_restarts_cold_after_a_non_finite_record():
    """A NaN record drops the warm-start vector: the next record starts again from the seed
    with 10 * iters steps, as the first one did."""
    cb = SharpnessCallback(X1, Y1, every=1, loss=quadratic, iters=3, tol=1e-15, seed=2)
    bad = Point(torch.full((4,), float("nan")))
    cb(0, bad)
    assert math.isnan(cb.sharpness[0])
    cb(1, Point(torch.ones(4)))
    assert cb.sharpness[1] == _direct(30, 1e-15, seed=2).value


def test_callback_argument_errors():
    """Each size is checked by name; the minimal values 1 are allowed."""
    with pytest.raises(ValueError, match=r"^every must be >= 1, got 0"):
        SharpnessCallback(X1, Y1, every=0)
    with pytest.raises(ValueError, match=r"^iters must be >= 1, got 0"):
        SharpnessCallback(X1, Y1, iters=0)
    with pytest.raises(ValueError, match=r"^tol must be > 0"):
        SharpnessCallback(X1, Y1, tol=0.0)
    with pytest.raises(ValueError, match=r"^y must have 1 rows to match X"):
        SharpnessCallback(X1, torch.zeros(2))
    cb = SharpnessCallback(X1, Y1, every=1.0, iters=1.0, tol=1e-3, loss=quadratic)
    assert (cb.every, cb.iters, cb.tol) == (1, 1, 1e-3)
    assert type(cb.every) is int and type(cb.iters) is int
    cb(0, Point(torch.ones(4)))
    assert cb.step == [0]


# ----------------------------------------------------------------------------- full_hessian


def test_full_hessian_of_a_given_loss_is_its_matrix():
    """With the quadratic loss the Hessian is A itself, zero and negative eigenvalues
    included; the default squared loss of a linear model gives X^T X / n."""
    torch.testing.assert_close(full_hessian(Point(torch.ones(4)), X1, Y1, loss=quadratic), A)
    Xl = torch.tensor([[1.0, 0.0], [1.0, 2.0], [0.0, 3.0]], dtype=torch.float64)
    lin = nn.Linear(2, 1, bias=False).double()
    want = Xl.T @ Xl / 3
    torch.testing.assert_close(full_hessian(lin, Xl, torch.zeros(3, dtype=torch.float64)), want)
    torch.testing.assert_close(
        full_hessian(lin, Xl, torch.zeros(3), loss=None), want, check_dtype=False
    )


# ----------------------------------------------------------------------------- output_jacobian


def test_output_jacobian_of_a_linear_model_with_bias_and_buffer():
    """f(x) = w . x + b with a non-trainable buffer in the graph: g_i = (x_i, 1), and the
    columns follow named_parameters (weight, then bias). n differs from d so a transposed
    reshape would fail or scramble."""

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 1).double()
            self.register_buffer("scale", torch.tensor(3.0, dtype=torch.float64))

        def forward(self, x):
            return self.scale * self.lin(x)

    x = torch.tensor([[1.0, 2.0], [3.0, -4.0], [0.5, 0.0]], dtype=torch.float64)
    want = 3.0 * torch.cat([x, torch.ones(3, 1, dtype=torch.float64)], 1)
    torch.testing.assert_close(output_jacobian(Scaled(), x), want)
    # output (n,) rather than (n, 1), and a frozen parameter left out of the columns
    lin = nn.Linear(2, 1).double()
    lin.bias.requires_grad_(False)
    flat = nn.Sequential(lin, nn.Flatten(0))
    torch.testing.assert_close(output_jacobian(flat, x), x)


def test_output_jacobian_of_one_row_and_of_several_outputs():
    """One row is allowed; a model with two outputs per sample is refused, naming ``model``
    and the shape of its output for one sample."""
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    torch.testing.assert_close(output_jacobian(nn.Linear(2, 1, bias=False).double(), x), x)
    with pytest.raises(
        ValueError, match=r"^model must have one output per sample, got shape \(1, 2\)"
    ):
        output_jacobian(nn.Linear(2, 2).double(), torch.zeros(3, 2, dtype=torch.float64))
