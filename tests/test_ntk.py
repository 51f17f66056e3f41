import warnings

import pytest
import torch
from torch import nn

from dlt.nets import MLP
from dlt.ntk import empirical_ntk, kernel_distance, linearize


def _loop_ntk(model, x1, x2):
    """The naive reference: one backward pass per sample and output, Jacobians stacked."""

    def jac(x):
        rows = []
        for i in range(x.shape[0]):
            out = model(x[i : i + 1]).reshape(-1)
            for k in range(out.shape[0]):
                grads = torch.autograd.grad(out[k], list(model.parameters()), retain_graph=True)
                rows.append(torch.cat([g.reshape(-1) for g in grads]))
        return torch.stack(rows)

    j1, j2 = jac(x1), jac(x2)
    return j1 @ j2.T


def test_matches_per_sample_autograd_single_output():
    net = MLP([3, 8, 8, 1], sigma_b=0.5, seed=0, dtype=torch.float64)
    x1, x2 = torch.randn(5, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    assert torch.allclose(empirical_ntk(net, x1, x2), _loop_ntk(net, x1, x2))
    assert torch.allclose(empirical_ntk(net, x1), _loop_ntk(net, x1, x1))


def test_matches_per_sample_autograd_multi_output_and_batches():
    net = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2)).double()
    x1, x2 = torch.randn(5, 3, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64)
    theta = empirical_ntk(net, x1, x2, batch_size=2)
    ref = _loop_ntk(net, x1, x2).reshape(5, 2, 3, 2).permute(0, 2, 1, 3)
    assert theta.shape == (5, 3, 2, 2)
    assert torch.allclose(theta, ref)


def test_symmetric_and_psd():
    net = MLP([2, 32, 1], seed=1, dtype=torch.float64)
    theta = empirical_ntk(net, torch.randn(6, 2, dtype=torch.float64))
    assert torch.allclose(theta, theta.T)
    assert torch.linalg.eigvalsh(theta).min() > -1e-10


def test_errors():
    net = MLP([3, 8, 1], seed=0)
    with pytest.raises(ValueError, match="same number of features"):
        empirical_ntk(net, torch.randn(2, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match="x1 must have shape"):
        empirical_ntk(net, torch.randn(3))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        empirical_ntk(lambda x: x, torch.randn(2, 3))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        empirical_ntk(net, torch.randn(2, 3), batch_size=0)
    with pytest.raises(ValueError, match="same shape"):
        kernel_distance(torch.eye(2), torch.eye(3))


@pytest.mark.parametrize("method", ["structured", "jacobian"])
def test_an_input_the_model_cannot_read_is_named(method):
    """Inputs of the wrong width reach the model only inside the kernel computation; the error
    must still name the argument and the shape rather than surface from inside torch."""
    seq = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    with pytest.raises(ValueError, match=r"x1 of shape \(4, 5\) does not fit the model"):
        empirical_ntk(seq, torch.randn(4, 5), method=method)
    cnn = nn.Sequential(nn.Conv1d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(18, 1))
    with pytest.raises(ValueError, match=r"x1 of shape \(2, 3, 8\) does not fit the model"):
        empirical_ntk(cnn, torch.randn(2, 3, 8), method=method)
    net = MLP([3, 8, 1], seed=0)
    with pytest.raises(ValueError, match=r"x1 must have shape \(n, 3\)"):
        empirical_ntk(net, torch.randn(4, 5), method=method)


@pytest.mark.parametrize("method", ["structured", "jacobian"])
@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode])
def test_the_kernel_is_the_same_inside_no_grad_and_inference_mode(method, context):
    """Readers wrap evaluation in torch.no_grad() or torch.inference_mode(); the structured
    method runs a backward pass, which once failed there with "element 0 of tensors does not
    require grad" (the output was indexed after gradients were switched off again)."""
    seq = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    for net in (seq, MLP([3, 8, 1], seed=0, dtype=torch.float64)):
        x1 = torch.randn(5, 3, dtype=torch.float64)
        x2 = torch.randn(4, 3, dtype=torch.float64)
        ref = empirical_ntk(net, x1, x2, method=method)
        with context():
            a, b = x1.clone(), x2.clone()  # inference tensors under inference_mode
            theta = empirical_ntk(net, a, b, method=method)
        assert torch.allclose(theta, ref, rtol=1e-12, atol=1e-12)


