"""dlt.measure.complexity against hand-computed values and brute force."""

import itertools
import math

import pytest
import torch
from scipy.stats import kendalltau
from torch import nn

from dlt import generalization_measures as gm
from dlt.nets import MLP


def _relu_net(w1, w2, b1=None):
    net = nn.Sequential(
        nn.Linear(w1.shape[1], w1.shape[0], bias=b1 is not None),
        nn.ReLU(),
        nn.Linear(w2.shape[1], w2.shape[0], bias=False),
    ).double()
    with torch.no_grad():
        net[0].weight.copy_(w1)
        net[2].weight.copy_(w2)
        if b1 is not None:
            net[0].bias.copy_(b1)
    return net


def test_distance_from_init_by_hand_and_on_an_mlp():
    a = MLP([3, 5, 2], seed=0, dtype=torch.float64)
    b = MLP([3, 5, 2], seed=1, dtype=torch.float64)
    want = math.sqrt(
        sum(
            float(((p - q) ** 2).sum().detach())
            for p, q in zip(a.parameters(), b.parameters(), strict=True)
        )
    )
    assert gm.distance_from_init(a, b) == pytest.approx(want)
    assert gm.distance_from_init(a, a) == 0.0
    with pytest.raises(ValueError, match="initial"):
        gm.distance_from_init(a, MLP([3, 4, 2], seed=0))


def test_spectral_norm_product_by_hand_and_with_mlp_multipliers():
    net = _relu_net(
        torch.diag(torch.tensor([3.0, 1.0], dtype=torch.float64)),
        torch.tensor([[1.0, 1.0]], dtype=torch.float64),
    )
    assert gm.spectral_norm_product(net) == pytest.approx(3 * math.sqrt(2))
    mlp = MLP([4, 6, 1], seed=0, dtype=torch.float64)  # NTK parameterization: 1/sqrt(fan_in)
    want = 1.0
    for w, fan_in in zip(mlp.weights, [4, 6], strict=True):
        want *= float(torch.linalg.matrix_norm(w / math.sqrt(fan_in), ord=2))
    assert gm.spectral_norm_product(mlp) == pytest.approx(want)


def test_path_norm_equals_the_sum_over_paths_by_brute_force():
    g = torch.Generator().manual_seed(0)
    w1 = torch.randn(4, 3, generator=g, dtype=torch.float64)
    w2 = torch.randn(2, 4, generator=g, dtype=torch.float64)
    net = _relu_net(w1, w2)
    paths = sum(
        float(w1[j, i] ** 2 * w2[k, j] ** 2)
        for i, j, k in itertools.product(range(3), range(4), range(2))
    )
    assert gm.path_norm(net) == pytest.approx(math.sqrt(paths))
    # invariant under the ReLU rescaling of a hidden unit
    c = torch.tensor([2.0, 0.5, 3.0, 1.0], dtype=torch.float64)
    assert gm.path_norm(_relu_net(w1 * c[:, None], w2 / c[None, :])) == pytest.approx(
        math.sqrt(paths)
    )
    # biases are paths that start at a constant input 1
    b1 = torch.tensor([1.0, 0.0, 2.0, 0.0], dtype=torch.float64)
    with_b = sum(
        float(b1[j] ** 2 * w2[k, j] ** 2) for j, k in itertools.product(range(4), range(2))
    )
    assert gm.path_norm(_relu_net(w1, w2, b1)) == pytest.approx(math.sqrt(paths + with_b))


