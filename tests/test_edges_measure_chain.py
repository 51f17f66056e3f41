"""Edges of the hand-differentiated chains (``dlt.measure._chain``): multipliers of exactly
two, activations at exactly zero, registry activations, and what is or is not a chain."""

import pytest
import torch
from references import loop_ntk as brute_ntk
from torch import nn

from dlt.measure._chain import reads, sequential_chain
from dlt.nets import MLP
from dlt.ntk import empirical_ntk

D = torch.float64


def close(a, b):
    return float((a - b).norm() / b.norm()) < 1e-10


@pytest.mark.parametrize("activation", ["relu", "erf", "tanh", "identity"])
@pytest.mark.parametrize("sigma_b", [0.0, 0.5, 2.0])
def test_mlp_chains_with_multipliers_of_exactly_two(activation, sigma_b):
    """``sigma_w = 4`` on widths 4 makes every weight multiplier exactly 2.0, and ``sigma_b``
    0.5 and 2.0 bias multipliers other than 1 (2.0 where ``2 m_b`` equals ``m_b^2``, 0.5
    where ``m_b^3`` differs): rejects a multiplier skipped or applied when it equals 2
    instead of when it differs from 1, a power of the bias multiplier other than 2, and an
    activation of the registry without a rule of its own (erf) left without one."""
    net = MLP([4, 4, 4, 2], activation=activation, sigma_w=4.0, sigma_b=sigma_b, seed=1, dtype=D)
    assert all(layer.weight_multiplier == 2.0 for layer in net.layers)
    g = torch.Generator().manual_seed(2)
    x1, x2 = torch.randn(3, 4, generator=g, dtype=D), torch.randn(2, 4, generator=g, dtype=D)
    ref = brute_ntk(net, x1, x2)
    assert close(empirical_ntk(net, x1, x2), ref)
    assert close(empirical_ntk(net, x1, x2, trace_outputs=True), torch.einsum("ijpp->ij", ref))


@pytest.mark.parametrize("act", [nn.LeakyReLU(0.1), nn.ReLU()])
def test_activations_at_exactly_zero_take_autograds_derivative(act):
    """Pre-activations exactly 0 (inputs orthogonal to a weight row, no bias): the derivative
    there is autograd's, the slope for LeakyReLU (``z > 0`` is 1, ``z = 0`` is not) and 0
    for ReLU. Rejects ``z >= 0`` for ``z > 0``."""
    model = nn.Sequential(nn.Linear(2, 3, bias=False), act, nn.Linear(3, 2)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, -1.0], [1.0, 1.0], [0.0, 1.0]]))
    x = torch.tensor([[1.0, 1.0], [2.0, 2.0], [1.0, -1.0], [3.0, 0.0]], dtype=D)
    assert (model[0](x) == 0).sum() >= 4
    assert close(empirical_ntk(model, x), brute_ntk(model, x, x))


def test_what_is_a_chain_at_its_boundaries():
    """A chain may hold an inactive Dropout (``p = 0`` even in training), a LeakyReLU of
    slope 0 (the excluded slopes are the negative ones), and ``Flatten()``; not a Flatten of
    other dimensions, nor a model without a dense layer."""
    lin = lambda: nn.Linear(4, 3)  # noqa: E731
    assert sequential_chain(nn.Sequential(lin(), nn.Dropout(0.0), nn.Tanh(), nn.Linear(3, 1)))
    assert sequential_chain(nn.Sequential(lin(), nn.LeakyReLU(0.0), nn.Linear(3, 1)))
    assert sequential_chain(nn.Sequential(nn.Flatten(2), nn.Linear(4, 1))) is None
    assert sequential_chain(nn.Sequential(nn.Flatten(1, 2), nn.Linear(4, 1))) is None
    assert sequential_chain(nn.Sequential(nn.Tanh(), nn.ReLU())) is None
    assert sequential_chain(nn.Sequential(nn.Dropout(0.0), nn.Flatten())) is None


def test_a_flatten_reads_inputs_of_any_rank():
    """After ``Flatten()`` every dense layer reads (n, d), whatever the inputs' rank; without
    it only 2-d inputs do."""
    chain = sequential_chain(nn.Sequential(nn.Flatten(), nn.Linear(12, 2)))
    assert all(reads(chain, ndim) for ndim in (2, 3, 4, 5))
    plain = sequential_chain(nn.Sequential(nn.Tanh(), nn.Linear(12, 2)))
    assert reads(plain, 2) and not any(reads(plain, ndim) for ndim in (3, 4))


def test_leaky_relu_of_slope_zero_and_inactive_dropout_equal_brute_force():
    """The chains above are not only accepted but differentiated right."""
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Linear(4, 5), nn.Dropout(0.0), nn.LeakyReLU(0.0), nn.Linear(5, 2), nn.Sigmoid()
    ).double()
    x = torch.randn(4, 4, dtype=D)
    assert close(empirical_ntk(model, x), brute_ntk(model, x, x))


def test_factors_come_in_the_order_of_the_layers():
    """``chain_factors`` gives each dense layer's factors in the order the layers apply (the
    inputs of layer 0 are ``x``, those of layer 1 the hidden activations), not reversed as
    the backward recursion meets them."""
    from dlt.measure._chain import chain_factors

    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3), nn.ReLU(), nn.Linear(3, 2))
    model = model.double()
    x = torch.randn(5, 4, dtype=D)
    factors = chain_factors(sequential_chain(model), x)
    assert [f[0].shape[-1] for f in factors] == [4, 6, 3]
    assert torch.equal(factors[0][0][:, 0, 0], x)
    assert [f[1].shape[-1] for f in factors] == [6, 3, 2]


def test_a_pointwise_module_carrying_a_parameter_is_not_a_chain():
    """A chain differentiates only its dense layers: a pointwise module holding a parameter
    of its own (here a frozen one, which ``plan`` lets through) is left to the hooks."""
    act = nn.Tanh()
    act.register_parameter("scale", nn.Parameter(torch.ones(1), requires_grad=False))
    assert sequential_chain(nn.Sequential(nn.Linear(4, 3), act, nn.Linear(3, 1))) is None
