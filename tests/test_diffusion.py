"""Diffusion: the optimal denoiser against brute force and its limits, the EDM scalings, the
network and its loss, the probability-flow ODE on Gaussian data, the memorization fraction."""

import math

import pytest
import torch

from dlt import diffusion as df
from dlt.train import fit

f64 = torch.float64


def _pts(n, d=2, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=f64)


# the optimal denoiser
@pytest.mark.parametrize("sigma", [0.05, 0.3, 2.0])
def test_optimal_denoiser_equals_brute_force_softmax(sigma):
    train, x = _pts(7, 3), _pts(5, 3, seed=1)
    w = torch.zeros(5, 7, dtype=f64)
    for a in range(5):
        e = [math.exp(-float(((x[a] - train[i]) ** 2).sum()) / (2 * sigma**2)) for i in range(7)]
        w[a] = torch.tensor(e, dtype=f64) / sum(e)
    torch.testing.assert_close(
        df.optimal_denoiser(x, sigma, train), w @ train, rtol=1e-12, atol=1e-13
    )


def test_optimal_denoiser_limits_nearest_point_and_mean():
    train, x = _pts(6), _pts(9, seed=1)
    nearest = train[torch.cdist(x, train).argmin(1)]
    torch.testing.assert_close(df.optimal_denoiser(x, 1e-3, train), nearest, rtol=0, atol=1e-12)
    far = df.optimal_denoiser(x, 1e4, train)
    torch.testing.assert_close(far, train.mean(0).expand(9, 2), rtol=0, atol=1e-6)


def test_optimal_denoiser_stable_at_tiny_sigma_where_naive_exp_underflows():
    train = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=f64)
    x = torch.tensor([[0.30, 0.0], [0.5 + 1e-6, 0.0]], dtype=f64)  # logit gap 100
    naive = torch.exp(-(torch.cdist(x, train) ** 2) / (2 * 1e-4**2))
    assert float(naive.sum(1).min()) == 0.0  # a naive softmax gives 0/0 here
    out = df.optimal_denoiser(x, 1e-4, train)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=f64))
    # exactly between two points: the mean of the two, even at tiny sigma
    mid = df.optimal_denoiser(torch.tensor([[0.5, 3.0]], dtype=f64), 1e-4, train)
    torch.testing.assert_close(mid, torch.tensor([[0.5, 0.0]], dtype=f64))


def test_optimal_denoiser_is_invariant_to_a_shift_of_everything():
    train, x = _pts(5), _pts(4, seed=2)
    shift = torch.tensor([1e3, -2e3], dtype=f64)
    torch.testing.assert_close(
        df.optimal_denoiser(x + shift, 0.2, train + shift) - shift,
        df.optimal_denoiser(x, 0.2, train),
        rtol=0,
        atol=1e-9,
    )


def test_optimal_denoiser_shapes_sigma_per_point_and_errors():
    train, x = _pts(5), _pts(4, seed=2)
    s = torch.tensor([0.1, 0.5, 1.0, 3.0], dtype=f64)
    per = df.optimal_denoiser(x, s, train)
    for i in range(4):
        torch.testing.assert_close(per[i], df.optimal_denoiser(x[i : i + 1], float(s[i]), train)[0])
    assert df.optimal_denoiser(x.reshape(2, 2, 2), 0.3, train).shape == (2, 2, 2)
    assert df.optimal_denoiser(x.float(), 0.3, train).dtype == torch.float32
    with pytest.raises(ValueError, match="sigma"):
        df.optimal_denoiser(x, -1.0, train)
    with pytest.raises(ValueError, match="sigma"):
        df.optimal_denoiser(x, torch.ones(3), train)
    with pytest.raises(ValueError, match="columns"):
        df.optimal_denoiser(_pts(4, 3), 0.3, train)


# EDM scalings, network and loss
def test_edm_scalings_give_unit_variance_input_and_target():
    sd, s = 0.9, torch.tensor([0.01, 0.5, 3.0, 40.0], dtype=f64)
    c = df.edm_scalings(s, sd)
    torch.testing.assert_close(c.c_in**2 * (s**2 + sd**2), torch.ones(4, dtype=f64))
    # Var[(x0 - c_skip (x0 + s eps)) / c_out] = ((1 - c_skip)^2 sd^2 + c_skip^2 s^2) / c_out^2 = 1
    var = ((1 - c.c_skip) ** 2 * sd**2 + c.c_skip**2 * s**2) / c.c_out**2
    torch.testing.assert_close(var, torch.ones(4, dtype=f64))
    torch.testing.assert_close(c.c_noise, s.log() / 4)


