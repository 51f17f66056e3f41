"""Edges of ``dlt.measure.robust``: the inputs where a naive or slightly wrong version differs.

Input-gradient norms are checked against closed forms (linear maps, a quadratic), the
accuracies against hand-computed margins: a certified row exactly on the tie, a row the attack
cannot hurt, a row misclassified at its clean point that a random start happens to fix.
"""

import pytest
import torch
from torch import nn

from dlt.measure.robust import certified_accuracy, input_jacobian_norms, robust_accuracy


class Squares(nn.Module):
    """f(x) = sum(x**2) per row, so grad f = 2x and the squared norm is 4 ||x||^2."""

    def __init__(self, out_shape: str = "n"):
        super().__init__()
        self.out_shape = out_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.pow(2).flatten(1).sum(1)
        return s if self.out_shape == "n" else s[:, None]


class Step(nn.Module):
    """Logits (0.5, 1[x_0 > 0]) with zero input gradient: PGD never moves off its random start."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        zero = 0 * x.flatten(1).sum(1)
        return torch.stack([0.5 + zero, (x[:, 0] > 0).to(x.dtype) + zero], 1)


def _linear(W, b=None) -> nn.Linear:
    W = torch.as_tensor(W, dtype=torch.float64)
    lin = nn.Linear(W.shape[1], W.shape[0], bias=b is not None).double()
    with torch.no_grad():
        lin.weight.copy_(W)
        if b is not None:
            lin.bias.copy_(torch.as_tensor(b, dtype=torch.float64))
    return lin


# ----------------------------------------------------------------------------- input Jacobian


def test_input_jacobian_norms_scalar_outputs_of_both_shapes():
    """f(x) = ||x||^2 has ||grad f||^2 = 4||x||^2 per row, for outputs (n,) and (n, 1):
    rejects a wrong power, a sum over the wrong axis, and a shortcut that mixes rows."""
    x = torch.tensor([[1.0, -2.0], [0.5, 0.0], [-3.0, 1.0]], dtype=torch.float64)
    want = 4 * x.pow(2).sum(1)
    torch.testing.assert_close(input_jacobian_norms(Squares("n"), x), want)
    torch.testing.assert_close(input_jacobian_norms(Squares("n1"), x), want)


def test_input_jacobian_norms_of_several_outputs_is_the_frobenius_norm():
    """For k > 1 outputs W x the answer is ||W||_F^2, not ||sum_k W_k||^2 (the single-backward
    shortcut that is only right for one output per row)."""
    W = [[1.0, 2.0, -1.0], [3.0, -1.0, 0.5]]
    x = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    want = torch.full((4,), 1 + 4 + 1 + 9 + 1 + 0.25, dtype=torch.float64)
    torch.testing.assert_close(input_jacobian_norms(_linear(W), x), want)
    # n equal to the number of outputs: a shape test on the wrong axis would take the shortcut
    x2 = x[:2]
    torch.testing.assert_close(input_jacobian_norms(_linear(W), x2), want[:2])


def test_input_jacobian_norms_of_a_three_dimensional_input():
    """Inputs (n, c, h) flatten every axis but the first: a flatten from the wrong axis would
    return (n, h) or fail."""
    x = torch.arange(12, dtype=torch.float64).reshape(2, 2, 3) - 5
    torch.testing.assert_close(input_jacobian_norms(Squares("n"), x), 4 * x.pow(2).sum((1, 2)))
    model = nn.Sequential(nn.Flatten(), _linear([[1.0] * 6, [0.0, 1.0, 0.0, 0.0, 2.0, 0.0]]))
    torch.testing.assert_close(
        input_jacobian_norms(model, x), torch.full((2,), 6.0 + 5.0, dtype=torch.float64)
    )


def test_input_jacobian_norms_under_no_grad():
    """It differentiates even inside ``torch.no_grad()`` (the book calls it there)."""
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    with torch.no_grad():
        got = input_jacobian_norms(Squares("n"), x)
        got_k = input_jacobian_norms(_linear([[1.0, 1.0], [2.0, 0.0]]), x)
    torch.testing.assert_close(got, torch.tensor([20.0], dtype=torch.float64))
    torch.testing.assert_close(got_k, torch.tensor([6.0], dtype=torch.float64))


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x, y: input_jacobian_norms(m, x),
        lambda m, x, y: robust_accuracy(m, x, y, 0.1),
        lambda m, x, y: certified_accuracy(m, x, y, 0.1),
    ],
    ids=["jacobian", "robust", "certified"],
)
def test_errors_name_the_argument(call):
    """Each bad argument raises an error whose message starts with its name (so a mangled name
    fails), and the allowed ranks are exactly 2 to 7."""
    lin = nn.Sequential(nn.Flatten(), nn.Linear(2, 2))
    x, y = torch.zeros(3, 2), torch.zeros(3, dtype=torch.long)
    with pytest.raises(TypeError, match=r"^model must be a torch\.nn\.Module, got object"):
        call(object(), x, y)
    with pytest.raises(ValueError, match=r"^x must have shape \(n, \.\.\.\), got shape \(3,\)"):
        call(lin, torch.zeros(3), y)
    with pytest.raises(ValueError, match=r"^x must have shape \(n, \.\.\.\)"):
        call(lin, torch.zeros((3,) + (1,) * 6 + (2,)), y)  # 8 dimensions
    with pytest.raises(ValueError, match=r"^x must have shape \(n, \.\.\.\), got shape \(\)"):
        call(lin, torch.tensor(1.0), y)  # 0 dimensions: no rows to count
    with pytest.raises(ValueError, match=r"^x must be non-empty"):
        call(lin, torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^x must be finite"):
        call(lin, torch.full((3, 2), float("nan")), y)
    # 7 dimensions are allowed
    x7 = torch.zeros((3,) + (1,) * 5 + (2,))
    assert call(lin, x7, y) is not None


@pytest.mark.parametrize("acc", [robust_accuracy, certified_accuracy])
def test_label_and_radius_errors(acc):
    """Labels must be a tensor of n entries, the radius >= 0: messages start with the name."""
    lin = nn.Linear(2, 2)
    x = torch.zeros(3, 2)
    msg = r"^y must be a tensor of 3 class indices, shape \(3,\)"
    with pytest.raises(ValueError, match=msg):
        acc(lin, x, [0, 1, 0], 0.1)
    with pytest.raises(ValueError, match=msg):
        acc(lin, x, torch.zeros(2, dtype=torch.long), 0.1)
    with pytest.raises(ValueError, match=msg):
        acc(lin, x, torch.zeros(3, 1, dtype=torch.long), 0.1)
    with pytest.raises(ValueError, match=r"^eps must be >= 0"):
        acc(lin, x, torch.zeros(3, dtype=torch.long), -0.1)


def test_robust_accuracy_argument_errors():
    """``norm`` and ``steps`` are checked by name; one step is allowed."""
    lin = nn.Linear(2, 2)
    x, y = torch.zeros(3, 2), torch.zeros(3, dtype=torch.long)
    with pytest.raises(ValueError, match=r"^norm must be one of \['l2', 'linf'\]"):
        robust_accuracy(lin, x, y, 0.1, norm="l1")
    with pytest.raises(ValueError, match=r"^steps must be >= 1, got 0"):
        robust_accuracy(lin, x, y, 0.1, steps=0)
    with pytest.raises(TypeError, match=r"^steps must be an integer"):
        robust_accuracy(lin, x, y, 0.1, steps=1.5)
    assert 0.0 <= robust_accuracy(lin, x, y, 0.1, steps=1) <= 1.0
    # without an attack (eps = 0) the arguments are still checked
    with pytest.raises(ValueError, match=r"^x must have shape \(n, \.\.\.\)"):
        robust_accuracy(
            nn.Sequential(nn.Flatten(), lin), torch.zeros((3,) + (1,) * 6 + (2,)), y, 0.0
        )
    with pytest.raises(ValueError, match=r"^steps must be >= 1, got 0"):
        robust_accuracy(lin, x, y, 0.0, steps=0)
    with pytest.raises(ValueError, match=r"^norm must be one of"):
        robust_accuracy(lin, x, y, 0.0, norm="l1")


# ----------------------------------------------------------------------------- accuracies


def _margin_case():
    """Three rows of a linear 3-class model with logits (1, 0.5, -1), (1, 0.5, -1), (0, 2, 0)."""
    W = [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]
    x = torch.tensor([[1.0, 0.5], [1.0, 0.5], [0.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([0, 1, 1])
    return _linear(W), x, y


def test_certified_accuracy_by_hand_with_a_tie():
    """For one linear layer interval bounds are exact: row i is certified iff
    w_y x + b_y - eps ||w_y||_1 > max_k (w_k x + b_k + eps ||w_k||_1). Row 1 (margin 0.5, all
    ||w_k||_1 = 1) is certified for eps < 0.25 and *not* at eps = 0.25 (a tie, strict >); row
    2 is misclassified; row 3 (margin 2) is certified for eps < 1. Rejects >= for >, a wrong
    fill of the label's own column, and a gather of the wrong column."""
    model, x, y = _margin_case()
    assert certified_accuracy(model, x, y, 0.0) == pytest.approx(2 / 3)
    assert certified_accuracy(model, x, y, 0.125) == pytest.approx(2 / 3)
    assert certified_accuracy(model, x, y, 0.25) == pytest.approx(1 / 3)
    assert certified_accuracy(model, x, y, 0.5) == pytest.approx(1 / 3)
    assert certified_accuracy(model, x, y, 1.0) == 0.0