def test_linearize_is_first_order_taylor():
    net = MLP([3, 16, 1], sigma_b=0.2, seed=0, dtype=torch.float64)
    lin = linearize(net)
    x = torch.randn(4, 3, dtype=torch.float64)
    assert torch.allclose(lin(x), net(x))
    # Move the parameters by delta: f_lin = f0 + J delta exactly.
    deltas = [1e-2 * torch.randn_like(p) for p in lin.params]
    with torch.no_grad():
        for p, d in zip(lin.params, deltas, strict=True):
            p.add_(d)
    jac = torch.autograd.functional.jacobian(
        lambda *ps: torch.func.functional_call(
            net, dict(zip([n for n, _ in net.named_parameters()], ps, strict=True)), (x,)
        ),
        tuple(net.parameters()),
    )
    jd = sum((j.reshape(4, -1) @ d.reshape(-1)) for j, d in zip(jac, deltas, strict=True))
    assert torch.allclose(lin(x)[:, 0], net(x)[:, 0] + jd)


def test_linearized_model_trains_with_autograd():
    net = MLP([3, 16, 1], seed=0)
    lin = linearize(net)
    x, y = torch.randn(8, 3), torch.randn(8)
    loss = ((lin(x)[:, 0] - y) ** 2).mean()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in lin.params)
    # The original network is untouched by training its linearization.
    assert all(p.grad is None for p in net.parameters())


@pytest.mark.parametrize("activation", ["tanh", "relu", "erf", "identity"])
@pytest.mark.parametrize("parameterization", ["ntk", "standard", "mup"])
@pytest.mark.parametrize("widths,sigma_b", [([3, 8, 8, 1], 0.5), ([3, 6, 2], 0.0), ([3, 1], 0.3)])
def test_structured_method_equals_jacobian_method(widths, sigma_b, parameterization, activation):
    """The MLP's layer view is differentiated by hand (dlt.measure._chain): a multiplier left
    out of the backward recursion (muP's and the NTK parameterization's differ per layer) or
    a wrong derivative would show against torch.func's Jacobians."""
    net = MLP(
        widths,
        activation=activation,
        parameterization=parameterization,
        sigma_b=sigma_b,
        seed=0,
        dtype=torch.float64,
    )
    x1, x2 = torch.randn(5, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    for args in [(x1,), (x1, x2)]:
        s = empirical_ntk(net, *args, method="structured")
        j = empirical_ntk(net, *args, method="jacobian")
        assert torch.allclose(s, j)


def test_structured_method_with_frozen_mlp_parameters():
    net = MLP([3, 8, 8, 2], sigma_b=0.5, seed=0, dtype=torch.float64)
    net.layers[0].weight.requires_grad_(False)
    net.layers[2].bias.requires_grad_(False)
    x = torch.randn(5, 3, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback: frozen parameters simply do not count
        s = empirical_ntk(net, x, method="structured")
    assert torch.allclose(s, empirical_ntk(net, x, method="jacobian"))


def test_structured_method_reads_linear_layers_and_falls_back_otherwise():
    from dlt.ntk import OutputScaled

    lin = nn.Linear(3, 1).double()
    x = torch.randn(4, 3, dtype=torch.float64)
    assert torch.allclose(empirical_ntk(lin, x, method="structured"), _loop_ntk(lin, x, x))
    scaled = OutputScaled(MLP([3, 8, 1], seed=0, dtype=torch.float64), alpha=2.0)
    with pytest.warns(UserWarning, match=r"'model.weights' \(ParameterList\)"):
        theta = empirical_ntk(scaled, x, method="structured")
    assert torch.allclose(theta, 4.0 * empirical_ntk(scaled.model, x))


def test_output_scaled_starts_at_zero_and_scales():
    from dlt.ntk import OutputScaled

    net = MLP([3, 16, 1], seed=0, dtype=torch.float64)
    x = torch.randn(4, 3, dtype=torch.float64)
    scaled = OutputScaled(net, alpha=3.0)
    assert torch.allclose(scaled(x), torch.zeros(4, 1, dtype=torch.float64))
    # Its tangent kernel is alpha^2 times the network's.
    assert torch.allclose(empirical_ntk(scaled, x, method="jacobian"), 9.0 * empirical_ntk(net, x))
    with pytest.raises(ValueError, match="alpha must be > 0"):
        OutputScaled(net, alpha=0.0)
