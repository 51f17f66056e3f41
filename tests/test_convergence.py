"""Global convergence (Du et al. 2019) and NTK scores of a small search space."""

import itertools
import math

import pytest
import torch
from torch import nn

from dlt import convergence as cv
from dlt.ntk import empirical_ntk
from dlt.train import fit

f64 = torch.float64


def _x(n=6, d=4, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=f64)


# h_infinity ----------------------------------------------------------------------------
def test_h_infinity_against_monte_carlo():
    x = _x()
    w = torch.randn(400_000, 4, generator=torch.Generator().manual_seed(1), dtype=f64)
    s = (x @ w.T >= 0).double()
    mc = (x @ x.T) * (s @ s.T) / w.shape[0]
    assert float((cv.h_infinity(x) - mc).abs().max()) < 0.01 * float(mc.abs().max())


def test_h_infinity_special_angles_and_edges():
    e = torch.eye(3, dtype=f64)
    x = torch.stack([e[0], 2 * e[0], -3 * e[0], e[1], torch.zeros(3, dtype=f64)])
    h = cv.h_infinity(x)
    assert h[0, 1].item() == pytest.approx(2 / 2)  # parallel: x.y / 2
    assert h[0, 2].item() == pytest.approx(0.0, abs=1e-15)  # antiparallel: angle pi
    assert h[0, 3].item() == 0.0  # orthogonal
    assert h[1, 1].item() == pytest.approx(4 / 2)  # diagonal |x|^2 / 2, no rounding of arccos
    assert torch.all(h[4] == 0) and torch.all(h[:, 4] == 0)  # a zero input
    assert torch.equal(h, h.T)


def test_h_infinity_is_homogeneous_psd_and_takes_integers():
    x = _x(8, 3, seed=2)
    h = cv.h_infinity(x)
    assert torch.allclose(cv.h_infinity(3 * x), 9 * h)
    assert float(torch.linalg.eigvalsh(h)[0]) > 0  # no two inputs parallel: positive definite
    hi = cv.h_infinity(torch.tensor([[1, 0], [1, 1]]))
    assert hi.dtype == f64 and hi[0, 1].item() == pytest.approx(0.375)


def test_h_infinity_of_duplicated_inputs_is_singular():
    x = _x(4, 3)
    h = cv.h_infinity(torch.cat([x, x[:1]]))
    assert float(torch.linalg.eigvalsh(h)[0]) < 1e-12


# the bound -----------------------------------------------------------------------------
def test_linear_convergence_bound_values_and_errors():
    b = cv.linear_convergence_bound(2.0, 0.2, 0.5, 3)
    assert torch.allclose(b, 2.0 * 0.95 ** torch.arange(4, dtype=f64))
    assert cv.linear_convergence_bound(1.0, 4.0, 0.5, 2).tolist() == [1.0, 0.0, 0.0]
    assert cv.linear_convergence_bound(1.0, 0.0, 0.5, 2).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="lr \\* lambda0"):
        cv.linear_convergence_bound(1.0, 5.0, 0.5, 2)
    with pytest.raises(ValueError, match="steps"):
        cv.linear_convergence_bound(1.0, 0.1, 0.5, -1)


# the network -----------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "tanh", "erf"])
def test_gram_is_the_empirical_ntk(activation):
    net = cv.FixedReadoutNet(4, 50, activation, seed=3, dtype=f64)
    x = _x()
    for method in ("jacobian", "structured"):
        assert torch.allclose(net.gram(x), empirical_ntk(net, x, method=method), atol=1e-12)


def test_forward_by_hand_and_only_the_first_layer_trains():
    net = cv.FixedReadoutNet(4, 7, seed=0, dtype=f64)
    x = _x()
    by_hand = torch.relu(x @ net.weight.T) @ net.readout / math.sqrt(7)
    assert torch.allclose(net(x)[:, 0], by_hand)
    assert set(net.readout.tolist()) <= {-1.0, 1.0}
    a0 = net.readout.clone()
    fit(net, x, torch.ones(6, dtype=f64), lr=0.1, steps=5)
    assert torch.equal(net.readout, a0)
    assert [n for n, _ in net.named_parameters()] == ["hidden.weight"]


def test_gram_tends_to_h_infinity():
    x = _x(5, 3)
    x = x / x.norm(dim=1, keepdim=True)
    errs = [
        float((cv.FixedReadoutNet(3, m, seed=0, dtype=f64).gram(x) - cv.h_infinity(x)).abs().max())
        for m in (100, 10_000)
    ]
    assert errs[1] < errs[0] / 3 and errs[1] < 0.02


def test_network_rejects_bad_input():
    with pytest.raises(ValueError, match="width"):
        cv.FixedReadoutNet(3, 0)
    with pytest.raises(ValueError, match="activation"):
        cv.FixedReadoutNet(3, 4, "softsign")
    with pytest.raises(ValueError, match="x must have shape"):
        cv.FixedReadoutNet(3, 4)(torch.zeros(2, 5))