def test_certified_accuracy_of_exactly_tied_logits_is_zero():
    """Two equal logits certify nothing, even at eps = 0 (argmax would pick the first)."""
    model = _linear([[1.0, 1.0], [1.0, 1.0]], [0.0, 0.0])
    x = torch.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)
    assert certified_accuracy(model, x, torch.tensor([0, 0]), 0.0) == 0.0


def test_certified_accuracy_takes_float_labels():
    """Labels given as floats (0., 1.) are class indices too: the answer is the same."""
    model, x, y = _margin_case()
    assert certified_accuracy(model, x, y.double(), 0.125) == certified_accuracy(model, x, y, 0.125)
    assert robust_accuracy(model, x, y.double(), 0.125) == robust_accuracy(model, x, y, 0.125)


def test_robust_accuracy_of_a_linear_model_by_hand():
    """An l_inf attack on a linear model reaches the corner: row 1 (margin 0.5 against class 1,
    ||w_0 - w_1||_1 = 2) falls at eps = 0.3 > 0.25, row 3 (margin 2) holds, row 2 is wrong
    already. At eps = 0 the answer is the clean accuracy. Rejects skipping the attack for small
    radii (eps > 1 for eps > 0)."""
    model, x, y = _margin_case()
    assert robust_accuracy(model, x, y, 0.0) == pytest.approx(2 / 3)
    assert robust_accuracy(model, x, y, 0.2) == pytest.approx(2 / 3)
    assert robust_accuracy(model, x, y, 0.3) == pytest.approx(1 / 3)
    assert robust_accuracy(model, x, y, 1.2) == 0.0