def test_network_members_are_independent_and_shared_inputs_broadcast():
    net = df.EDMDenoiser(2, width=16, n_models=3, sigma_data=0.9, seed=0, dtype=f64)
    x = _pts(5)
    shared = net(x, 0.4)
    per = net(x.expand(3, 5, 2), torch.full((3, 5), 0.4, dtype=f64))
    torch.testing.assert_close(shared, per)
    with torch.no_grad():
        net.weights[0][1].add_(1.0)  # change member 1 only
    after = net(x, 0.4)
    torch.testing.assert_close(after[0], shared[0])
    torch.testing.assert_close(after[2], shared[2])
    assert not torch.allclose(after[1], shared[1])
    # at sigma -> 0 the preconditioning passes the input through: c_skip -> 1, c_out -> 0
    torch.testing.assert_close(net(x, 1e-8)[0], x, rtol=0, atol=1e-7)


def test_denoising_loss_is_the_edm_regression_on_f():
    # lambda(sigma) |D - x0|^2 equals |F(c_in x, c_noise) - (x0 - c_skip x)/c_out|^2
    net = df.EDMDenoiser(2, width=8, n_models=2, sigma_data=0.7, seed=1, dtype=f64)
    x0 = _pts(6 * 2).reshape(6, 2, 2)
    loss = df.DenoisingLoss(0.01, 10.0, seed=5)(net, x0, None, 0)
    g = torch.Generator().manual_seed(5)
    u = torch.rand(2, 6, 1, generator=g, dtype=f64)
    sigma = (math.log(0.01) + (math.log(10.0) - math.log(0.01)) * u).exp()
    eps = torch.randn(2, 6, 2, generator=g, dtype=f64)
    clean = x0.transpose(0, 1)
    noisy = clean + sigma * eps
    c = df.edm_scalings(sigma, 0.7)
    target = (clean - c.c_skip * noisy) / c.c_out
    want = ((net.raw(c.c_in * noisy, c.c_noise) - target) ** 2).mean(dim=(1, 2)).sum()
    torch.testing.assert_close(loss, want)
    with pytest.raises(ValueError, match="sigma_max"):
        df.DenoisingLoss(1.0, 0.5)


def test_training_with_fit_brings_the_network_toward_the_optimal_denoiser():
    train = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
    net = df.EDMDenoiser(2, width=32, n_models=1, sigma_data=1.0, seed=0)
    x = _pts(200, seed=3).float() * 0.8
    err = lambda: float((net(x, 0.5)[0] - df.optimal_denoiser(x, 0.5, train)).norm(dim=1).mean())  # noqa: E731
    with torch.no_grad():
        before = err()
    X = train.repeat(32, 1)
    fit(
        net,
        X,
        X[:, 0],
        loss=df.DenoisingLoss(0.1, 5.0, seed=0),
        optimizer="adam",
        lr=3e-3,
        steps=400,
        batch_size=32,
        progress=False,
    )
    with torch.no_grad():
        assert err() < 0.6 * before


# the sampler
def test_karras_sigmas_formula_and_errors():
    s = df.karras_sigmas(5, 0.002, 80.0, rho=7.0)
    i = torch.arange(5, dtype=f64)
    want = (80 ** (1 / 7) + i / 4 * (0.002 ** (1 / 7) - 80 ** (1 / 7))) ** 7
    torch.testing.assert_close(s[:5], want)
    assert float(s[-1]) == 0.0 and s.shape == (6,)
    with pytest.raises(ValueError, match="sigma_max"):
        df.karras_sigmas(5, 1.0, 0.5)
    with pytest.raises(ValueError, match="n_steps"):
        df.karras_sigmas(1)


def test_one_euler_step_by_hand_and_last_step_returns_the_denoiser():
    D = lambda x, s: 0.5 * x  # noqa: E731
    z = torch.tensor([[2.0, -1.0]], dtype=f64)
    sig = torch.tensor([4.0, 1.0, 0.0], dtype=f64)
    # x0 = 4 z = (8, -4); Euler to 1: x + (1 - 4)(x - x/2)/4 = x (1 - 3/8); then D(x, 1) = x / 2
    want = 0.5 * (8 * 5 / 8) * torch.tensor([[1.0, -0.5]], dtype=f64)
    torch.testing.assert_close(df.probability_flow_ode(D, z, sig), want)
    with pytest.raises(ValueError, match="decreasing"):
        df.probability_flow_ode(D, z, torch.tensor([1.0, 2.0, 0.0], dtype=f64))


