"""Grokking: modular data brute-forced, Fourier spectra of constructed embeddings, grokking times."""

import math

import pytest
import torch

from dlt import grokking as gk
from dlt.train import fit


@pytest.mark.parametrize(
    ("op", "rule"),
    [
        ("add", lambda a, b, p: (a + b) % p),
        ("sub", lambda a, b, p: (a - b) % p),
        ("mul", lambda a, b, p: (a * b) % p),
        ("x2+y2", lambda a, b, p: (a * a + b * b) % p),
    ],
)
def test_operation_table_brute_force(op, rule):
    p = 7
    d = gk.modular_arithmetic(p, op, 0.5, seed=3)
    X = torch.cat([d.X_train, d.X_test])
    y = torch.cat([d.y_train, d.y_test])
    assert len(y) == p * p
    assert sorted(map(tuple, X.tolist())) == [(a, b) for a in range(p) for b in range(p)]
    for (a, b), c in zip(X.tolist(), y.tolist(), strict=True):
        assert c == rule(a, b, p)


def test_division_table_and_sizes():
    p = 11
    d = gk.modular_arithmetic(p, "div", 0.3, seed=0)
    X = torch.cat([d.X_train, d.X_test])
    y = torch.cat([d.y_train, d.y_test])
    assert len(y) == p * (p - 1)
    assert len(d.y_train) == round(0.3 * p * (p - 1))
    for (a, b), c in zip(X.tolist(), y.tolist(), strict=True):
        assert b != 0 and (c * b) % p == a  # c = a / b  <=>  c b = a


def test_split_is_seeded_and_disjoint():
    a, b = gk.modular_arithmetic(13, seed=1), gk.modular_arithmetic(13, seed=1)
    assert torch.equal(a.X_train, b.X_train)
    assert not torch.equal(a.X_train, gk.modular_arithmetic(13, seed=2).X_train)
    train = set(map(tuple, a.X_train.tolist()))
    assert not train & set(map(tuple, a.X_test.tolist()))


def test_data_errors():
    with pytest.raises(ValueError, match="operation"):
        gk.modular_arithmetic(7, "pow")
    with pytest.raises(ValueError, match="p must be prime"):
        gk.modular_arithmetic(8, "div")
    with pytest.raises(ValueError, match="train_fraction"):
        gk.modular_arithmetic(7, train_fraction=1.0)
    with pytest.raises(ValueError, match="train_fraction"):
        gk.modular_arithmetic(2, train_fraction=0.01)
    with pytest.raises(ValueError, match="p must be"):
        gk.modular_arithmetic(1)


def test_one_hot_pairs():
    X = torch.tensor([[0, 1], [2, 2]])
    H = gk.one_hot_pairs(X, 3)
    assert H.shape == (2, 6) and torch.equal(H.sum(1), torch.full((2,), 2.0))
    assert H[1, 2] == 1 and H[1, 5] == 1
    with pytest.raises(ValueError, match="X must hold tokens"):
        gk.one_hot_pairs(torch.tensor([[0, 3]]), 3)
    with pytest.raises(ValueError, match="X must have shape"):
        gk.one_hot_pairs(torch.tensor([0, 1]), 3)
    with pytest.raises(ValueError, match="X must hold integer"):
        gk.one_hot_pairs(torch.zeros(2, 2), 3)


