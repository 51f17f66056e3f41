"""Polynomial networks: CCP and NCP are polynomials of their degree; monomials and least squares."""

import math

import pytest
import torch

from dlt import polynomial as pn


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
        net(x0 + 0.3 * torch.arange(degree + 2, dtype=torch.float64).unsqueeze(1) * v).abs().max()
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
