"""Polynomial networks: CCP and NCP are polynomials of their degree; monomials and least squares."""

import math

import pytest
import torch

from dlt import polynomial as pn
from dlt.nets.polynomial import NORMS


def _line(seed=0, d=3):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.rand(d, generator=g, dtype=torch.float64) - 0.5
    v = torch.randn(d, generator=g, dtype=torch.float64)
    return x0, v / v.norm()


@pytest.mark.parametrize("cls", [pn.CCP, pn.NCP])
@pytest.mark.parametrize("degree", [1, 2, 4])
def test_networks_are_polynomials_of_their_degree(cls, degree):
    net = cls(3, width=8, degree=degree, out_features=2, seed=1, dtype=torch.float64)
    x0, v = _line()
    diffs = pn.finite_differences(net, x0, v, degree + 1, h=0.3)
    scale = float(
        net(x0 + 0.3 * torch.arange(degree + 2, dtype=torch.float64).unsqueeze(1) * v)
        .detach()
        .abs()
        .max()
    )
    assert float(diffs[degree + 1].abs().max()) < 1e-12 * scale
    assert float(diffs[degree].abs().max()) > 1e-6 * scale


def test_ccp_of_degree_two_equals_its_expanded_polynomial():
    # x1 = U1 z, x2 = (U2 z) * x1 + x1, f = C x2 + beta: the quadratic form by hand
    net = pn.CCP(3, width=4, degree=2, out_features=1, bias=False, seed=0, dtype=torch.float64)
    z = torch.randn(7, 3, dtype=torch.float64)
    U1, U2, C = net.U[0], net.U[1], net.C[0]
    lin = z @ U1.T
    want = ((z @ U2.T) * lin + lin) @ C + net.beta
    torch.testing.assert_close(net(z)[:, 0], want.detach())


def test_parameter_counts():
    def count(net):
        return sum(p.numel() for p in net.parameters())

    assert count(pn.CCP(3, 32, 4, 1, bias=False)) == 4 * 32 * 3 + 32 + 1
    assert count(pn.CCP(3, 32, 4, 1)) == 4 * 32 * 3 + 4 * 32 + 32 + 1  # 545
    assert count(pn.CCP(3, 32, 3, 1)) == 417
    k, d, n = 8, 3, 3
    want = n * k * d + (n - 1) * k * k + (n - 1) * k + k + 1
    assert count(pn.NCP(d, k, n, 1, bias=False)) == want
    assert count(pn.NCP(d, k, n, 1)) == want + n * k


def test_monomials_count_and_values():
    e = pn.monomial_exponents(3, 4)
    assert e.shape == (math.comb(7, 4), 3)
    assert len({tuple(r) for r in e.tolist()}) == 35 and int(e.sum(1).max()) == 4
    z = torch.randn(5, 3, dtype=torch.float64)
    phi = pn.monomial_features(z, 4)
    for col, alpha in enumerate(e.tolist()):
        brute = z[:, 0] ** alpha[0] * z[:, 1] ** alpha[1] * z[:, 2] ** alpha[2]
        torch.testing.assert_close(phi[:, col], brute)


def test_polynomial_fit_recovers_a_polynomial_and_is_the_least_squares_optimum():
    g = torch.Generator().manual_seed(0)
    z = 2 * torch.rand(300, 3, generator=g, dtype=torch.float64) - 1
    coef = torch.randn(35, generator=g, dtype=torch.float64)
    y = pn.monomial_features(z, 4) @ coef
    fit = pn.polynomial_fit(z, y, 4)
    torch.testing.assert_close(fit.coef, coef)
    assert fit.train_mse < 1e-20 and fit.degree == 4
    low = pn.polynomial_fit(z, y, 3)
    # the residual is orthogonal to every monomial of degree <= 3 (normal equations)
    phi3 = pn.monomial_features(z, 3)
    resid = y - low.predict(z)
    assert float((phi3.T @ resid).abs().max()) < 1e-8 * float(y.abs().max()) * len(y)
    ridge = pn.polynomial_fit(z, y, 3, ridge=1e-3)
    assert ridge.train_mse >= low.train_mse


def test_finite_differences_of_known_functions():
    x0, v = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    d = pn.finite_differences(lambda x: x[:, 0] ** 3, x0, v, 5, h=0.5)
    torch.testing.assert_close(d[3], torch.tensor(6 * 0.5**3, dtype=torch.float64))
    assert float(d[4].abs()) < 1e-14 and float(d[5].abs()) < 1e-14
    e = pn.finite_differences(lambda x: torch.exp(x[:, 0]), x0, v, 3, h=0.1)
    torch.testing.assert_close(e, (math.exp(0.1) - 1) ** torch.arange(4.0, dtype=torch.float64))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="degree"):
        pn.CCP(3, 8, 0)
    with pytest.raises(ValueError, match="z"):
        pn.CCP(3, 8, 2)(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="direction"):
        pn.finite_differences(lambda x: x[:, 0], torch.zeros(2), torch.ones(3), 2)
    with pytest.raises(ValueError, match="y"):
        pn.polynomial_fit(torch.zeros(4, 2), torch.zeros(3), 2)


def test_fit_lr_schedule():
    from dlt.train import fit

    net = pn.CCP(2, 4, 2, seed=0, dtype=torch.float64)
    before = [p.detach().clone() for p in net.parameters()]
    z = torch.randn(16, 2, dtype=torch.float64)
    seen = []
    fit(net, z, z[:, 0] * z[:, 1], lr=0.1, steps=5, lr_schedule=lambda t: seen.append(t) or 0.0)
    assert seen == [0, 1, 2, 3, 4]
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    h = fit(net, z, z[:, 0] * z[:, 1], optimizer="adam", lr=0.05, steps=200, lr_schedule="cosine")
    assert h.last() < 1e-3 * h.train_loss[0]
    with pytest.raises(ValueError, match="lr_schedule"):
        fit(net, z, z[:, 0], steps=1, lr_schedule="linear")


