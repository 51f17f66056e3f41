"""Feature learning: the single-index teacher, feature movement, alignment, coordinate sizes."""

import copy
import math

import pytest
import torch

from dlt import feature_learning as fl
from dlt.nets import MLP
from dlt.train import fit


def test_single_index_closed_form_and_shared_direction():
    a = fl.single_index(20_000, 6, seed=0, dtype=torch.float64)
    b = fl.single_index(10, 6, seed=1, dtype=torch.float64)
    assert torch.equal(a.beta, b.beta)  # the direction comes from teacher_seed alone
    assert torch.allclose(a.y, torch.relu(a.X @ a.beta) - 0.4)
    # E relu(g) = 1/sqrt(2 pi): the default offset nearly centres the target
    assert abs(a.y.mean().item() - (1 / math.sqrt(2 * math.pi) - 0.4)) < 0.02


def test_single_index_refuses_bad_sizes():
    with pytest.raises(ValueError, match="dim"):
        fl.single_index(10, 0)
    with pytest.raises(ValueError, match="noise"):
        fl.single_index(10, 3, noise=-1.0)
    with pytest.raises(ValueError, match="offset"):
        fl.single_index(10, 3, offset=float("nan"))


def test_random_alignment_closed_form_and_monte_carlo():
    assert fl.random_alignment(1) == pytest.approx(1.0, abs=1e-12)
    assert fl.random_alignment(2) == pytest.approx(2 / math.pi, abs=1e-12)
    assert fl.random_alignment(3) == pytest.approx(0.5, abs=1e-12)  # uniform cos on the 2-sphere
    w = torch.randn(200_000, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mc = fl.weight_alignment(w, torch.eye(20, dtype=torch.float64)[0])
    assert mc == pytest.approx(fl.random_alignment(20), abs=2e-3)
    assert fl.random_alignment(10_000) == pytest.approx(math.sqrt(2 / (math.pi * 10_000)), rel=1e-3)
    with pytest.raises(ValueError, match="dim"):
        fl.random_alignment(0)


def test_weight_alignment_by_hand():
    w = torch.tensor([[1.0, 0.0], [0.0, 3.0], [1.0, -1.0]])
    assert fl.weight_alignment(w, torch.tensor([0.0, -2.0])) == pytest.approx(
        (0 + 1 + 1 / math.sqrt(2)) / 3
    )
    with pytest.raises(ValueError, match="direction"):
        fl.weight_alignment(w, torch.ones(3))
    with pytest.raises(ValueError, match="nonzero"):
        fl.weight_alignment(torch.zeros(2, 2), torch.ones(2))


def test_feature_movement_by_hand_and_errors():
    h0 = torch.tensor([[1.0, 2.0], [2.0, 0.0]])
    assert fl.feature_movement(h0 * 1.5, h0) == pytest.approx(0.5)
    assert fl.feature_movement(h0, h0) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        fl.feature_movement(h0, h0[:1])
    with pytest.raises(ValueError, match="initial"):
        fl.feature_movement(h0, torch.zeros(2, 2))


def test_hidden_features_equal_the_forward_pass():
    net = MLP([3, 8, 5, 1], parameterization="mup", seed=0, dtype=torch.float64)
    x = torch.randn(4, 3, dtype=torch.float64)
    h1 = torch.relu(x @ net.weights[0].T * net.layers[0].weight_multiplier)
    assert torch.allclose(fl.hidden_features(net, x, 0), h1)
    h2 = torch.relu(h1 @ net.weights[1].T * net.layers[1].weight_multiplier)
    assert torch.allclose(fl.hidden_features(net, x), h2)
    with pytest.raises(ValueError, match="layer"):
        fl.hidden_features(net, x, 2)
    with pytest.raises(ValueError, match="x must have shape"):
        fl.hidden_features(net, torch.ones(4, 2))
    with pytest.raises(TypeError, match="model"):
        fl.hidden_features(torch.nn.Linear(3, 1), x)


def test_coordinate_sizes_by_hand():
    net = MLP([2, 4, 1], parameterization="standard", seed=0, dtype=torch.float64)
    x = torch.randn(5, 2, dtype=torch.float64)
    z1 = x @ net.weights[0].T
    out = net(x)
    sizes = fl.coordinate_sizes(net, x)
    assert torch.allclose(sizes, torch.stack([z1.pow(2).mean().sqrt(), out.pow(2).mean().sqrt()]))
    assert torch.equal(
        fl.coordinate_sizes(net, x, copy.deepcopy(net)), torch.zeros(2, dtype=torch.float64)
    )
    with pytest.raises(ValueError, match="same architecture"):
        fl.coordinate_sizes(net, x, MLP([2, 8, 1], seed=0, dtype=torch.float64))


def test_mup_coordinates_do_not_grow_with_width_but_standard_readout_does():
    """The coordinate check itself: after a few steps, muP's changes are width-independent."""
    x, y, _ = fl.single_index(64, 5, seed=0)
    changes = {}
    for par in ("mup", "standard"):
        for m in (64, 1024):
            net = MLP([5, m, m, 1], parameterization=par, seed=m)
            net0 = copy.deepcopy(net)
            fit(net, x, y, lr=0.01, steps=3)
            changes[par, m] = fl.coordinate_sizes(net, x, net0)
    ratio_mup = changes["mup", 1024] / changes["mup", 64]
    assert bool(((ratio_mup > 0.5) & (ratio_mup < 2.0)).all())
    assert changes["standard", 1024][-1] > 4 * changes["standard", 64][-1]
