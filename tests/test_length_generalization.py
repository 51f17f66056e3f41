"""Length generalization and the unseen: Boolean Fourier analysis against brute force, the
product kernel's unseen error against explicit interpolation, the copy task, the causal
transformer's mask and positional schemes, the sequence loss and accuracy."""

import itertools
import math

import pytest
import torch

from dlt.length_generalization import (
    IGNORE,
    POSITIONAL,
    CausalTransformer,
    FreshBatchLoss,
    boolean_cube,
    copy_task,
    influence,
    min_degree_interpolator,
    parity,
    product_kernel,
    product_kernel_unseen_error,
    sequence_accuracy,
    sequence_cross_entropy,
    subset_index,
    walsh_coefficients,
    walsh_values,
)
from dlt.solve import kernel_regression

f64 = torch.float64


def _subsets(d):
    return [s for r in range(d + 1) for s in itertools.combinations(range(d), r)]


def _random_f(d, seed=0, k=None):
    g = torch.Generator().manual_seed(seed)
    shape = (2**d,) if k is None else (2**d, k)
    return torch.randn(*shape, generator=g, dtype=f64)


def test_cube_rows_follow_the_bits():
    x = boolean_cube(3, dtype=f64)
    assert x.shape == (8, 3)
    for r in range(8):
        assert x[r].tolist() == [(-1.0) ** ((r >> i) & 1) for i in range(3)]
    assert len({tuple(row.tolist()) for row in x}) == 8


def test_walsh_coefficients_equal_the_brute_force_sums():
    d = 4
    x = boolean_cube(d, dtype=f64)
    f = _random_f(d, k=2)
    c = walsh_coefficients(f)
    for S in _subsets(d):
        brute = (f * parity(x, S).unsqueeze(1)).mean(0)
        assert torch.allclose(c[subset_index(S)], brute, atol=1e-13)
    assert torch.allclose(walsh_values(c), f, atol=1e-13)  # the inverse
    assert math.isclose(float((c[:, 0] ** 2).sum()), float((f[:, 0] ** 2).mean()))  # Parseval


def test_influence_is_the_mean_squared_derivative():
    d = 5
    x = boolean_cube(d, dtype=f64)
    f = _random_f(d, seed=1)
    c = walsh_coefficients(f)
    for i in range(d):
        flipped = x.clone()
        flipped[:, i] = -flipped[:, i]
        idx = ((1 - flipped) / 2).long() @ (2 ** torch.arange(d))  # row of the flipped point
        deriv = (f - f[idx]) / 2 * x[:, i]  # D_i f = (f(x^{i->1}) - f(x^{i->-1})) / 2
        assert math.isclose(float(influence(c, i)), float((deriv**2).mean()), rel_tol=1e-12)
    # a +-1 function: the probability that flipping x_i flips f
    maj = torch.sign(x[:, 0] + x[:, 1] + x[:, 2])
    assert math.isclose(float(influence(walsh_coefficients(maj), 0)), 0.5)
    assert float(influence(walsh_coefficients(maj), 4)) == 0.0


def test_min_degree_interpolator_fits_the_seen_half_and_errs_by_4_inf():
    d = 5
    x = boolean_cube(d, dtype=f64)
    f = _random_f(d, seed=2)
    c = walsh_coefficients(f)
    for i in (0, 3):
        g = min_degree_interpolator(c, i)
        seen = x[:, i] > 0
        gv = walsh_values(g)
        assert torch.allclose(gv[seen], f[seen], atol=1e-12)
        assert float(influence(g, i)) < 1e-24  # no character containing i
        assert math.isclose(
            float(((gv - f)[~seen] ** 2).mean()), 4 * float(influence(c, i)), rel_tol=1e-12
        )


def test_product_kernel_is_the_weighted_sum_of_parities():
    d, eps = 4, 0.6
    x = boolean_cube(d, dtype=f64)
    brute = sum(eps ** (2 * len(S)) * torch.outer(parity(x, S), parity(x, S)) for S in _subsets(d))
    assert torch.allclose(product_kernel(x, x, eps), brute, atol=1e-12)