@pytest.mark.parametrize("p", [7, 8, 31])
def test_pure_wave_has_all_power_at_its_frequency(p):
    a = torch.arange(p, dtype=torch.float64)
    for k in range(1, (p + 1) // 2):
        E = torch.cos(2 * math.pi * k * a / p + 0.7)[:, None]
        P = gk.fourier_power(E)
        assert P.shape == (p // 2 + 1,)
        assert math.isclose(float(P[k]), p / 2, rel_tol=1e-10)
        assert float(P.sum() - P[k]) < 1e-10
        assert math.isclose(float(gk.top_frequency_share(E, 1)), 1.0, rel_tol=1e-10)


def test_parseval_and_members():
    E = torch.randn(3, 10, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    P = gk.fourier_power(E)
    assert P.shape == (3, 6) and P.dtype == torch.float64
    assert torch.allclose(P.sum(-1), (E**2).sum((-2, -1)))
    assert torch.allclose(P[1], gk.fourier_power(E[1]))


def test_gaussian_embedding_has_a_spread_spectrum():
    # i.i.d. N(0, 1): flat expected spectrum, so s_k is about k / (p // 2), a little more
    # because the top k of noisy powers are picked; the excess shrinks as d grows
    p, k = 31, 5
    g = torch.Generator().manual_seed(1)
    share_small = gk.top_frequency_share(torch.randn(200, p, 32, generator=g), k)
    share_big = gk.top_frequency_share(torch.randn(50, p, 2048, generator=g), k)
    uniform = k / (p // 2)
    assert uniform < float(share_small.mean()) < uniform + 0.1
    assert abs(float(share_big.mean()) - uniform) < 0.01


def test_share_errors():
    E = torch.randn(7, 3)
    with pytest.raises(ValueError, match="k must be <= p // 2 = 3"):
        gk.top_frequency_share(E, 4)
    with pytest.raises(ValueError, match="no non-constant power"):
        gk.top_frequency_share(torch.ones(7, 3), 1)
    with pytest.raises(ValueError, match="embedding must have shape"):
        gk.fourier_power(torch.randn(7))
    with pytest.raises(ValueError, match="embedding must be finite"):
        gk.fourier_power(torch.full((7, 2), float("nan")))


def test_grokking_time_of_a_synthetic_curve():
    steps = torch.arange(0, 1000, 10)
    train = (steps >= 30).double()
    test = torch.sigmoid((steps - 600.0) / 20)  # crosses 0.95 at 600 + 20 log 19 = 658.9
    assert gk.grokking_time(steps, train, 0.99).item() == 30
    assert gk.grokking_time(steps, test, 0.95).item() == 660
    both = torch.stack([test, 0.5 * test], 1)
    assert gk.grokking_time(steps, both, 0.95).tolist() == [660.0, math.inf]


def test_grokking_time_errors():
    with pytest.raises(ValueError, match="steps must be strictly increasing"):
        gk.grokking_time([0, 0], [0.1, 0.2], 0.5)
    with pytest.raises(ValueError, match="accuracy must have 2 rows"):
        gk.grokking_time([0, 1], [0.1, 0.2, 0.3], 0.5)
    with pytest.raises(ValueError, match="accuracy must lie in"):
        gk.grokking_time([0, 1], [0.1, 1.2], 0.5)
    with pytest.raises(ValueError, match="threshold"):
        gk.grokking_time([0, 1], [0.1, 0.2], 0.0)


def test_members_train_independently():
    # two members trained together follow exactly the trajectories they follow alone
    d = gk.modular_arithmetic(7, seed=0)
    both = gk.ModularMLP(7, embed_dim=4, hidden=16, n_models=2, seed=0, dtype=torch.float64)
    one = gk.ModularMLP(7, embed_dim=4, hidden=16, n_models=1, seed=0, dtype=torch.float64)
    with torch.no_grad():
        for p1, p2 in zip(one.parameters(), both.parameters(), strict=True):
            p1.copy_(p2[1:])
    kw = dict(lr=1e-2, weight_decay=1.0, steps=30, record_every=10)
    c2 = gk.fit_accuracy(both, *d[:4], **kw)
    c1 = gk.fit_accuracy(one, *d[:4], **kw)
    assert torch.allclose(both.embedding[1:], one.embedding, atol=1e-12)
    assert torch.equal(c2.test[:, 1:], c1.test)


def test_model_and_scales():
    net = gk.ModularMLP(5, embed_dim=3, hidden=4, n_models=2, output_scale=2.0, seed=0)
    x = torch.tensor([[0, 1], [4, 4]])
    out = net(x)
    assert out.shape == (2, 2, 5)
    with torch.no_grad():
        half = gk.ModularMLP(5, embed_dim=3, hidden=4, n_models=2, seed=0)(x)
    assert torch.allclose(out, 2 * half)
    with pytest.raises(ValueError, match="x must have shape"):
        net(torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="output_scale"):
        gk.ModularMLP(5, output_scale=0.0)
    with pytest.raises(ValueError, match="n_models"):
        gk.ModularMLP(5, n_models=0)


def test_fit_accuracy_stops_and_validates():
    d = gk.modular_arithmetic(5, train_fraction=0.8, seed=0)
    net = gk.ModularMLP(5, embed_dim=8, hidden=64, n_models=2, seed=0)
    c = gk.fit_accuracy(net, *d[:4], lr=3e-2, weight_decay=0.0, steps=300, stop_at=1e-9)
    assert int(c.step[-1]) == 0  # every member already meets the threshold at step 0
    c = gk.fit_accuracy(net, *d[:4], lr=3e-2, weight_decay=0.0, steps=200, record_every=50)
    assert c.step.tolist() == [0, 50, 100, 150, 200] and c.n_models == 2
    assert bool((c.train[-1] == 1).all())  # 20 pairs are memorized
    with pytest.raises(ValueError, match="y_test"):
        gk.fit_accuracy(net, *d[:3], d.y_test[:-1])
    with pytest.raises(ValueError, match="stop_at"):
        gk.fit_accuracy(net, *d[:4], stop_at=1.5)
    with pytest.raises(ValueError, match="stop_after needs stop_at"):
        gk.fit_accuracy(net, *d[:4], stop_after=10)
    with pytest.raises(ValueError, match="stop_after"):
        gk.fit_accuracy(net, *d[:4], stop_at=0.5, stop_after=-1)
    with pytest.raises(ValueError, match="ensemble_cross_entropy needs"):
        fit(torch.nn.Linear(2, 3), torch.randn(4, 2), torch.zeros(4), loss="ensemble_cross_entropy")


def test_fit_accuracy_stop_after_and_callback():
    # stop_after trains on past the first record where every member met stop_at, along the
    # same trajectory; the callback sees the model at every record, after the accuracies.
    # The training pairs serve as the test set, so that the accuracy reaches the threshold.
    d = gk.modular_arithmetic(5, train_fraction=0.8, seed=0)
    d = (d.X_train, d.y_train, d.X_train, d.y_train)
    kw = dict(lr=3e-2, weight_decay=0.0, steps=400, record_every=10)
    net = gk.ModularMLP(5, embed_dim=8, hidden=64, n_models=2, seed=0, dtype=torch.float64)
    first = gk.fit_accuracy(net, *d, stop_at=0.8, **kw)
    t = int(first.step[-1])
    assert bool((first.test[-1] >= 0.8).all()) and not bool((first.test[:-1] >= 0.8).all(1).any())
    seen = []
    net2 = gk.ModularMLP(5, embed_dim=8, hidden=64, n_models=2, seed=0, dtype=torch.float64)
    later = gk.fit_accuracy(
        net2,
        *d,
        stop_at=0.8,
        stop_after=25,
        callback=lambda step, m: seen.append((step, m.embedding.detach().clone())),
        **kw,
    )
    assert int(later.step[-1]) == t + 30  # the first record at least 25 steps on
    assert torch.equal(later.test[: len(first.step)], first.test)
    assert [s for s, _ in seen] == later.step.tolist()
    # the snapshot at the last record is the final embedding (no step after the last record)
    assert torch.equal(seen[-1][1], net2.embedding.detach())
