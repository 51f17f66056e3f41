"""Edges of :mod:`dlt.measure.complexity`: the inputs where a naive version would differ.

One-output classifiers with an output exactly 0 (the sign rule), one-sample batches, float32
inputs to a float64 model, label shapes that broadcast silently, biases with a multiplier
other than 1, a single linear layer, and the exact error messages. Each expected value is
computed by hand in the test.
"""

import math

import pytest
import torch
from torch import nn

from dlt.measure.complexity import (
    _errors,
    distance_from_init,
    path_norm,
    spectral_norm_product,
    zero_one_error,
)
from dlt.nets import MLP

f64 = torch.float64


def _linear(weight, bias=None):
    """An ``nn.Linear`` in float64 with the given weight (and bias)."""
    w = torch.as_tensor(weight, dtype=f64)
    lin = nn.Linear(w.shape[1], w.shape[0], bias=bias is not None).double()
    with torch.no_grad():
        lin.weight.copy_(w)
        if bias is not None:
            lin.bias.copy_(torch.as_tensor(bias, dtype=f64))
    return lin


# zero_one_error and its shared helpers


def test_one_output_predicts_by_the_strict_sign_of_the_output():
    """With one output the prediction is ``1[f(x) > 0]``: an output exactly 0 is class 0 and
    0.5 is class 1. A version that tests ``>= 0``, ``> 1``, reads a second output column, or
    takes the argmax of the single column (always 0) misclassifies some of these."""
    net = _linear([[1.0, 0.0]])  # f(x) = x_0
    X = torch.tensor([[-1.0, 3.0], [0.0, 3.0], [0.5, 3.0], [2.0, 3.0]], dtype=f64)
    assert zero_one_error(net, X, torch.tensor([0, 0, 1, 1])) == 0.0
    assert zero_one_error(net, X, torch.tensor([1, 1, 0, 0])) == 1.0
    assert zero_one_error(net, X, torch.tensor([0, 1, 1, 1])) == 0.25  # 0 is not positive


def test_one_sample_with_two_outputs_uses_the_argmax():
    """One sample (n = 1) with two outputs is classified by the argmax, not by the sign of the
    first output: a version that picks the rule from the number of samples instead of the
    number of outputs says class 0 for outputs (-1, 2)."""
    net = _linear([[-1.0, 0.0], [0.0, 2.0]])
    X = torch.tensor([[1.0, 1.0]], dtype=f64)  # outputs (-1, 2): argmax 1
    assert zero_one_error(net, X, torch.tensor([1])) == 0.0
    assert zero_one_error(net, X, torch.tensor([0])) == 1.0


def test_errors_of_a_batch_of_draws_are_per_draw():
    """``_errors`` (shared with :func:`dlt.measure.perturbation.posterior_errors`) takes
    outputs ``(..., n, k)`` and returns one error per leading index: the argmax runs over the
    last axis (outputs), the mean over samples, and one output means the sign rule even with a
    leading axis. Hand-built (2 draws, 3 samples) outputs."""
    y = torch.tensor([0, 1, 1])
    two = torch.tensor(
        [
            [[2.0, 1.0], [0.0, 1.0], [0.0, 3.0]],  # predictions 0, 1, 1: no error
            [[0.0, 1.0], [1.0, 0.0], [5.0, 3.0]],  # predictions 1, 0, 0: three errors
        ],
        dtype=f64,
    )
    torch.testing.assert_close(_errors(two, y), torch.tensor([0.0, 1.0], dtype=f64))
    one = torch.tensor([[[-1.0], [2.0], [0.5]], [[1.0], [-2.0], [0.0]]], dtype=f64)
    torch.testing.assert_close(_errors(one, y), torch.tensor([0.0, 1.0], dtype=f64))


