"""Parameterizations as data: the table's numbers, the equivalences they imply, and the
feature-learning behaviour that tells NTK from muP."""

import math

import pytest
import torch

from dlt.nets import MLP, PARAMETERIZATIONS, layer_scales
from dlt.ntk import empirical_ntk
from dlt.train import fit


def test_table_rows_by_hand():
    d, n, k, sw, sb = 4, 100, 1, 2.0, 0.5
    std = layer_scales("standard", [d, n, n, k], sw, sb)
    assert [s.weight_std for s in std] == pytest.approx([sw / math.sqrt(d), sw / 10, sw / 10])
    assert {s.weight_multiplier for s in std} == {1.0} and {s.bias_std for s in std} == {sb}
    ntk = layer_scales("ntk", [d, n, n, k], sw, sb)
    assert [s.weight_multiplier for s in ntk] == pytest.approx([sw / 2, sw / 10, sw / 10])
    assert {s.weight_std for s in ntk} == {1.0} and {s.bias_multiplier for s in ntk} == {sb}
    mup = layer_scales("mup", [d, n, n, k], sw, sb)  # Tensor Programs V, Table 3 (SGD)
    assert [s.weight_std for s in mup] == pytest.approx([sw / 2, sw / 10, sw / n])
    assert [s.weight_lr_scale for s in mup] == pytest.approx([n, 1.0, 1 / n])
    mf = layer_scales("mean_field", [d, n, k], sw)
    assert [s.weight_multiplier for s in mf] == pytest.approx([1.0, sw / n])
    assert [s.weight_lr_scale for s in mf] == pytest.approx([n, n])


def test_mean_field_is_one_hidden_layer_only():
    with pytest.raises(ValueError, match="one hidden layer"):
        layer_scales("mean_field", [3, 8, 8, 1])
    assert set(PARAMETERIZATIONS) == {"standard", "ntk", "mean_field", "mup"}


def test_ntk_and_standard_compute_the_same_function_at_init():
    x = torch.randn(7, 3, dtype=torch.float64)
    a = MLP(
        [3, 32, 32, 1],
        parameterization="ntk",
        sigma_w=1.4,
        sigma_b=0.3,
        seed=5,
        dtype=torch.float64,
    )
    b = MLP(
        [3, 32, 32, 1],
        parameterization="standard",
        sigma_w=1.4,
        sigma_b=0.3,
        seed=5,
        dtype=torch.float64,
    )
    torch.testing.assert_close(a(x), b(x))


def test_mean_field_and_mup_train_identically():
    """Same m*s and r*m^2 at every layer (sigma_w = 1): same function and same SGD path."""
    x, y = torch.randn(16, 3, dtype=torch.float64), torch.randn(16, dtype=torch.float64)
    nets = [
        MLP([3, 64, 1], parameterization=p, seed=2, dtype=torch.float64)
        for p in ("mean_field", "mup")
    ]
    torch.testing.assert_close(nets[0](x), nets[1](x))
    hist = [fit(net, x, y, lr=0.05, steps=30, record_every=10) for net in nets]
    torch.testing.assert_close(nets[0](x), nets[1](x))
    assert hist[0].train_loss == pytest.approx(hist[1].train_loss, rel=1e-10)
    assert hist[0].train_loss[-1] < 0.9 * hist[0].train_loss[0]  # it did train


def test_param_groups_carry_the_lr_scales():
    net = MLP([3, 50, 50, 1], parameterization="mup", sigma_b=0.1, seed=0)
    groups = net.param_groups(0.1)
    assert [g["lr"] for g in groups] == pytest.approx([5.0, 5.0, 0.1, 5.0, 0.1 / 50, 0.1])


@pytest.mark.parametrize("param", sorted(PARAMETERIZATIONS))
def test_structured_ntk_reads_the_layer_view(param):
    widths = [3, 16, 1] if param == "mean_field" else [3, 16, 16, 2]
    sb = 0.0 if param == "mean_field" else 0.2
    net = MLP(widths, parameterization=param, sigma_b=sb, seed=1, dtype=torch.float64)
    x1, x2 = torch.randn(5, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    torch.testing.assert_close(
        empirical_ntk(net, x1, x2, method="structured"),
        empirical_ntk(net, x1, x2, method="jacobian"),
    )


def _feature_movement(param: str, width: int) -> float:
    """Relative change of the hidden pre-activations after a few SGD steps on a fixed task."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 8, generator=g, dtype=torch.float64)
    y = torch.relu(x[:, 0]) - 0.4
    net = MLP([8, width, 1], parameterization=param, seed=3, dtype=torch.float64)
    h0 = net.layers[0].preactivation(x).detach()
    fit(net, x, y, lr=0.5, steps=20)
    h1 = net.layers[0].preactivation(x).detach()
    return float((h1 - h0).norm() / h0.norm())


def test_ntk_features_freeze_and_mup_features_move():
    """NTK: movement ~ width^-1/2 (16x width: ~4x less); muP: width-independent (Yang and Hu 2021)."""
    ntk_ratio = _feature_movement("ntk", 64) / _feature_movement("ntk", 1024)
    mup_ratio = _feature_movement("mup", 64) / _feature_movement("mup", 1024)
    assert 2.5 < ntk_ratio < 6.5, ntk_ratio
    assert 0.6 < mup_ratio < 1.6, mup_ratio


def test_a_parameterization_added_to_the_registry_after_import_is_accepted():
    """Parameterizations are data: a chapter adds a row (chapter 4's muP with an NTK readout)
    and MLP must accept it, so its argument check reads the registry at call time."""
    from dlt.nets import MLP
    from dlt.nets.parameterization import PARAMETERIZATIONS

    PARAMETERIZATIONS["test_mup_ntk_readout"] = {
        **PARAMETERIZATIONS["mup"],
        "output": PARAMETERIZATIONS["ntk"]["output"],
    }
    try:
        net = MLP([3, 8, 1], parameterization="test_mup_ntk_readout", seed=0)
        assert net(torch.zeros(2, 3)).shape == (2, 1)
    finally:
        del PARAMETERIZATIONS["test_mup_ntk_readout"]
    with pytest.raises(ValueError, match="parameterization"):
        MLP([3, 8, 1], parameterization="test_mup_ntk_readout", seed=0)
