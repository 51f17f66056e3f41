"""Sparsity and lottery tickets: magnitude masks against brute force, masked training, rewinding, IMP."""

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from dlt.lottery import (
    MaskedModel,
    MLPEnsemble,
    densities,
    iterative_magnitude_pruning,
    prune_by_magnitude,
    random_masks,
    rewind,
    tanh_teacher_classes,
)
from dlt.train import fit


def brute_force(weights, fraction, masks):
    """Remove round(fraction * alive) alive weights of smallest |w|, ties by position, in numpy."""
    flat = np.concatenate([np.abs(w.numpy()).ravel() for w in weights])
    alive = np.concatenate([m.numpy().ravel() for m in masks]).astype(bool)
    k = int(np.floor(fraction * alive.sum() + 0.5))
    candidates = sorted((flat[i], i) for i in np.flatnonzero(alive))  # ties: smaller index first
    keep = alive.copy()
    for _, i in candidates[:k]:
        keep[i] = False
    out, at = [], 0
    for w in weights:
        out.append(torch.from_numpy(keep[at : at + w.numel()].reshape(w.shape)))
        at += w.numel()
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.5, 0.77, 1.0])
def test_global_matches_brute_force_with_ties_and_old_masks(seed, fraction):
    g = torch.Generator().manual_seed(seed)
    # integer-valued weights: many ties in magnitude, and signs that must not matter
    weights = [torch.randint(-3, 4, s, generator=g).double() for s in [(4, 5), (3, 4), (2, 3)]]
    masks = [torch.rand(w.shape, generator=g) < 0.7 for w in weights]
    got = prune_by_magnitude(weights, fraction, "global", masks)
    want = brute_force(weights, fraction, masks)
    for a, b in zip(got, want, strict=True):
        assert torch.equal(a, b)
    alive = sum(int(m.sum()) for m in masks)
    assert sum(int(m.sum()) for m in got) == alive - int(np.floor(fraction * alive + 0.5))
    assert all(not bool((a & ~m).any()) for a, m in zip(got, masks, strict=True))  # no revival


def test_layer_matches_brute_force_per_layer():
    g = torch.Generator().manual_seed(7)
    weights = [torch.randint(-2, 3, s, generator=g).double() for s in [(6, 5), (5, 4)]]
    got = prune_by_magnitude(weights, [0.5, 0.25], "layer")
    want = [
        brute_force([w], f, [torch.ones_like(w, dtype=torch.bool)])[0]
        for w, f in zip(weights, [0.5, 0.25], strict=True)
    ]
    for a, b in zip(got, want, strict=True):
        assert torch.equal(a, b)
    assert [int(m.sum()) for m in got] == [15, 15]


def test_all_ties_remove_exactly_k_in_order():
    w = [torch.ones(2, 5)]
    m = prune_by_magnitude(w, 0.3, "global")[0]
    assert m.flatten().tolist() == [False] * 3 + [True] * 7


def test_global_and_layer_thresholds_differ_on_a_hand_built_example():
    # layer 0 holds large weights, layer 1 small ones: a global threshold empties layer 1
    w = [torch.tensor([[5.0, 6.0], [7.0, 8.0]]), torch.tensor([[0.1, 0.2], [0.3, 0.4]])]
    glob = prune_by_magnitude(w, 0.5, "global")
    layer = prune_by_magnitude(w, 0.5, "layer")
    assert glob[0].all() and not glob[1].any()
    assert layer[0].tolist() == [[False, False], [True, True]]
    assert layer[1].tolist() == [[False, False], [True, True]]
    assert densities(glob).tolist() == [1.0, 0.0, 0.5]
    assert densities(layer).tolist() == [0.5, 0.5, 0.5]


def test_members_are_pruned_independently():
    g = torch.Generator().manual_seed(3)
    weights = [torch.randn(3, 4, 5, generator=g), torch.randn(3, 2, 4, generator=g)]
    for scope in ("global", "layer"):
        together = prune_by_magnitude(weights, 0.6, scope, members=True)
        for i in range(3):
            alone = prune_by_magnitude([w[i] for w in weights], 0.6, scope)
            for a, b in zip(together, alone, strict=True):
                assert torch.equal(a[i], b)