def test_float32_inputs_are_cast_to_the_models_dtype():
    """``X`` in float32 (or integers) is cast to the model's float64 parameters: a version that
    leaves ``X`` as it comes fails in the forward pass on mixed dtypes."""
    net = _linear([[1.0, -1.0], [-1.0, 1.0]])
    y = torch.tensor([0, 1, 1])
    X = torch.tensor([[2.0, 1.0], [1.0, 2.0], [3.0, 1.0]])
    assert zero_one_error(net, X.float(), y) == pytest.approx(1 / 3)
    assert zero_one_error(net, X.long(), y) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (
            torch.zeros(3, 3, dtype=torch.long),
            r"^y must have shape \(3,\) to match X, got \(3, 3\)$",
        ),
        (torch.zeros(4, dtype=torch.long), r"^y must have shape \(3,\) to match X, got \(4,\)$"),
        (torch.zeros(2, dtype=torch.long), r"^y must have shape \(3,\) to match X, got \(2,\)$"),
        (torch.zeros(4), r"^y must have length 3 to match the inputs, got 4$"),
        (torch.zeros(3, 2), r"^y must have shape \(n,\), got shape \(3, 2\)$"),
        (torch.tensor([0.0, float("nan"), 1.0]), r"^y must be finite, got 1 NaN entries$"),
    ],
)
def test_label_shapes_that_do_not_match_are_refused_by_name(y, message):
    """Integer labels of shape (n, n) would broadcast silently against the (n,) predictions
    and give a wrong error rate, and labels of another length would fail deep in torch: both
    are refused with a message naming ``y``, the expected length (rows of X = 3, not its 2
    columns) and the shape got. Float labels are checked as a vector of length n, NaN
    included."""
    net = _linear([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=message):
        zero_one_error(net, torch.zeros(3, 2, dtype=f64), y)


# distance_from_init, spectral_norm_product, path_norm


def test_distance_from_init_shape_mismatch_message():
    """Models with different parameter shapes are refused with the documented message, from
    its start."""
    with pytest.raises(ValueError, match=r"^initial must have the parameter shapes of model$"):
        distance_from_init(nn.Linear(3, 2), nn.Linear(2, 3))


def test_no_dense_layer_message():
    """A model without a dense layer is refused with a message naming ``model``, from its
    start."""
    with pytest.raises(ValueError, match=r"^model must be a dlt MLP or contain nn.Linear layers$"):
        path_norm(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match=r"^model must be a dlt MLP or contain nn.Linear layers$"):
        spectral_norm_product(nn.ReLU())


def test_path_norm_of_one_linear_layer_is_its_frobenius_norm_with_bias():
    """A single ``nn.Linear`` (a stack of one layer) has path norm
    ``sqrt(sum w^2 + sum b^2)``: a version that reads the device or shape of a second layer
    fails on it. 3 x 2 weights 1..6, bias (1, 1, 1): sqrt(91 + 3)."""
    lin = _linear([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], bias=[1.0, 1.0, 1.0])
    assert path_norm(lin) == pytest.approx(math.sqrt(91 + 3), rel=1e-12)
    assert spectral_norm_product(_linear([[3.0, 0.0], [0.0, -5.0]])) == pytest.approx(5.0)


def test_path_norm_of_an_mlp_counts_biases_with_their_multiplier():
    """For a :class:`dlt.nets.MLP` the effective bias is ``bias_multiplier * b`` (NTK:
    ``sigma_b``). Hand computation for widths (1, 1, 1), NTK, sigma_w = 1 (weight multiplier
    1 / sqrt(1)), sigma_b = 0.5, w1 = 1, w2 = 2, b1 = 2, b2 = 4: effective biases 1 and 2,
    ``h1 = 1 * 1 + 1^2 = 2``, ``h2 = 4 * 2 + 2^2 = 12``, path norm sqrt(12). A version that
    drops the biases gives 2, one that divides by the multiplier gives sqrt(132)."""
    net = MLP([1, 1, 1], parameterization="ntk", sigma_w=1.0, sigma_b=0.5, seed=0, dtype=f64)
    assert [la.bias_multiplier for la in net.layers] == [0.5, 0.5]
    with torch.no_grad():
        net.weights[0].fill_(1.0)
        net.weights[1].fill_(2.0)
        net.biases[0].fill_(2.0)
        net.biases[1].fill_(4.0)
    assert path_norm(net) == pytest.approx(math.sqrt(12), rel=1e-12)
    assert spectral_norm_product(net) == pytest.approx(2.0, rel=1e-12)  # biases ignored