def test_zero_one_error_and_posterior_errors():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 3, generator=g, dtype=torch.float64)
    net = MLP([3, 16, 2], seed=0, dtype=torch.float64)
    y = net(X).argmax(1)
    y[:20] = 1 - y[:20]
    assert gm.zero_one_error(net, X, y) == pytest.approx(0.1)
    errs = gm.posterior_errors(net, X, y, torch.tensor([0.0, 1e-9, 50.0]), samples=64, seed=1)
    assert errs[0] == pytest.approx(0.1) and errs[1] == pytest.approx(0.1)
    assert 0.35 < float(errs[2]) < 0.65  # huge noise: a coin flip
    # brute force: the same draws, one network at a time
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(3)
    noise = [torch.randn(5, *p.shape, generator=gen, dtype=p.dtype) for p in net.parameters()]
    brute = 0.0
    for j in range(5):
        pert = MLP([3, 16, 2], seed=0, dtype=torch.float64)
        with torch.no_grad():
            for p, z in zip(pert.parameters(), noise, strict=True):
                p.add_(0.3 * z[j])
        brute += gm.zero_one_error(pert, X, y) / 5
    assert float(gm.posterior_errors(net, X, y, 0.3, samples=5, seed=3)[0]) == pytest.approx(brute)


def test_sharpness_finds_the_noise_level_of_the_deviation():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(400, 5, generator=g, dtype=torch.float64)
    net = MLP([5, 32, 2], seed=0, dtype=torch.float64)
    y = net(X).argmax(1)
    s = gm.sharpness(net, X, y, deviation=0.1, samples=20, iters=30, seed=2)
    assert s.value == pytest.approx(1 / s.sigma**2)
    below = float(gm.posterior_errors(net, X, y, s.sigma, 20, seed=2)[0])
    above = float(gm.posterior_errors(net, X, y, s.sigma * 1.05, 20, seed=2)[0])
    assert below <= 0.1 < above
    # a network scaled up (same function) is flatter in absolute weight noise
    big = MLP([5, 32, 2], seed=0, dtype=torch.float64)
    with torch.no_grad():
        for p in big.parameters():
            p.mul_(3.0)
    assert gm.sharpness(big, X, y, samples=20, seed=2).sigma > 2 * s.sigma


def test_kendall_tau_against_scipy_and_its_null_spread():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(15, generator=g, dtype=torch.float64)
    y = x + torch.randn(15, generator=g, dtype=torch.float64)
    y[3] = y[4]  # a tie
    r = gm.kendall_tau(x, y, resamples=500, seed=0)
    assert r.tau == pytest.approx(kendalltau(x.numpy(), y.numpy()).statistic, abs=1e-12)
    assert r.null_std == pytest.approx(math.sqrt(2 * 35 / (9 * 15 * 14)))
    assert r.low <= r.tau <= r.high and r.runs == 15
    # the null spread is the spread of tau between unrelated rankings (brute force on 5 items)
    taus = [kendalltau(range(5), perm).statistic for perm in itertools.permutations(range(5))]
    assert gm.kendall_tau([1.0, 2, 3, 4, 5], [5.0, 4, 3, 2, 1]).null_std == pytest.approx(
        float(torch.tensor(taus).std(unbiased=False)), rel=1e-9
    )
    assert gm.kendall_tau([1.0, 2, 3, 4, 5], [5.0, 4, 3, 2, 1]).tau == -1.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: gm.distance_from_init("net", nn.Linear(2, 1)), "model must be"),
        (lambda: gm.spectral_norm_product(nn.ReLU()), "nn.Linear"),
        (lambda: gm.zero_one_error(nn.Linear(2, 2), torch.zeros(3, 2), torch.zeros(4)), "y must"),
        (
            lambda: gm.zero_one_error(
                nn.Linear(2, 2), torch.full((3, 2), float("nan")), torch.zeros(3)
            ),
            "X must be finite",
        ),
        (
            lambda: gm.posterior_errors(nn.Linear(2, 2), torch.zeros(3, 2), torch.zeros(3), -1.0),
            "sigmas",
        ),
        (
            lambda: gm.sharpness(nn.Linear(2, 2), torch.zeros(3, 2), torch.zeros(3), deviation=0),
            "deviation",
        ),
        (lambda: gm.kendall_tau([1.0, 2.0], [1.0, 2.0]), "at least 3"),
        (lambda: gm.kendall_tau([1.0, 2.0, 3.0], [1.0, 2.0]), "y must have length 3"),
        (lambda: gm.kendall_tau([1.0, 2.0, float("nan")], [1.0, 2.0, 3.0]), "x must be finite"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