def test_bad_arguments_name_themselves():
    w = [torch.randn(2, 2)]
    with pytest.raises(ValueError, match="fraction"):
        prune_by_magnitude(w, 1.5)
    with pytest.raises(ValueError, match="fraction"):
        prune_by_magnitude(w, [0.5, 0.5], "layer")
    with pytest.raises(ValueError, match="scope"):
        prune_by_magnitude(w, 0.5, "row")
    with pytest.raises(ValueError, match="masks"):
        prune_by_magnitude(w, 0.5, masks=[torch.ones(3)])
    with pytest.raises(ValueError, match="weights"):
        prune_by_magnitude([torch.tensor([float("nan")])], 0.5)


def test_random_masks_keep_counts_per_layer_and_member():
    g = torch.Generator().manual_seed(0)
    masks = [torch.rand(4, 6, 5, generator=g) < 0.3, torch.rand(4, 3, 6, generator=g) < 0.6]
    r = random_masks(masks, members=True, seed=1)
    for a, b in zip(masks, r, strict=True):
        assert torch.equal(a.flatten(1).sum(1), b.flatten(1).sum(1))
    assert torch.equal(densities(masks, members=True), densities(r, members=True))
    assert not all(torch.equal(a, b) for a, b in zip(masks, r, strict=True))


@pytest.mark.parametrize(
    ("optimizer", "weight_decay"), [("sgd", 0.0), ("adam", 0.0), ("adam", 0.1), ("adamw", 0.1)]
)
def test_pruned_weights_stay_exactly_zero_through_fit(optimizer, weight_decay):
    net = MLPEnsemble([4, 16, 3], seed=[0, 1], dtype=torch.float64)
    masks = prune_by_magnitude([p.detach() for p in net.weights], 0.7, members=True)
    masked = MaskedModel(net, {f"weights.{i}": m for i, m in enumerate(masks)})
    X = torch.randn(64, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = torch.arange(64) % 3
    before = [w.detach().clone() for w in net.weights]
    fit(
        masked,
        X,
        y,
        loss="ensemble_cross_entropy",
        optimizer=optimizer,
        lr=0.05,
        weight_decay=weight_decay,
        steps=30,
        batch_size=16,
    )
    for w, m, w0 in zip(net.weights, masks, before, strict=True):
        assert bool((w[~m] == 0).all())  # stored weights
        assert not torch.equal(w[m], w0[m])  # the kept ones trained
    for v, m in zip(masked.masked_weights().values(), masks, strict=True):
        assert bool((v[~m] == 0).all())


def test_masked_model_forward_is_the_model_with_masked_weights():
    torch.manual_seed(0)
    lin = nn.Linear(3, 2, dtype=torch.float64)
    w = lin.weight.detach().clone()
    m = torch.tensor([[1, 0, 1], [0, 1, 1]])
    masked = MaskedModel(lin, {"weight": m})
    x = torch.randn(5, 3, dtype=torch.float64)
    assert torch.allclose(masked(x), x @ (w * m).T + lin.bias, atol=0, rtol=1e-15)
    with pytest.raises(ValueError, match="masks"):
        MaskedModel(lin, {"nope": m})
    with pytest.raises(ValueError, match="masks"):
        MaskedModel(lin, {"weight": torch.ones(2, 2)})


def test_rewind_restores_exact_initial_values():
    net = MLPEnsemble([5, 7, 2], seed=[3, 4])
    init = {n: p.detach().clone() for n, p in net.named_parameters()}
    masks = {n: (torch.rand(p.shape) < 0.5) for n, p in net.named_parameters() if p.ndim == 3}
    masked = MaskedModel(net, masks)
    fit(
        masked,
        torch.randn(20, 5),
        torch.arange(20) % 2,
        loss="ensemble_cross_entropy",
        optimizer="adam",
        lr=0.1,
        steps=5,
    )
    rewind(masked, init)
    for n, p in net.named_parameters():
        want = init[n] * masks[n] if n in masks else init[n]
        assert torch.equal(p.detach(), want)


def test_ensemble_members_equal_single_networks():
    x = torch.randn(6, 3)
    many = MLPEnsemble([3, 8, 4, 2], seed=[5, 9])(x)
    for i, s in enumerate([5, 9]):
        assert torch.equal(many[i], MLPEnsemble([3, 8, 4, 2], seed=[s])(x)[0])
    w = [p.detach() for p in MLPEnsemble([100, 400, 10], seed=[0]).weights]
    assert (
        abs(float(w[0].std()) - (2 / 100) ** 0.5) < 0.01 and abs(float(w[1].std()) - 0.05) < 0.003
    )
    with pytest.raises(ValueError, match="widths"):
        MLPEnsemble([3])


def test_teacher_is_reproducible_and_balanced_enough():
    a, b = tanh_teacher_classes(500, 100, seed=2), tanh_teacher_classes(500, 100, seed=2)
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_test, b.y_test)
    counts = torch.bincount(a.y_train, minlength=5)
    assert int(counts.min()) > 0


