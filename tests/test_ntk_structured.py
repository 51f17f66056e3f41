"""The structured empirical NTK of networks of Linear and Conv layers, against brute force."""

import warnings

import pytest
import torch
from references import loop_ntk
from torch import nn

from dlt.measure._structured import Unsupported, plan
from dlt.ntk import empirical_ntk

D = torch.float64


def close(a, b):
    return float((a - b).norm() / b.norm()) < 1e-10


class SkipMLP(nn.Module):
    def __init__(self, d=5, width=7, k=3, bias=True):
        super().__init__()
        self.inp = nn.Linear(d, width, bias=bias)
        self.hidden = nn.ModuleList([nn.Linear(width, width, bias=bias) for _ in range(2)])
        self.out = nn.Linear(width, k)

    def forward(self, x):
        h = torch.tanh(self.inp(x))
        for layer in self.hidden:
            h = h + torch.relu(layer(h))  # residual connection
        return self.out(h)


class SmallCNN(nn.Module):
    def __init__(self, k=2):
        super().__init__()
        self.c1 = nn.Conv2d(2, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 6, 3, stride=2, padding=1, padding_mode="circular", groups=2)
        self.c3 = nn.Conv1d(6, 3, 2, padding="same", dilation=2)
        self.head = nn.Linear(3 * 2, k)
        self.act = nn.ReLU(inplace=True)  # in place after a conv: the hooks must keep a copy

    def forward(self, x):
        h = nn.functional.avg_pool2d(self.act(self.c1(x)), 2)  # (n, 4, 4, 4)
        h = torch.tanh(self.c2(h))  # (n, 6, 2, 2)
        h = h.flatten(2)  # (n, 6, 4)
        h = nn.functional.max_pool1d(torch.sin(self.c3(h)), 2)  # (n, 3, 2)
        return self.head(h.flatten(1))


class Block(nn.Module):
    """A transformer block from Linear layers: softmax attention, parameter-free norms, MLP."""

    def __init__(self, d=8, heads=2, k=2):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.norm = nn.LayerNorm(d, elementwise_affine=False)
        self.head = nn.Linear(d, k)

    def forward(self, x):
        n, t, d = x.shape
        h = self.norm(x)

        def split(z):
            return z.reshape(n, t, self.heads, -1).transpose(1, 2)

        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        att = torch.softmax(q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5, dim=-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(n, t, d))
        x = x + self.mlp(self.norm(x))
        return self.head(x.mean(1))