def test_robust_accuracy_default_norm_is_linf():
    """w = (1, ..., 1) in 16 dimensions, margin 1: the l_inf ball of radius 0.1 moves the margin
    by 1.6 (the row falls), the l2 ball by 0.4 (it holds). The default must be l_inf."""
    W = torch.zeros(2, 16, dtype=torch.float64)
    W[1] = 1.0
    model = _linear(W, [0.0, -1.0])  # logits (0, sum(x) - 1)
    x = torch.full((1, 16), 2.0 / 16, dtype=torch.float64)  # sum(x) - 1 = 1 > 0: class 1
    y = torch.tensor([1])
    assert robust_accuracy(model, x, y, 0.1, norm="l2") == 1.0
    assert robust_accuracy(model, x, y, 0.1, norm="linf") == 0.0
    assert robust_accuracy(model, x, y, 0.1) == 0.0


def test_robust_accuracy_counts_clean_errors_even_if_the_attack_fixes_them():
    """Rows misclassified at x count as errors: the Step model has zero input gradient, so PGD
    returns its random start, and about half of the wrong rows at x_0 = -0.001 land at x_0 > 0
    where they are right. The answer must stay 0 (an `or` of clean and attacked, or the
    attacked alone, would give about 1/2)."""
    x = torch.full((64, 2), -1e-3, dtype=torch.float64)
    y = torch.ones(64, dtype=torch.long)
    assert robust_accuracy(Step(), x, y, 0.5) == 0.0


def test_robust_accuracy_defaults_are_the_documented_ones():
    """Default steps=20 and seed=0: the same forward passes and the same random start as the
    explicit call (the Step model counts its calls, and its answer depends only on the start)."""
    x = torch.full((64, 2), 1e-3, dtype=torch.float64)
    y = torch.ones(64, dtype=torch.long)
    counts, answers = [], []
    for kwargs in ({}, {"norm": "linf", "steps": 20, "seed": 0}, {"steps": 21}, {"seed": 1}):
        m = Step()
        answers.append(robust_accuracy(m, x, y, 0.5, **kwargs))
        counts.append(m.calls)
    assert counts[0] == counts[1] != counts[2]
    assert answers[0] == answers[1] != answers[3]
    assert 0.25 < answers[0] < 0.75  # the rows whose random start stays at x_0 > 0