@pytest.mark.parametrize("eps", [1.0, 0.7, 0.3])
@pytest.mark.parametrize("coordinate", [0, 2])
def test_kernel_unseen_error_equals_explicit_interpolation(eps, coordinate):
    # a random f: the cross terms f(S) f(S + {i}) are non-zero, unlike a sparse example
    d = 6
    x = boolean_cube(d, dtype=f64)
    f = _random_f(d, seed=3)
    seen = x[:, coordinate] > 0
    pred = kernel_regression(
        product_kernel(x[seen], x[seen], eps), f[seen], product_kernel(x[~seen], x[seen], eps)
    )
    measured = float(((pred - f[~seen]) ** 2).mean())
    closed = float(product_kernel_unseen_error(walsh_coefficients(f), eps, coordinate))
    assert math.isclose(measured, closed, rel_tol=1e-9)


def test_kernel_unseen_error_limits():
    c = walsh_coefficients(_random_f(4, seed=4))
    assert math.isclose(
        float(product_kernel_unseen_error(c, 0.0, 1)), 4 * float(influence(c, 1)), rel_tol=1e-12
    )


def test_boolean_functions_reject_bad_input():
    with pytest.raises(ValueError, match="values"):
        walsh_coefficients(torch.zeros(6))
    with pytest.raises(ValueError, match="coordinate"):
        influence(torch.zeros(8), 3)
    with pytest.raises(ValueError, match="x2"):
        product_kernel(torch.ones(2, 3), torch.ones(2, 4), 0.5)
    with pytest.raises(ValueError, match="subset"):
        subset_index([1, 1])
    with pytest.raises(ValueError, match="subset"):
        parity(boolean_cube(2), [2])


def test_copy_task_structure():
    t = copy_task(64, 1, 6, n_symbols=10, pad_to=15, seed=3)
    assert t.tokens.shape == t.targets.shape == (64, 15)
    assert int(t.lengths.min()) >= 1 and int(t.lengths.max()) <= 6
    bos, sep, pad = 10, 11, 12
    for row, tgt, k in zip(t.tokens, t.targets, t.lengths.tolist(), strict=True):
        a = row[1 : k + 1]
        assert row[0] == bos and row[k + 1] == sep
        assert len(set(a.tolist())) == k and int(a.max()) < 10  # unique symbols
        assert torch.equal(row[k + 2 : 2 * k + 1], a[:-1])  # the copy, teacher-forced
        assert torch.equal(tgt[k + 1 : 2 * k + 1], a)  # the scored targets: the copy
        assert bool((tgt[: k + 1] == IGNORE).all()) and bool((tgt[2 * k + 1 :] == IGNORE).all())
        assert row[2 * k + 1] == a[-1] and bool((row[2 * k + 2 :] == pad).all())
    assert torch.equal(copy_task(5, 3, seed=1).tokens, copy_task(5, 3, seed=1).tokens)
    with pytest.raises(ValueError, match="max_length"):
        copy_task(2, 3, 40, n_symbols=32)
    with pytest.raises(ValueError, match="pad_to"):
        copy_task(2, 3, pad_to=5)


@pytest.mark.parametrize("scheme", POSITIONAL)
def test_transformer_is_causal(scheme):
    net = CausalTransformer(
        12, d_model=16, n_heads=2, n_layers=2, positional=scheme, n_models=2, seed=1, dtype=f64
    )
    if scheme == "relative":
        with torch.no_grad():
            net.rel_bias.normal_()
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 12, (3, 9), generator=g)
    b = a.clone()
    b[:, 5:] = torch.randint(0, 12, (3, 4), generator=g)  # change the tokens after t = 4
    out_a, out_b = net(a), net(b)
    assert out_a.shape == (2, 3, 9, 12)
    assert torch.allclose(out_a[:, :, :5], out_b[:, :, :5], atol=1e-12)
    assert not torch.allclose(out_a[:, :, 5:], out_b[:, :, 5:])