def test_sampler_with_the_exact_gaussian_denoiser_reproduces_the_covariance():
    # data N(0, S): D(x, s) = S (S + s^2 I)^-1 x; the ODE carries N(0, (S + s_max^2 I)) to N(0, S)
    a = torch.tensor([[1.0, 0.6], [0.0, 0.5]], dtype=f64)
    S = a @ a.T
    eye = torch.eye(2, dtype=f64)

    def D(x, s):
        return x @ torch.linalg.solve(S + s**2 * eye, S)  # S symmetric: (S (S + s^2)^-1 x)^T

    z = _pts(40_000, seed=7)

    def error(n, method):
        x = df.probability_flow_ode(D, z, df.karras_sigmas(n, 0.002, 80.0), method=method)
        return float((x.T @ x / x.shape[0] - S).norm() / S.norm())

    assert error(80, "heun") < 0.01  # Monte Carlo error of 40 000 samples: about 0.007
    e80, e160 = error(80, "euler"), error(160, "euler")
    assert e80 < 0.1
    assert 0.4 < e160 / e80 < 0.65  # first order: the error halves with the steps


def test_sampler_with_the_optimal_denoiser_returns_training_points():
    train = _pts(10)
    x = df.probability_flow_ode(
        lambda y, s: df.optimal_denoiser(y, s, train),
        _pts(200, seed=4),
        df.karras_sigmas(40, 0.002, 20.0),
    )
    assert float(torch.cdist(x, train).min(1).values.max()) < 1e-6


# the memorization fraction
def test_memorization_fraction_hand_built_cases_and_ties():
    train = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 4.0]], dtype=f64)
    samples = torch.tensor(
        [
            [0.0, 0.0],  # on a training point: d1 = 0
            [0.25, 0.0],  # d1/d2 = 0.25/0.75 = 1/3 exactly: on the boundary, memorized
            [0.26, 0.0],  # just above 1/3: not
            [0.5, 0.0],  # equidistant: d1 = d2, not memorized
            [0.1, 0.0],  # 0.1/0.9: memorized
        ],
        dtype=f64,
    )
    m = df.memorization_fraction(samples, train, ratio=1 / 3)
    assert m.memorized.tolist() == [True, True, False, False, True]
    assert m.fraction == 0.6
    torch.testing.assert_close(m.nearest, torch.tensor([0.0, 0.25, 0.26, 0.5, 0.1], dtype=f64))
    torch.testing.assert_close(m.second, torch.tensor([1.0, 0.75, 0.74, 0.5, 0.9], dtype=f64))
    # a repeated training point: d1 = d2 = 0 for a copy of it, which is memorized
    dup = torch.tensor([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]], dtype=f64)
    assert df.memorization_fraction(torch.zeros(1, 2, dtype=f64), dup).fraction == 1.0
    with pytest.raises(ValueError, match="train"):
        df.memorization_fraction(samples, train[:1])
    with pytest.raises(ValueError, match="columns"):
        df.memorization_fraction(samples, _pts(3, 3))
    with pytest.raises(ValueError, match="ratio"):
        df.memorization_fraction(samples, train, ratio=1.0)


@pytest.mark.parametrize(("dim", "ratio"), [(1, 1 / 3), (2, 1 / 3), (3, 0.5)])
def test_baseline_ratio_to_the_k_by_monte_carlo_for_uniform_points(dim, ratio):
    g = torch.Generator().manual_seed(dim)
    train = torch.rand(8000, dim, generator=g, dtype=f64)
    samples = 0.25 + 0.5 * torch.rand(4000, dim, generator=g, dtype=f64)  # away from the edge
    got = df.memorization_fraction(samples, train, ratio).fraction
    want = df.memorization_baseline(dim, ratio)
    sd = math.sqrt(want * (1 - want) / 4000)
    assert abs(got - want) < 4 * sd
    assert math.isclose(want, ratio**dim)


def test_gaussian_ring_centers_and_spread():
    x = df.gaussian_ring(40_000, k=8, radius=1.2, std=0.3, seed=0, dtype=f64)
    torch.testing.assert_close(x.mean(0), torch.zeros(2, dtype=f64), rtol=0, atol=0.01)
    torch.testing.assert_close(
        x.var(0), torch.full((2,), 0.72 + 0.09, dtype=f64), rtol=0.02, atol=0
    )
    assert float((x.norm(dim=1) - 1.2).abs().median()) < 0.3