# activation flips --------------------------------------------------------------------------
def test_activation_flips_against_a_loop():
    g = torch.Generator().manual_seed(4)
    w0 = torch.randn(9, 3, generator=g, dtype=f64)
    w = w0 + 0.5 * torch.randn(9, 3, generator=g, dtype=f64)
    x = _x(7, 3)
    loop = sum(
        (float(w0[r] @ x[i]) > 0) != (float(w[r] @ x[i]) > 0)
        for r, i in itertools.product(range(9), range(7))
    )
    assert cv.activation_flips(w0, w, x) == pytest.approx(loop / 63)
    assert cv.activation_flips(w0, w0, x) == 0.0
    assert cv.activation_flips(w0, -w0, x) == 1.0  # no zero pre-activations: every sign flips
    with pytest.raises(ValueError, match="weight must have the shape"):
        cv.activation_flips(w0, w[:3], x)
    with pytest.raises(ValueError, match="x must have 3 columns"):
        cv.activation_flips(w0, w, x[:, :2])


# NTK scores ----------------------------------------------------------------------------------
def test_ntk_scores_of_a_linear_model_are_the_gram_eigenvalues():
    x = _x(4, 6)
    lin = nn.Linear(6, 1, bias=False).double()
    ev = torch.linalg.eigvalsh(x @ x.T)
    s = cv.ntk_scores(lin, x)
    assert s.lambda_min == pytest.approx(float(ev[0]))
    assert s.lambda_max == pytest.approx(float(ev[-1]))
    assert s.condition == pytest.approx(float(ev[-1] / ev[0]))
    # more samples than dimensions: singular, condition infinite
    s = cv.ntk_scores(lin, _x(8, 3) @ torch.ones(3, 6, dtype=f64))
    assert s.lambda_min < 1e-10 and (s.condition == math.inf or s.condition > 1e10)


def test_ntk_scores_full_kernel_of_k_outputs():
    # k identical-input outputs of a linear map: the full kernel is (X X^T) kron I_k
    x = _x(3, 5)
    lin = nn.Linear(5, 2, bias=False).double()
    full = cv.ntk_scores(lin, x, trace_outputs=False)
    traced = cv.ntk_scores(lin, x)
    ev = torch.linalg.eigvalsh(x @ x.T)
    assert full.lambda_min == pytest.approx(float(ev[0]))
    assert traced.lambda_min == pytest.approx(2 * float(ev[0]))
    with pytest.raises(TypeError, match="trace_outputs"):
        cv.ntk_scores(lin, x, trace_outputs=1)


# the search space ---------------------------------------------------------------------------
def test_search_space_enumerates_patterns():
    space = cv.search_space()
    assert len(space) == 16 and len(set(space)) == 16
    mixed = [a for a in space if a.depth == 4 and a.activations[0] != a.activations[1]]
    assert {a.activations for a in mixed} == {("relu", "tanh", "relu", "tanh")}
    with pytest.raises(ValueError, match="activation"):
        cv.search_space(("relu", "softsign"))
    with pytest.raises(ValueError, match="depths"):
        cv.search_space(depths=(0,))


@pytest.mark.parametrize("skip", [False, True])
def test_search_net_forward_by_hand(skip):
    net = cv.SearchNet(3, 5, 2, ("tanh", "relu", "erf"), skip=skip, seed=1, dtype=f64)
    x = _x(4, 3)
    h = torch.tanh(net.hidden[0](x))
    for phi, lin in ((torch.relu, net.hidden[1]), (torch.erf, net.hidden[2])):
        h = phi(lin(h)) + (h if skip else 0)
    assert torch.allclose(net(x), net.out(h))
    assert net.architecture == cv.Architecture(("tanh", "relu", "erf"), skip)


def test_search_net_init_scales_and_errors():
    net = cv.SearchNet(400, 400, 1, ("relu",), seed=0, dtype=f64, sigma_w=2.0)
    assert float(net.hidden[0].weight.detach().std()) == pytest.approx(2 / 20, rel=0.02)
    assert float(net.out.weight.detach().std()) == pytest.approx(1 / 20, rel=0.2)
    with pytest.raises(ValueError, match="activations"):
        cv.SearchNet(3, 4, 1, "relu")
    with pytest.raises(ValueError, match="activations"):
        cv.SearchNet(3, 4, 1, ())
    with pytest.raises(ValueError, match="sigma_w"):
        cv.SearchNet(3, 4, 1, ("relu",), sigma_w=0.0)


def test_gd_on_a_wide_net_meets_du_bound():
    # the theorem's regime, small: unit inputs, eta = 1 / lambda_max(H(0))
    x = _x(6, 4, seed=5)
    x = x / x.norm(dim=1, keepdim=True)
    y = torch.randn(6, generator=torch.Generator().manual_seed(6), dtype=f64)
    net = cv.FixedReadoutNet(4, 4096, seed=2, dtype=f64)
    eta = 1 / float(torch.linalg.eigvalsh(net.gram(x))[-1])
    lam0 = float(torch.linalg.eigvalsh(cv.h_infinity(x))[0])

    def sse(out, t):
        return 0.5 * ((out[:, 0] - t) ** 2).sum()

    h = fit(net, x, y, loss=sse, lr=eta, steps=200, record_every=1)
    r = 2 * torch.tensor(h.train_loss, dtype=f64)
    bound = cv.linear_convergence_bound(float(r[0]), lam0, eta, 200)
    assert torch.all(r <= bound * (1 + 1e-9))
    assert float(r[-1]) < 1e-6 * float(r[0])