@pytest.mark.parametrize("scheme", ["relative", "alibi", "none"])
def test_position_free_schemes_depend_on_offsets_only(scheme):
    net = CausalTransformer(
        12, d_model=8, n_heads=2, n_layers=2, positional=scheme, window=3, seed=2, dtype=f64
    )
    if scheme == "relative":
        with torch.no_grad():
            net.rel_bias.normal_()
    b = net.attention_bias(10, layer=1)
    for s in (1, 4):  # b(i + s, j + s) = b(i, j): a shift of both positions changes nothing
        assert torch.equal(b[..., s:, s:], b[..., :-s, :-s])
    if scheme == "relative":  # offsets >= window share one bias
        assert torch.equal(b[..., 9, 0], b[..., 9, 6]) and not torch.equal(
            b[..., 9, 7], b[..., 9, 6]
        )
    # with these schemes the model takes any length; absolute positions do not
    net(torch.zeros(1, 100, dtype=torch.long))
    with pytest.raises(ValueError, match="max_len"):
        CausalTransformer(12, d_model=8, n_heads=2, positional="absolute", max_len=8)(
            torch.zeros(1, 9, dtype=torch.long)
        )


def test_sinusoidal_and_absolute_positions_change_the_output():
    for scheme in ("absolute", "sinusoidal"):
        net = CausalTransformer(5, d_model=8, n_heads=2, n_layers=1, positional=scheme, seed=0)
        out = net(torch.tensor([[3, 3, 3]]))
        assert not torch.allclose(out[0, 0, 1], out[0, 0, 2])
    nope = CausalTransformer(5, d_model=8, n_heads=2, n_layers=1, positional="none", seed=0)
    out = nope(torch.tensor([[3, 3, 3]]))  # no positions: a repeated token looks the same
    assert torch.allclose(out[0, 0, 1], out[0, 0, 2], atol=1e-6)


def test_transformer_validates_its_arguments():
    with pytest.raises(ValueError, match="positional"):
        CausalTransformer(5, positional="rotary")
    with pytest.raises(ValueError, match="d_model"):
        CausalTransformer(5, d_model=10, n_heads=4)
    net = CausalTransformer(5, d_model=8, n_heads=2)
    with pytest.raises(TypeError, match="tokens"):
        net(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="tokens"):
        net(torch.tensor([[0, 5]]))


def test_members_are_independent():
    net = CausalTransformer(7, d_model=8, n_heads=2, n_layers=1, n_models=3, seed=0)
    x = torch.randint(0, 7, (2, 5), generator=torch.Generator().manual_seed(0))
    net(x)[1].sum().backward()
    for p in net.parameters():
        if p.grad is not None and p.ndim >= 3 and p.shape[0] == 3:
            assert float(p.grad[0].abs().max()) == 0.0 and float(p.grad[2].abs().max()) == 0.0


def test_sequence_cross_entropy_scores_only_the_targets():
    g = torch.Generator().manual_seed(0)
    out = torch.randn(2, 3, 4, 6, generator=g, dtype=f64)
    y = torch.randint(0, 6, (3, 4), generator=g)
    y[:, :2] = IGNORE
    by_hand = sum(
        torch.nn.functional.cross_entropy(out[m, :, 2:].reshape(-1, 6), y[:, 2:].reshape(-1))
        for m in range(2)
    )
    assert torch.allclose(sequence_cross_entropy(out, y), by_hand)


def test_sequence_accuracy_exact_and_per_token():
    t = copy_task(4, 3, seed=0)

    def oracle(x, wrong=()):
        logits = torch.nn.functional.one_hot(t.targets.clamp(min=0), t.vocab).double()
        for i, j in wrong:  # make (sequence i, position j) wrong
            logits[i, j] = logits[i, j].roll(1)
        return logits

    class Fixed(torch.nn.Module):
        def __init__(self, wrong=()):
            super().__init__()
            self.wrong = wrong

        def forward(self, x):
            return oracle(x, self.wrong)

    acc = sequence_accuracy(Fixed(), t.tokens, t.targets)
    assert acc.exact.tolist() == [1.0] and acc.token.tolist() == [1.0]
    acc = sequence_accuracy(Fixed(((0, 5), (0, 6), (2, 4))), t.tokens, t.targets)
    assert acc.exact.tolist() == [0.5]
    assert math.isclose(float(acc.token), 1 - 3 / 12)
    # a wrong prediction where nothing is scored changes nothing
    acc = sequence_accuracy(Fixed(((1, 0),)), t.tokens, t.targets)
    assert acc.exact.tolist() == [1.0]


