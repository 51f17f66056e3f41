"""Robustness: digits, attacks, interval bounds, the certified loss in fit, closed forms at init."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlt import robustness as rb
from dlt.nets import MLP
from dlt.train import fit


def test_digits_split_is_stratified_scaled_and_seeded():
    d = rb.digits(0.3, seed=0)
    assert len(d.y_train) + len(d.y_test) == 1797
    assert d.X_train.dtype == torch.float32 and d.X_train.shape[1] == 64
    assert float(d.X_train.min()) == 0.0 and float(d.X_train.max()) == 1.0
    train_counts = torch.bincount(d.y_train, minlength=10)
    test_counts = torch.bincount(d.y_test, minlength=10)
    total = train_counts + test_counts
    assert torch.all((test_counts - 0.3 * total).abs() <= 0.5)  # round(0.3 n_c) per class
    again = rb.digits(0.3, seed=0)
    assert torch.equal(d.X_test, again.X_test)
    other = rb.digits(0.3, seed=1)
    assert not torch.equal(d.y_test, other.y_test) or not torch.equal(d.X_test, other.X_test)
    # no image in both sets (as rows: the same image could repeat in the raw data, so count)
    assert len(d.y_train) == int(total.sum() - test_counts.sum())
    with pytest.raises(ValueError, match="test_fraction"):
        rb.digits(1.0)


def test_project_is_the_closest_point_of_the_ball():
    g = torch.Generator().manual_seed(0)
    delta = 3 * torch.randn(50, 4, generator=g, dtype=torch.float64)
    for norm, p in (("linf", math.inf), ("l2", 2)):
        proj = rb.project(delta, 1.0, norm)
        assert torch.all(torch.linalg.vector_norm(proj, ord=p, dim=1) <= 1 + 1e-12)
        # brute force: no point of the ball sampled at random is closer
        cand = rb.project(torch.randn(2000, 4, generator=g, dtype=torch.float64), 1.0, norm)
        for i in range(5):
            best = (cand - delta[i]).norm(dim=1).min()
            assert (proj[i] - delta[i]).norm() <= best + 1e-12


def test_fgsm_on_a_linear_model_moves_the_score_by_eps_l1():
    w = torch.tensor([[1.0, -2.0, 0.5, 3.0]], dtype=torch.float64)
    lin = nn.Linear(4, 1, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(w)
    x = torch.randn(6, 4, dtype=torch.float64)
    up = lambda out, y: out[:, 0]  # noqa: E731
    xa = rb.fgsm(lin, x, torch.zeros(6), 0.1, loss=up)
    with torch.no_grad():
        torch.testing.assert_close(
            lin(xa) - lin(x), torch.full((6, 1), 0.1 * 6.5, dtype=torch.float64)
        )
    xa2 = rb.fgsm(lin, x, torch.zeros(6), 0.1, norm="l2", loss=up)
    with torch.no_grad():
        torch.testing.assert_close(
            lin(xa2) - lin(x), torch.full((6, 1), 0.1 * float(w.norm()), dtype=torch.float64)
        )


def test_pgd_finds_the_exact_worst_case_of_a_linear_classifier():
    # two classes, logits W x: the worst l-inf perturbation of the margin (w_y - w_o) x is
    # -eps * ||w_y - w_o||_1, reached at a vertex; PGD must find it
    W = torch.tensor([[1.0, -1.0, 0.5], [-0.5, 2.0, 0.0]], dtype=torch.float64)
    lin = nn.Linear(3, 2, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(W)
    x = torch.randn(8, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = torch.zeros(8, dtype=torch.long)
    eps = 0.2
    xa = rb.pgd(lin, x, y, eps, steps=20)
    assert float((xa - x).abs().max()) <= eps + 1e-12
    with torch.no_grad():
        margin = (lin(xa)[:, 0] - lin(xa)[:, 1]) - (lin(x)[:, 0] - lin(x)[:, 1])
    torch.testing.assert_close(
        margin, torch.full((8,), -eps * float((W[0] - W[1]).abs().sum()), dtype=torch.float64)
    )
    xl2 = rb.pgd(lin, x, y, eps, steps=50, step_size=eps, norm="l2")
    assert float((xl2 - x).norm(dim=1).max()) <= eps + 1e-9
    with torch.no_grad():
        margin2 = (lin(xl2)[:, 0] - lin(xl2)[:, 1]) - (lin(x)[:, 0] - lin(x)[:, 1])
    torch.testing.assert_close(
        margin2,
        torch.full((8,), -eps * float((W[0] - W[1]).norm()), dtype=torch.float64),
        atol=1e-4,
        rtol=0,
    )


def test_pgd_is_at_least_as_strong_as_fgsm_on_a_trained_network():
    d = rb.digits(seed=0)
    net = rb.relu_network([64, 64, 10], "he", seed=0)
    fit(net, d.X_train, d.y_train, loss="cross_entropy", optimizer="adam", lr=1e-2, steps=150)
    x, y = d.X_test[:200], d.y_test[:200]
    with torch.no_grad():
        l_f = F.cross_entropy(net(rb.fgsm(net, x, y, 0.05)), y)
        l_p = F.cross_entropy(net(rb.pgd(net, x, y, 0.05, steps=10)), y)
        l_0 = F.cross_entropy(net(x), y)
    assert l_p >= l_f - 1e-4 and l_f > l_0


def test_ibp_bounds_are_sound_and_exact_for_one_linear_layer():
    g = torch.Generator().manual_seed(0)
    net = rb.relu_network([5, 32, 32, 3], "he", sigma_b=0.5, seed=0, dtype=torch.float64)
    x = torch.randn(10, 5, generator=g, dtype=torch.float64)
    lo, hi = rb.ibp_bounds(net, x, 0.1)
    pts = x.unsqueeze(1) + 0.1 * (2 * torch.rand(10, 500, 5, generator=g, dtype=torch.float64) - 1)
    with torch.no_grad():
        out = net(pts)
    assert torch.all(out >= lo.unsqueeze(1) - 1e-12) and torch.all(out <= hi.unsqueeze(1) + 1e-12)
    # one linear layer: the bounds are the exact extremes, w.x +- eps ||w||_1
    lin = nn.Linear(5, 2).double()
    lo1, hi1 = rb.ibp_bounds(nn.Sequential(lin), x, 0.1)
    with torch.no_grad():
        torch.testing.assert_close(hi1 - lin(x), (0.1 * lin.weight.abs().sum(1)).expand(10, 2))
    # eps = 0: both bounds are the output
    lo0, hi0 = rb.ibp_bounds(net, x, 0.0)
    with torch.no_grad():
        torch.testing.assert_close(lo0, net(x))
        torch.testing.assert_close(hi0, net(x))
    with pytest.raises(TypeError, match=r"model\[1\] is a Tanh"):
        rb.ibp_bounds(nn.Sequential(nn.Linear(2, 2), nn.Tanh()), torch.zeros(1, 2), 0.1)
    flat = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    lo2, hi2 = rb.ibp_bounds(flat, torch.zeros(3, 2, 2), 0.1)
    assert lo2.shape == (3, 2)


def test_ibp_tightness_closed_form_and_brute_force():
    # brute force for a deep linear net: the exact half-width of the image of the unit box
    g = torch.Generator().manual_seed(0)
    ws = [
        torch.randn(6, 4, generator=g, dtype=torch.float64),
        torch.randn(3, 6, generator=g, dtype=torch.float64),
    ]
    net = nn.Sequential(nn.Linear(4, 6, bias=False), nn.Linear(6, 3, bias=False)).double()
    with torch.no_grad():
        net[0].weight.copy_(ws[0])
        net[1].weight.copy_(ws[1])
    vertices = torch.cartesian_prod(*[torch.tensor([-1.0, 1.0], dtype=torch.float64)] * 4)
    with torch.no_grad():
        exact = net(vertices).max(0).values
    lo, hi = rb.ibp_bounds(net, torch.zeros(1, 4, dtype=torch.float64), 1.0)
    torch.testing.assert_close(rb.ibp_tightness(ws), exact / hi[0])
    torch.testing.assert_close(rb.ibp_tightness(net), exact / hi[0])
    # Gaussian deep linear nets: log-slope per layer near (1/2) ln(pi / (2 n))
    n, S = 512, 4
    w = [torch.randn(S, n, 50, generator=g, dtype=torch.float64)]
    w += [torch.randn(S, n, n, generator=g, dtype=torch.float64) for _ in range(3)]
    taus = [float(rb.ibp_tightness(w[: k + 1]).log().mean()) for k in range(4)]
    slope = (taus[-1] - taus[0]) / 3
    assert abs(slope / math.log(rb.ibp_tightness_at_init(n, 2)) - 1) < 0.02


@pytest.mark.parametrize("sigma_w", [math.sqrt(2.0), 1.0])
def test_input_gradient_norm_matches_monte_carlo(sigma_w):
    depth, m, d = 3, 512, 20
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, d, generator=g, dtype=torch.float64)
    vals = []
    for seed in range(12):
        net = rb.relu_network([d] + [m] * depth + [1], sigma_w, seed=seed, dtype=torch.float64)
        vals.append(rb.input_jacobian_norms(net, x).mean())
    mc = float(torch.stack(vals).mean())
    want = rb.input_gradient_norm(depth, sigma_w)
    assert abs(mc / want - 1) < 0.1
    assert want == pytest.approx(sigma_w**2 * 0.5 * (sigma_w**2 / 2) ** (depth - 1))
    gains = [sigma_w**2] * depth + [1.0]
    assert float(rb.relu_input_gradient_norm(gains)) == pytest.approx(want)


def test_mlp_input_gradient_norm_follows_its_parameterization():
    x = torch.randn(16, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for par in ("standard", "ntk"):
        vals = []
        for seed in range(8):
            net = MLP(
                [10, 512, 512, 1], parameterization=par, sigma_w=1.0, seed=seed, dtype=torch.float64
            )
            vals.append(rb.input_jacobian_norms(net, x).mean())
        want = net.input_gradient_norm()
        assert want == pytest.approx(0.25)
        assert abs(float(torch.stack(vals).mean()) / want - 1) < 0.1


def test_input_jacobian_norms_of_a_linear_map():
    lin = nn.Linear(4, 3).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    torch.testing.assert_close(
        rb.input_jacobian_norms(lin, x), lin.weight.pow(2).sum().expand(5).detach()
    )


def test_worst_case_logits_and_certified_accuracy_order():
    d = rb.digits(seed=0)
    net = rb.relu_network([64, 64, 10], "he", seed=0)
    fit(net, d.X_train, d.y_train, loss="cross_entropy", optimizer="adam", lr=1e-2, steps=100)
    x, y = d.X_test[:300], d.y_test[:300]
    for eps in (0.0, 0.01, 0.05):
        cert = rb.certified_accuracy(net, x, y, eps)
        rob = rb.robust_accuracy(net, x, y, eps, steps=10)
        clean = rb.robust_accuracy(net, x, y, 0.0)
        assert cert <= rob + 1e-12 <= clean + 2e-12
    with torch.no_grad():
        assert rb.certified_accuracy(net, x, y, 0.0) == pytest.approx(
            float((net(x).argmax(1) == y).double().mean())
        )
    z = rb.worst_case_logits(
        torch.tensor([[0.0, -1.0]]), torch.tensor([[2.0, 1.0]]), torch.tensor([0])
    )
    assert z.tolist() == [[0.0, 1.0]]


def test_certified_loss_through_fit_bounds_and_ramps():
    loss = rb.CertifiedLoss(0.1, warmup=5, ramp_steps=10, kappa=0.0)
    assert [rb.ramp(t, 0.1, 5, 10) for t in (0, 5, 10, 15, 99)] == pytest.approx(
        [0, 0, 0.05, 0.1, 0.1]
    )
    net = rb.relu_network([4, 16, 3], "he", seed=0)
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    assert float(loss(net, x, y, 0)) == pytest.approx(float(F.cross_entropy(net(x), y)))
    # after the ramp the certified loss bounds the cross-entropy at every point of the box
    pts = x + 0.1 * (2 * torch.rand(32, 4) - 1)
    with torch.no_grad():
        assert float(loss(net, x, y, 20)) >= float(F.cross_entropy(net(pts), y))
    d = rb.digits(seed=0)
    ibp = rb.relu_network([64, 64, 10], "he", seed=0)
    h = fit(
        ibp,
        d.X_train,
        d.y_train,
        loss=rb.CertifiedLoss(0.05, 20, 80),
        optimizer="adam",
        lr=5e-3,
        steps=200,
    )
    std = rb.relu_network([64, 64, 10], "he", seed=0)
    fit(std, d.X_train, d.y_train, loss="cross_entropy", optimizer="adam", lr=5e-3, steps=200)
    assert math.isfinite(h.last())
    x, y = d.X_test, d.y_test
    assert rb.certified_accuracy(ibp, x, y, 0.05) > rb.certified_accuracy(std, x, y, 0.05) + 0.2
    adv = rb.relu_network([64, 32, 10], "he", seed=0)
    h2 = fit(
        adv,
        d.X_train[:200],
        d.y_train[:200],
        loss=rb.AdversarialLoss(0.05, steps=3),
        optimizer="adam",
        lr=5e-3,
        steps=20,
    )
    assert math.isfinite(h2.last())


def test_bad_arguments_are_named():
    net = rb.relu_network([2, 4, 2], seed=0)
    with pytest.raises(ValueError, match="eps"):
        rb.pgd(net, torch.zeros(1, 2), torch.zeros(1, dtype=torch.long), -1.0)
    with pytest.raises(ValueError, match="norm"):
        rb.fgsm(net, torch.zeros(1, 2), torch.zeros(1, dtype=torch.long), 0.1, norm="l1")
    with pytest.raises(ValueError, match="depth"):
        rb.input_gradient_norm(0, 1.0)
    with pytest.raises(ValueError, match="sigma_w"):
        rb.relu_network([2, 4, 2], "xavier")
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        rb.ibp_tightness([torch.zeros(3, 2), torch.zeros(2, 2)])
    with pytest.raises(ValueError, match="kappa"):
        rb.CertifiedLoss(0.1, kappa=2.0)


def test_fit_passes_model_inputs_and_step_to_a_model_loss():
    seen = []

    class Probe:
        takes_model = True

        def __call__(self, model, x, y, step):
            seen.append((step, x.shape[0]))
            return F.cross_entropy(model(x), y)

    net = rb.relu_network([2, 4, 2], seed=0)
    fit(
        net,
        torch.randn(8, 2),
        torch.randint(0, 2, (8,)),
        loss=Probe(),
        steps=3,
        batch_size=4,
        record_every=10,
    )
    train_steps = [s for s, n in seen if n == 4]
    assert train_steps == [0, 1, 2]


def test_tightness_per_layer_and_jacobian_paths_agree():
    g = torch.Generator().manual_seed(3)
    ws = [torch.randn(2, 7, 5, generator=g, dtype=torch.float64)] + [
        torch.randn(2, 7, 7, generator=g, dtype=torch.float64) for _ in range(2)
    ]
    per = rb.ibp_tightness(ws, per_layer=True)
    for k in range(3):
        torch.testing.assert_close(per[k], rb.ibp_tightness(ws[: k + 1]))
    torch.testing.assert_close(per[0], torch.ones(2, 7, dtype=torch.float64))
    net = rb.relu_network([5, 16, 1], seed=0, dtype=torch.float64)
    x = torch.randn(6, 5, dtype=torch.float64)
    two = nn.Sequential(net, nn.Linear(1, 2).double())  # two outputs: the Jacobian path
    with torch.no_grad():
        two[1].weight.copy_(torch.tensor([[1.0], [0.0]], dtype=torch.float64))
    torch.testing.assert_close(rb.input_jacobian_norms(two, x), rb.input_jacobian_norms(net, x))
