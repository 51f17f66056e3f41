"""Edges of :mod:`dlt.measure.features`: the inputs where a naive version would differ.

A network with exactly one hidden layer or none, the first hidden layer named by a negative
index, float32 inputs against a float64 network (and a float32 initial network), an initial
network of another input width, and the exact error messages. The networks are tiny, with
weights set by hand, so every expected value is computed in the test.
"""

import math

import pytest
import torch
from torch import nn

from dlt.measure.features import (
    coordinate_sizes,
    feature_movement,
    hidden_features,
    weight_alignment,
)
from dlt.nets import MLP

f64 = torch.float64


def _net(*weights, dtype=f64):
    """A bias-free standard-parameterization ReLU MLP (weight multipliers 1) with given weights."""
    ws = [torch.as_tensor(w, dtype=dtype) for w in weights]
    widths = [ws[0].shape[1], *(w.shape[0] for w in ws)]
    net = MLP(widths, parameterization="standard", seed=0, dtype=dtype)
    assert all(la.weight_multiplier == 1.0 and la.bias is None for la in net.layers)
    with torch.no_grad():
        for p, w in zip(net.weights, ws, strict=True):
            p.copy_(w)
    return net


W1 = [[1.0, -1.0], [2.0, 0.0]]  # x = (1, 2): z = (-1, 2), relu (0, 2)
W2 = [[1.0, 1.0], [0.0, -1.0], [3.0, 0.0]]  # on (0, 2): z = (2, -2, 0), relu (2, 0, 0)
X = [[1.0, 2.0]]


# hidden_features


def test_one_hidden_layer_is_enough():
    """A network with exactly one hidden layer has hidden features ``relu(x W1^T)``, for
    ``layer`` -1 and 0: an off-by-one check (``n_hidden <= 1``) refuses it."""
    net = _net(W1, [[1.0, 1.0]])
    for layer in (-1, 0):
        h = hidden_features(net, torch.tensor(X, dtype=f64), layer)
        assert h.tolist() == [[0.0, 2.0]]


def test_negative_layer_down_to_minus_the_number_of_hidden_layers():
    """``layer = -n_hidden`` is the first hidden layer (Python indexing, the documented range
    ``[-n_hidden, n_hidden - 1]``): a strict lower bound refuses it."""
    net = _net(W1, W2, [[1.0, 1.0, 1.0]])
    x = torch.tensor(X, dtype=f64)
    assert hidden_features(net, x, -2).tolist() == [[0.0, 2.0]]
    assert hidden_features(net, x, -1).tolist() == [[2.0, 0.0, 0.0]]
    assert hidden_features(net, x, 1).tolist() == [[2.0, 0.0, 0.0]]