def test_fresh_batch_loss_is_seeded_per_step():
    net = CausalTransformer(35, d_model=8, n_heads=2, n_layers=1, seed=0)
    loss = FreshBatchLoss(copy_task, 4, 1, 5, seed=3)
    a = loss(net, None, None, 7)
    assert torch.equal(a, loss(net, None, None, 7))
    assert not torch.equal(a, loss(net, None, None, 8))
    with pytest.raises(ValueError, match="max_length"):
        FreshBatchLoss(copy_task, 4, 3, 2)


def _member(mixed, m):
    """The one-member network of member ``m``'s scheme and window, with its parameters."""
    net = CausalTransformer(
        mixed.vocab, d_model=mixed.d_model, n_heads=mixed.n_heads, n_layers=mixed.n_layers,
        positional=mixed.schemes[m], window=mixed.windows[m], max_len=mixed.max_len,
        dtype=mixed.embedding.dtype,
    )  # fmt: skip
    with torch.no_grad():
        for name, p in net.named_parameters():
            q = getattr(mixed, name)
            member_dim = 1 if q.ndim == p.ndim and q.shape[0] == mixed.n_layers and name not in (
                "embedding", "position", "head", "lnf_w", "lnf_b"
            ) else 0  # fmt: skip
            q = q.narrow(member_dim, m, 1)
            if name == "rel_bias":
                q = q[..., : mixed.windows[m] + 1]
            p.copy_(q)
    return net


def test_a_mixed_ensemble_is_each_scheme_alone():
    """Each member of a mixed ensemble is, output for output and gradient for gradient, the
    network its scheme and window build alone (rejects a member that leaks another member's
    positions or biases, or clips its offsets at another member's window)."""
    schemes = ("absolute", "sinusoidal", "alibi", "none", "relative", "relative")
    mixed = CausalTransformer(
        12, d_model=16, n_heads=2, n_layers=2, positional=schemes, window=(2, 2, 2, 2, 1, 4),
        seed=3, dtype=f64,
    )  # fmt: skip
    assert mixed.n_models == 6 and mixed.positional == schemes and mixed.window == 4
    with torch.no_grad():  # relative biases that differ per bucket, so the clipping shows
        mixed.rel_bias.normal_(generator=torch.Generator().manual_seed(1))
    x = torch.randint(0, 12, (3, 11), generator=torch.Generator().manual_seed(0))
    out = mixed(x)
    out.pow(2).sum().backward()
    for m in range(6):
        alone = _member(mixed, m)
        ref = alone(x)
        assert torch.allclose(out[m], ref[0], atol=1e-12), schemes[m]
        ref.pow(2).sum().backward()
        assert torch.allclose(mixed.qkv.grad[:, m], alone.qkv.grad[:, 0], atol=1e-12)
    # the members' positions are their own: an unused position row has no gradient
    assert float(mixed.position.grad[1:].abs().max()) == 0.0
    assert float(mixed.rel_bias.grad[:, :4].abs().max()) == 0.0
    # and a mixed model with one scheme is the single-scheme model, bit for bit
    one = CausalTransformer(12, d_model=16, n_heads=2, positional="alibi", n_models=2, seed=3)
    two = CausalTransformer(12, d_model=16, n_heads=2, positional=["alibi", "alibi"], seed=3)
    assert torch.equal(one(x), two(x))


def test_mixed_ensemble_arguments_must_agree():
    with pytest.raises(ValueError, match="n_models 2"):
        CausalTransformer(
            5, d_model=8, n_heads=2, positional=("alibi", "none", "relative"), n_models=2
        )
    with pytest.raises(ValueError, match="window 2"):
        CausalTransformer(
            5, d_model=8, n_heads=2, positional=("alibi", "none", "relative"), window=(1, 2)
        )
    with pytest.raises(ValueError, match=r"positional\[1\]"):
        CausalTransformer(5, d_model=8, n_heads=2, positional=("alibi", "rotary"))
    with pytest.raises(ValueError, match=r"window\[0\]"):
        CausalTransformer(5, d_model=8, n_heads=2, window=(0, 2))
    with pytest.raises(ValueError, match="positional"):
        CausalTransformer(5, d_model=8, n_heads=2, positional=[])
    # absolute members bound the length of every input
    mixed = CausalTransformer(5, d_model=8, n_heads=2, positional=("none", "absolute"), max_len=4)
    with pytest.raises(ValueError, match="max_len"):
        mixed(torch.zeros(1, 5, dtype=torch.long))