def test_imp_rounds_masks_rewinding_and_controls():
    data = tanh_teacher_classes(256, 128, dim=6, seed=0)
    net = MLPEnsemble([6, 20, 10, 5], seed=[0, 0, 1, 2])
    init = {n: p.detach().clone() for n, p in net.named_parameters()}
    out = iterative_magnitude_pruning(
        net,
        data.X_train,
        data.y_train,
        data.X_test,
        data.y_test,
        rounds=3,
        fraction=0.5,
        layer_fraction=[0.5, 0.5, 0.25],
        scope=["global", "layer", "global", "layer"],
        mask_from=[0, 1, 0, 1],
        steps=20,
        batch_size=32,
        record_every=10,
        lr=1e-2,
    )
    assert [r.round for r in out] == [0, 1, 2, 3]
    sizes = [6 * 20, 20 * 10, 10 * 5]
    for r, rnd in enumerate(out):
        # global members keep exactly round(0.5 ...) of all weights; layer members per layer
        alive_g = sum(int(m[0].sum()) for m in rnd.masks)
        want = sum(sizes)
        for _ in range(r):
            want -= int(np.floor(0.5 * want + 0.5))
        assert alive_g == want
        # controls carry their source's mask
        for m in rnd.masks:
            assert torch.equal(m[2], m[0]) and torch.equal(m[3], m[1])
        assert rnd.test_accuracy.shape == (3, 4) and rnd.step.tolist() == [0, 10, 20]
    for a, b in itertools.pairwise(out):  # nested masks: a pruned weight never comes back
        assert all(not bool((mb & ~ma).any()) for ma, mb in zip(a.masks, b.masks, strict=True))
    # layer member at round 1: 50%, 50%, 25% of each layer removed
    assert [int(m[1].sum()) for m in out[1].masks] == [60, 100, 37]
    # the round-0 curves of the identical members 0 and 1 (same seed, dense) coincide
    assert torch.equal(out[0].test_accuracy[:, 0], out[0].test_accuracy[:, 1])
    acc, step = out[0].early_stop()
    assert acc.shape == (4,) and step.shape == (4,)
    assert out[0].steps_to(2.0).tolist() == [-1] * 4
    # the rewound state: rerunning one round from the init with the round-1 masks gives
    # the same curves as the procedure did (so the procedure rewound to exactly the init)
    rewind(net, init)
    again = iterative_magnitude_pruning(
        net,
        data.X_train,
        data.y_train,
        data.X_test,
        data.y_test,
        rounds=0,
        steps=20,
        batch_size=32,
        record_every=10,
        lr=1e-2,
    )
    assert torch.equal(again[0].test_accuracy, out[0].test_accuracy)