@pytest.mark.parametrize("layer", [2, -3])
def test_layer_out_of_range_message_gives_the_range(layer):
    """Out of range, the message names ``layer`` and the exact valid range [-2, 1] for two
    hidden layers."""
    net = _net(W1, W2, [[1.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match=rf"^layer must be in \[-2, 1\], got {layer}$"):
        hidden_features(net, torch.tensor(X, dtype=f64), layer)


def test_a_network_without_hidden_layer_is_refused_by_name():
    """A network with no hidden layer (widths ``[2, 1]``) has no hidden features for any
    ``layer``: the message blames the model, not ``layer`` with an empty range "[-0, -1]"."""
    with pytest.raises(ValueError, match=r"^model must have at least one hidden layer"):
        hidden_features(_net([[1.0, 1.0]]), torch.tensor(X, dtype=f64))


def test_float32_inputs_give_features_in_the_models_dtype():
    """Float32 (or integer) ``x`` is cast to the float64 network's dtype ("in the model's
    dtype"): a version that leaves ``x`` as it comes fails on mixed dtypes in the matmul."""
    net = _net(W1, [[1.0, 1.0]])
    for x in (torch.tensor(X, dtype=torch.float32), torch.tensor([[1, 2]])):
        h = hidden_features(net, x)
        assert h.dtype == f64 and h.tolist() == [[0.0, 2.0]]


def test_a_model_without_layer_view_is_refused_by_name():
    """A module without a layer view is refused with a TypeError naming the argument
    (``model``; ``initial`` for the initial network) and the type it got."""
    msg = r"must be a network with a layer view \(dlt\.nets\.MLP\), got Linear$"
    with pytest.raises(TypeError, match=r"^model " + msg):
        hidden_features(nn.Linear(2, 1), torch.ones(3, 2))
    net = _net(W1, [[1.0, 1.0]])
    with pytest.raises(TypeError, match=r"^initial " + msg):
        coordinate_sizes(net, torch.ones(3, 2, dtype=f64), nn.Linear(2, 1))


# coordinate_sizes


def test_coordinate_sizes_of_a_network_without_hidden_layer():
    """Widths ``[2, 1]`` (L = 0): one size, the output's. Hand computation with W = (1, 2),
    W0 = (1, 0), x = (1, 1), (0, 3): z = (3, 6), rms sqrt(22.5); z - z0 = (2, 6), rms
    sqrt(20). A version that reads the initial network's second layer fails on it."""
    net, net0 = _net([[1.0, 2.0]]), _net([[1.0, 0.0]])
    x = torch.tensor([[1.0, 1.0], [0.0, 3.0]], dtype=f64)
    assert coordinate_sizes(net, x).tolist() == pytest.approx([math.sqrt(22.5)], rel=1e-15)
    assert coordinate_sizes(net, x, net0).tolist() == pytest.approx([math.sqrt(20)], rel=1e-15)


def test_float32_initial_network_against_a_float64_one():
    """An initial network in float32 (a float64 network trained from a float32 copy) is fed
    ``x`` in its own dtype, and the sizes come in float64: a version that passes the float64
    ``x`` to it fails on mixed dtypes. Same hand computation as above."""
    net, net0 = _net([[1.0, 2.0]]), _net([[1.0, 0.0]], dtype=torch.float32)
    x = torch.tensor([[1.0, 1.0], [0.0, 3.0]], dtype=f64)
    sizes = coordinate_sizes(net, x, net0)
    assert sizes.dtype == f64
    assert sizes.tolist() == pytest.approx([math.sqrt(20)], rel=1e-15)


@pytest.mark.parametrize(
    "widths", [[3, 2, 1], [2, 3, 1], [2, 2, 2], [2, 2, 2, 1]], ids=["d", "width", "out", "depth"]
)
def test_an_initial_network_of_another_shape_is_refused_by_name(widths):
    """An initial network that differs in any layer's shape, the input width included, is
    refused with the documented ValueError before it runs (a different input width used to
    fail in torch's matmul with a RuntimeError that named neither argument)."""
    net = MLP([2, 2, 1], seed=0, dtype=f64)
    with pytest.raises(ValueError, match=r"^initial must have the same architecture as model$"):
        coordinate_sizes(net, torch.ones(3, 2, dtype=f64), MLP(widths, seed=0, dtype=f64))


# feature_movement and weight_alignment


def test_feature_movement_zero_initial_message():
    """An all-zero initial representation is refused with the documented message."""
    with pytest.raises(ValueError, match=r"^initial must not be all zero$"):
        feature_movement(torch.ones(2, 2), torch.zeros(2, 2))


def test_weight_alignment_messages():
    """A direction of the wrong length is refused naming ``direction`` and both lengths; a zero
    row or a zero direction with the documented message."""
    with pytest.raises(
        ValueError, match=r"^direction must have length 3 to match the inputs, got 2$"
    ):
        weight_alignment(torch.ones(4, 3), torch.ones(2))
    msg = r"^weight rows and direction must have nonzero norm$"
    with pytest.raises(ValueError, match=msg):
        weight_alignment(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.ones(2))
    with pytest.raises(ValueError, match=msg):
        weight_alignment(torch.ones(2, 2), torch.zeros(2))
