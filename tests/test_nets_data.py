import math

import pytest
import torch

from dlt import data
from dlt.nets import MLP


def test_mlp_shapes_depth_and_repr():
    net = MLP([3, 16, 16, 2], sigma_b=0.1, seed=0)
    assert net(torch.randn(5, 3)).shape == (5, 2)
    assert net.depth == 2
    assert "parameterization='ntk'" in repr(net)


def test_parameterizations_agree_in_distribution():
    x = data.sphere(3, 4, seed=0)
    a = MLP([4, 64, 1], parameterization="ntk", sigma_w=1.3, seed=0).sample_outputs(x, 4000, seed=1)
    b = MLP([4, 64, 1], parameterization="standard", sigma_w=1.3, seed=0).sample_outputs(
        x, 4000, seed=1
    )
    # Same random numbers, same scaling: the two parameterizations compute the same function at init.
    assert torch.allclose(a, b, atol=1e-5)


def test_seed_reproducible():
    x = torch.randn(4, 3)
    assert torch.equal(MLP([3, 8, 1], seed=3)(x), MLP([3, 8, 1], seed=3)(x))


def test_sample_outputs_matches_forward_of_sampled_module():
    net = MLP([2, 8, 1], sigma_b=0.5, seed=0)
    x = torch.randn(3, 2)
    w, b = net.sample_parameters(1, seed=7)
    out = net.apply_params(w, b, x)[0]
    with torch.no_grad():
        for p, q in zip(net.weights, w, strict=True):
            p.copy_(q[0])
        for p, q in zip(net.biases, b, strict=True):
            p.copy_(q[0])
    assert torch.allclose(net(x), out)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(widths=[3]), "widths must be a sequence"),
        (dict(widths=[3, 0, 1]), r"widths\[1\] must be >= 1"),
        (dict(widths=[3, 4, 1], activation="gelu"), "activation must be one of"),
        (dict(widths=[3, 4, 1], parameterization="muP"), "parameterization must be one of"),
        (dict(widths=[3, 4, 1], sigma_w=-1), "sigma_w must be > 0"),
    ],
)
def test_mlp_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


def test_forward_rejects_wrong_input_width():
    with pytest.raises(ValueError, match=r"x must have shape \(n, 3\)"):
        MLP([3, 4, 1], seed=0)(torch.randn(2, 5))


def test_standard_ntk_is_refused():
    with pytest.raises(ValueError, match="parameterization must be 'ntk'"):
        MLP([3, 4, 1], parameterization="standard").ntk(torch.randn(2, 3))


def test_sphere_circle_and_seeds():
    x = data.sphere(10, 5, radius=2.0, seed=1)
    assert torch.allclose(x.norm(dim=1), torch.full((10,), 2.0))
    assert torch.equal(x, data.sphere(10, 5, radius=2.0, seed=1))
    c = data.circle(4)
    assert torch.allclose(
        c, torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]), atol=1e-7
    )


def test_teacher_shares_ground_truth_across_seeds():
    x1, y1 = data.teacher_regression(2000, 4, seed=1)
    x2, y2 = data.teacher_regression(5, 4, seed=2)
    assert not torch.equal(x1[:5], x2)
    assert abs(float(y1.pow(2).mean()) - 1.0) < 0.15  # E f*(x)^2 = 1 on the sphere
    # Same teacher: a noiseless point seen by both seeds gets the same label.
    _, y3 = data.teacher_regression(5, 4, seed=2)
    assert torch.equal(y2, y3)


def test_gaussian_mixture_bayes_error():
    x, y = data.gaussian_mixture(20000, 3, separation=2.0, seed=0)
    assert set(y.unique().tolist()) == {-1.0, 1.0}
    err = float((torch.sign(x[:, 0]) != y).float().mean())
    assert abs(err - 0.5 * math.erfc(1 / math.sqrt(2))) < 0.01  # Phi(-1) = 0.1587


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: data.sphere(0, 3), "n must be >= 1"),
        (lambda: data.sphere(3, 3, radius=0), "radius must be > 0"),
        (lambda: data.teacher_regression(3, 2, noise=-1), "noise must be >= 0"),
        (lambda: data.gaussian_mixture(3, 2, std=0), "std must be > 0"),
        (lambda: data.circle(torch.zeros(2, 2)), "angles must have shape"),
        (lambda: data.sphere(3, 3, seed=-1), "seed must be >= 0"),
    ],
)
def test_data_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_empirical_nngp_is_the_conditional_output_covariance():
    # Outputs of networks that share hidden layers and redraw the readout have covariance empirical_nngp.
    net = MLP([2, 32, 32, 1], sigma_w=1.3, sigma_b=0.4, seed=0, dtype=torch.float64)
    x = data.sphere(4, 2, seed=1, dtype=torch.float64)
    phi = net.readout_features(x)
    g = torch.Generator().manual_seed(0)
    v = torch.randn(200_000, phi.shape[1], generator=g, dtype=torch.float64)
    b = torch.randn(200_000, 1, generator=g, dtype=torch.float64)
    f = v @ phi.T + 0.4 * b
    k = net.empirical_nngp(x)
    assert torch.allclose(f.T @ f / f.shape[0], k, atol=0.02 * float(k.max()))
    # And with the network's own readout the output is Phi v + sigma_b b.
    out = net(x)[:, 0]
    assert torch.allclose(out, phi @ net.weights[-1][0] + 0.4 * net.biases[-1][0])