def _calibrate(net, seed=3):
    # running statistics of a few batches, then evaluation mode (batch norm is affine);
    # random scales and shifts, as training would leave them
    g = torch.Generator().manual_seed(seed)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(16, net.in_features, generator=g, dtype=torch.float64))
        for m in net.norms:
            m.weight.copy_(1 + 0.5 * torch.randn(m.weight.shape, generator=g, dtype=torch.float64))
            m.bias.copy_(torch.randn(m.bias.shape, generator=g, dtype=torch.float64))
    return net.eval()


@pytest.mark.parametrize("cls", [pn.CCP, pn.NCP])
@pytest.mark.parametrize("degree", [1, 3])
def test_batch_normalized_networks_stay_polynomials_in_eval_mode(cls, degree):
    net = _calibrate(cls(3, 8, degree, 2, norm="batch", seed=2, dtype=torch.float64))
    x0, v = _line(seed=4)
    diffs = pn.finite_differences(net, x0, v, degree + 1, h=0.3)
    steps = torch.arange(degree + 2, dtype=torch.float64).unsqueeze(1)
    scale = float(net(x0 + 0.3 * steps * v).abs().max())
    assert float(diffs[degree + 1].abs().max()) < 1e-12 * scale
    assert float(diffs[degree].abs().max()) > 1e-6 * scale


@pytest.mark.parametrize("cls", [pn.CCP, pn.NCP])
def test_layer_normalized_networks_are_not_polynomials(cls):
    net = cls(3, 8, 2, 1, norm="layer", seed=2, dtype=torch.float64)
    x0, v = _line(seed=4)
    diffs = pn.finite_differences(net, x0, v, 5, h=0.3)
    scale = float(net(x0.unsqueeze(0)).abs().max())
    assert float(diffs[3:].abs().max()) > 1e-4 * scale  # no order above the degree vanishes


def test_normalized_ccp_by_hand():
    # x1 = N1(U1 z), x2 = x1 + N2((U2 z) * x1), f = C x2 + beta, with N the per-sample
    # standardization of the k features (layer norm at initialization: unit scale, no shift)
    net = pn.CCP(3, 6, 2, 1, bias=False, norm="layer", seed=0, dtype=torch.float64)
    z = torch.randn(7, 3, dtype=torch.float64)

    def std(a):
        m = a.mean(1, keepdim=True)
        return (a - m) / torch.sqrt(((a - m) ** 2).mean(1, keepdim=True) + 1e-5)

    x1 = std(z @ net.U[0].T)
    x2 = x1 + std((z @ net.U[1].T) * x1)
    torch.testing.assert_close(net(z)[:, 0], (x2 @ net.C[0] + net.beta).detach())
    # batch norm in training mode standardizes each feature over the batch instead
    bn = pn.CCP(3, 6, 1, 1, bias=False, norm="batch", seed=0, dtype=torch.float64)
    h = z @ bn.U[0].T
    want = (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + 1e-5) @ bn.C[0] + bn.beta
    torch.testing.assert_close(bn(z)[:, 0], want.detach())


@pytest.mark.parametrize("cls", [pn.CCP, pn.NCP])
@pytest.mark.parametrize("bad", ["instance", "Batch", None, 1])
def test_bad_norm_is_named(cls, bad):
    with pytest.raises(ValueError, match=r"^norm must be one of \['batch', 'layer', 'none'\]"):
        cls(3, 4, 2, norm=bad)


@pytest.mark.parametrize("cls", [pn.CCP, pn.NCP])
def test_batch_norm_depends_on_the_batch_in_training_mode_only(cls):
    # training mode standardizes with the batch's statistics: a sample's output changes with
    # the other samples; evaluation mode uses the running statistics, a fixed affine map
    net = cls(3, 8, 2, 1, norm="batch", seed=2, dtype=torch.float64)
    g = torch.Generator().manual_seed(5)
    a, b = (torch.randn(6, 3, generator=g, dtype=torch.float64) for _ in range(2))
    b[0] = a[0]
    with torch.no_grad():
        assert float((net.train()(a)[0] - net(b)[0]).abs().max()) > 1e-3
        torch.testing.assert_close(net.eval()(a)[0], net(b)[0], rtol=0, atol=1e-14)
        torch.testing.assert_close(net(a[:1])[0], net(a)[0], rtol=0, atol=1e-14)


@pytest.mark.parametrize("cls", [pn.CCP, pn.NCP])
def test_norm_none_is_the_2020_network(cls):
    a = cls(3, 5, 3, 2, seed=7, dtype=torch.float64)
    b = cls(3, 5, 3, 2, norm="none", seed=7, dtype=torch.float64)
    z = torch.randn(4, 3, dtype=torch.float64)
    torch.testing.assert_close(a(z), b(z))
    assert a.norms is None
    counts = [sum(p.numel() for p in cls(3, 5, 3, norm=n).parameters()) for n in NORMS]
    assert counts[1] == counts[2] == counts[0] + 2 * 5 * 3  # scale and shift per block


def test_layer_normalized_output_scale_is_linear_in_the_degree():
    # E f^2 = N at initialization: each block adds one unit-mean-square term (see chapter 15)
    z = torch.rand(40, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for degree in (1, 4):
        f2 = torch.stack(
            [
                pn.CCP(16, 128, degree, 8, norm="layer", seed=s, dtype=torch.float64)(z).detach()
                ** 2
                for s in range(40)
            ]
        ).mean()
        assert abs(float(f2) / degree - 1) < 0.15