class Shared(nn.Module):
    """One Linear applied twice, at different depths: its calls add positions."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 1)

    def forward(self, x):
        return self.b(torch.tanh(self.a(torch.tanh(self.a(x)))))


def _models():
    torch.manual_seed(0)
    return {
        "skip-mlp": (SkipMLP().double(), torch.randn(6, 5, dtype=D), torch.randn(4, 5, dtype=D)),
        "skip-mlp-nobias-1out": (
            SkipMLP(k=1, bias=False).double(),
            torch.randn(5, 5, dtype=D),
            torch.randn(3, 5, dtype=D),
        ),
        "cnn": (
            SmallCNN().double(),
            torch.randn(5, 2, 8, 8, dtype=D),
            torch.randn(3, 2, 8, 8, dtype=D),
        ),
        "transformer": (
            Block().double(),
            torch.randn(4, 5, 8, dtype=D),
            torch.randn(3, 5, 8, dtype=D),
        ),
        "shared": (Shared().double(), torch.randn(5, 4, dtype=D), torch.randn(2, 4, dtype=D)),
    }


MODELS = _models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_structured_equals_jacobian_and_loop(name):
    model, x1, x2 = MODELS[name]
    for args in [(x1,), (x1, x2)]:
        ref = loop_ntk(model, args[0], args[-1])
        if ref.shape[-1] == 1:
            ref = ref[..., 0, 0]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the structured path must not fall back
            s = empirical_ntk(model, *args, method="structured")
        j = empirical_ntk(model, *args, method="jacobian")
        assert s.shape == ref.shape
        assert close(s, ref) and close(j, ref)


@pytest.mark.parametrize("name", ["skip-mlp", "cnn", "transformer"])
def test_trace_and_batches(name):
    model, x1, x2 = MODELS[name]
    full = empirical_ntk(model, x1, x2)
    traced = empirical_ntk(model, x1, x2, trace_outputs=True)
    assert close(traced, torch.einsum("ijpp->ij", full))
    assert close(empirical_ntk(model, x1, x2, trace_outputs=True, method="jacobian"), traced)
    assert close(empirical_ntk(model, x1, x2, batch_size=2), full)


def test_frozen_parameters_do_not_count():
    model = SkipMLP().double()
    model.inp.weight.requires_grad_(False)
    model.hidden[0].bias.requires_grad_(False)
    model.hidden[1].requires_grad_(False)
    x = torch.randn(4, 5, dtype=D)
    assert close(empirical_ntk(model, x), loop_ntk(model, x, x))


def test_mlp_layer_view_trace():
    from dlt.nets import MLP

    net = MLP([3, 8, 8, 2], sigma_b=0.3, seed=0, dtype=D)
    x = torch.randn(5, 3, dtype=D)
    full = empirical_ntk(net, x)
    assert close(empirical_ntk(net, x, trace_outputs=True), torch.einsum("ijpp->ij", full))
    assert close(full, empirical_ntk(net, x, method="jacobian"))


def test_other_parameters_fall_back_with_a_warning():
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Tanh(), nn.Linear(4, 1)).double()
    x = torch.randn(5, 3, dtype=D)
    with pytest.warns(UserWarning, match=r"module '1' \(LayerNorm\) has trainable parameters"):
        s = empirical_ntk(model, x, method="structured")
    assert close(s, empirical_ntk(model, x, method="jacobian"))


class Embedded(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.out = nn.Embedding(6, 4), nn.Linear(8, 1)

    def forward(self, x):
        return self.out(self.embed(x.round().long()).flatten(1))


def test_embedding_falls_back_with_a_warning():
    model = Embedded().double()
    x = torch.randint(0, 6, (5, 2)).double()
    with pytest.warns(UserWarning, match="'embed' \\(Embedding\\)"):
        s = empirical_ntk(model, x)
    assert close(s, loop_ntk(model, x, x)[..., 0, 0])


def test_batch_norm_reads_in_eval_mode_only():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, affine=False), nn.Linear(4, 1))
    model = model.double().eval()
    x = torch.randn(5, 3, dtype=D)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert close(empirical_ntk(model, x), loop_ntk(model, x, x)[..., 0, 0])
    model.train()  # training mode mixes the samples: no per-sample kernel by either method
    with pytest.raises(Unsupported, match="couples the samples"):
        plan(model)


@pytest.mark.parametrize("trace", [False, True])
def test_symmetric_half_equals_the_full_product(trace, monkeypatch):
    from dlt.measure import _structured as structured

    monkeypatch.setattr(structured, "_HALF_MIN", 64)
    model, _, _ = MODELS["transformer"]
    x = torch.randn(70, 5, 8, dtype=D)  # >= 64 inputs: the blocked upper-triangle product
    half = empirical_ntk(model, x, trace_outputs=trace)
    full = empirical_ntk(model, x, x.clone(), trace_outputs=trace)
    assert close(half, full)


@pytest.mark.parametrize(
    "conv",
    [
        lambda: nn.Conv2d(3, 4, 3, stride=2, dilation=2, padding=2, padding_mode="reflect"),
        lambda: nn.Conv2d(2, 5, (2, 3), stride=(1, 2), bias=False),
        lambda: nn.Conv1d(3, 4, 3, stride=2, dilation=3, padding=2),
    ],
)
def test_convolution_gradients_without_unfolding(conv):
    """Per-sample weight gradients from the convolution's own backward equal those from the
    unfolded patches (sum over positions of delta a^T). Rejects a transposed kernel, a stride
    or dilation dropped, or features in another order than unfolding gives."""
    from dlt.measure._structured import _gradients, _positions

    torch.manual_seed(0)
    module = conv().double()
    x = torch.randn(4, module.in_channels, *((9, 10) if module.weight.ndim == 4 else (11,)))
    x = x.double()
    out = module(x)
    grad = torch.randn(4, 2, *out.shape[1:], dtype=D)  # two outputs' gradients
    patches, delta = _positions(module, x, grad)
    for b2 in (0.0, 1.0):
        (fast, bias), (slow, bias_ref) = (
            _gradients(patches, delta[:, :, 0], b2),
            _gradients(patches.tensor()[:, 0], delta[:, :, 0], b2),
        )
        assert fast.shape == slow.shape and torch.allclose(fast, slow, rtol=1e-12, atol=1e-12)
        assert (bias is None) == (b2 == 0.0)
        if bias is not None:
            assert torch.equal(bias, bias_ref)
    # and the unfolded patches are the convolution's: conv = W a + b at every position
    w = module.weight.reshape(module.out_channels, -1)
    z = patches.tensor()[:, 0] @ w.T
    if module.bias is not None:
        z = z + module.bias
    assert torch.allclose(z.transpose(1, 2).reshape(out.shape), out, atol=1e-12)


def _chains():
    torch.manual_seed(1)
    acts = {
        "relu": nn.ReLU(),
        "relu-inplace": nn.ReLU(inplace=True),
        "leaky": nn.LeakyReLU(0.1),
        "tanh": nn.Tanh(),
        "sigmoid": nn.Sigmoid(),
        "gelu": nn.GELU(),
        "silu": nn.SiLU(inplace=True),
        "identity": nn.Identity(),
    }
    out = {
        name: nn.Sequential(nn.Linear(4, 6), act, nn.Linear(6, 5), act, nn.Linear(5, 3))
        for name, act in acts.items()
    }
    out["ends-in-activation"] = nn.Sequential(
        nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2), nn.Sigmoid()
    )
    out["starts-with-activation"] = nn.Sequential(
        nn.ReLU(inplace=True), nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1)
    )
    out["nested-dropout-no-bias"] = nn.Sequential(
        nn.Sequential(nn.Linear(4, 6, bias=False), nn.Dropout(0.5), nn.GELU()),
        nn.Linear(6, 6), nn.Linear(6, 1, bias=False),
    ).eval()  # fmt: skip
    return {k: m.double() for k, m in out.items()}


CHAINS = _chains()


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_chains_by_hand_equal_the_loop(name):
    """An nn.Sequential of Linear layers and pointwise activations is differentiated by hand
    (dlt.measure._chain); a wrong derivative in its table, or a backward step applied in the
    wrong order, would move the kernel away from the per-sample autograd loop."""
    from dlt.measure._chain import sequential_chain

    model = CHAINS[name]
    assert sequential_chain(model) is not None
    x1, x2 = torch.randn(5, 4, dtype=D), torch.randn(3, 4, dtype=D)
    for args in [(x1,), (x1, x2)]:
        before = [x.clone() for x in args]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            s = empirical_ntk(model, *args)
        # in-place activations never touch the caller's inputs (the model itself would)
        assert all(torch.equal(x, b) for x, b in zip(args, before, strict=True))
        ref = loop_ntk(model, before[0].clone(), before[-1].clone())
        assert close(s, ref if ref.shape[-1] > 1 else ref[..., 0, 0])
        traced = empirical_ntk(model, *before, trace_outputs=True, batch_size=2)
        assert close(traced, torch.einsum("ijpp->ij", ref))


def test_a_chain_that_flattens_its_inputs():
    from dlt.measure._chain import reads, sequential_chain

    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.ReLU(), nn.Linear(5, 2)).double()
    chain = sequential_chain(model)
    assert chain is not None and reads(chain, 3) and reads(chain, 2)
    x = torch.randn(4, 3, 4, dtype=D)
    assert close(empirical_ntk(model, x), loop_ntk(model, x, x))
    # without the Flatten, a Linear on (n, t, d) acts on positions: the hooks read it
    assert not reads(sequential_chain(model[1:]), 3)


def test_chains_with_frozen_parameters():
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    model = model.double()
    model[0].weight.requires_grad_(False)
    model[2].bias.requires_grad_(False)
    model[4].requires_grad_(False)
    x = torch.randn(5, 4, dtype=D)
    assert close(empirical_ntk(model, x), loop_ntk(model, x, x))


def test_what_is_not_a_chain_goes_through_the_hooks():
    """Not chains: a Linear used twice (its gradient is a sum over calls), GELU's tanh
    approximation (another derivative), an active Dropout, a negative LeakyReLU slope, a
    convolution; and a chain applied to tokens (n, t, d). Each still equals the loop."""
    from dlt.measure._chain import sequential_chain

    lin = nn.Linear(4, 4)
    models = [
        nn.Sequential(lin, nn.Tanh(), lin, nn.Tanh(), nn.Linear(4, 1)),
        nn.Sequential(nn.Linear(4, 5), nn.GELU(approximate="tanh"), nn.Linear(5, 1)),
        nn.Sequential(nn.Linear(4, 5), nn.LeakyReLU(-0.5), nn.Linear(5, 1)),
        nn.Sequential(nn.Linear(4, 5), nn.Dropout(0.5), nn.Linear(5, 1)),
        nn.Sequential(nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(4, 1)),
    ]
    for m in models:
        assert sequential_chain(m) is None
    x = torch.randn(4, 4, dtype=D)
    for m in models[:3]:
        m = m.double()
        assert close(empirical_ntk(m, x), loop_ntk(m, x, x)[..., 0, 0])
    tokens = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    xt = torch.randn(3, 2, 4, dtype=D)
    ref = loop_ntk(nn.Sequential(tokens, nn.Flatten()), xt, xt)
    assert close(empirical_ntk(tokens, xt), ref)
