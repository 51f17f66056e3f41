"""Edges of the structured empirical NTK (``dlt.measure._structured``): what ``plan``
refuses and how it says so, inputs without the batch first, and the blocked symmetric
product at and beyond its threshold."""

import pytest
import torch
from torch import nn

from dlt.measure import _structured as structured
from dlt.measure._structured import Unsupported, factors, plan

D = torch.float64


def test_plan_names_the_module_that_stops_it_from_the_first_word():
    """Each refusal says which module and why; a module at the root has no name to quote.
    Rejects a mangled or missing message and a label that quotes an empty name."""
    bn = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    with pytest.raises(Unsupported, match=r"^module '1' \(BatchNorm1d\) couples the samples of a batch in training mode$"):  # fmt: skip
        plan(bn)
    with pytest.raises(Unsupported, match=r"^module BatchNorm1d couples the samples"):
        plan(nn.BatchNorm1d(4))
    ln = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    with pytest.raises(Unsupported, match=r"^module '1' \(LayerNorm\) has trainable parameters outside nn.Linear, nn.Conv1d and nn.Conv2d$"):  # fmt: skip
        plan(ln)
    with pytest.raises(Unsupported, match=r"^module LayerNorm has trainable parameters"):
        plan(nn.LayerNorm(4))
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight
    with pytest.raises(Unsupported, match=r"^a parameter is shared by modules '0' and '1'$"):
        plan(nn.Sequential(a, b))
    frozen = nn.Sequential(nn.Linear(3, 1)).requires_grad_(False)
    with pytest.raises(Unsupported, match=r"^the model has no trainable parameters in nn.Linear or nn.Conv layers$"):  # fmt: skip
        plan(frozen)


def test_plan_reads_past_modules_without_trainable_parameters():
    """Frozen or parameter-free modules are skipped (not a reason to stop), and every
    module holding trainable weights is listed once, in order."""
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Tanh(), nn.Linear(4, 2))
    model[1].requires_grad_(False)
    assert plan(model) == [model[0], model[3]]
    bn = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)).eval()
    bn[1].requires_grad_(False)
    assert plan(bn) == [bn[0], bn[2]]


class OverTheBatch(nn.Module):
    """A linear layer applied across the batch: samples interact, which the structured
    path cannot read."""

    def __init__(self):
        super().__init__()
        self.mix, self.out = nn.Linear(5, 5), nn.Linear(3, 1)

    def forward(self, x):
        return self.out(self.mix(x.T).T)


def test_a_layer_whose_inputs_lack_the_batch_is_named():
    model = OverTheBatch().double()
    x = torch.randn(5, 3, dtype=D)
    with pytest.raises(Unsupported, match=r"^a Linear layer received inputs of shape \(3, 5\) whose first dimension is not the batch of 5$"):  # fmt: skip
        factors(model, plan(model), x)


def test_the_product_of_two_different_sets_is_never_halved(monkeypatch):
    """Only a product of a set with itself may be computed as its upper half mirrored: with
    many rows and ``y`` not ``x``, the result is ``x @ y.T`` (not ``x @ x.T``)."""
    monkeypatch.setattr(structured, "_HALF_MIN", 8)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 6, generator=g, dtype=D), torch.randn(40, 6, generator=g, dtype=D)
    assert torch.allclose(structured._outer_products(x, y, False), x @ y.T, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("n", [7, 8, 9, 16, 17, 40, 150, 1100])
def test_the_blocked_symmetric_product_covers_every_block(n, monkeypatch):
    """Below ``_HALF_MIN`` rows the whole product, from it on the blocks on and above the
    diagonal, mirrored: ``x @ x.T`` either way. Sizes around the block step (16 rows, or
    n // 8) and a ragged last block reject a first row, a block or a mirror skipped."""
    monkeypatch.setattr(structured, "_HALF_MIN", 8)
    x = torch.randn(n, 5, generator=torch.Generator().manual_seed(n), dtype=D)
    got = structured._outer_products(x, x, True)
    assert torch.allclose(got, x @ x.T, rtol=1e-13, atol=1e-13)


def brute_ntk(model, x):
    """One autograd backward pass per sample and output: (n, n, k, k)."""
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(x.shape[0]):
        out = model(x[i : i + 1]).reshape(-1)
        rows.append(
            torch.stack(
                [
                    torch.cat(
                        [g.reshape(-1) for g in torch.autograd.grad(o, params, retain_graph=True)]
                    )
                    for o in out
                ]  # fmt: skip
            )
        )
    j = torch.stack(rows)
    return torch.einsum("ipx,jqx->ijpq", j, j)


class TwiceConv(nn.Module):
    """One convolution applied twice (its calls are more positions), and a second one whose
    weight is frozen while its bias trains."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 2, 3, padding=1)
        self.frozen = nn.Conv1d(2, 2, 3)
        self.frozen.weight.requires_grad_(False)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        h = torch.tanh(self.conv(torch.tanh(self.conv(x))))
        return self.head(torch.tanh(self.frozen(h)).flatten(1))


def test_convolutions_called_twice_or_with_a_frozen_weight():
    """A convolution's patches stay folded until a Gram contraction needs them: joining the
    patches of two calls, or dropping a frozen weight's features, must unfold them first.
    Equal to the per-sample autograd loop."""
    from dlt.ntk import empirical_ntk

    torch.manual_seed(0)
    model = TwiceConv().double()
    x = torch.randn(4, 2, 6, dtype=D)
    assert float((empirical_ntk(model, x) - brute_ntk(model, x)).norm()) < 1e-10 * float(
        brute_ntk(model, x).norm()
    )


def hooked_ntk(model, x):
    """The structured kernel through the forward hooks (never the hand-made chain): (n, n, k, k)."""
    layers = plan(model)
    return structured.structured_kernel(lambda z: factors(model, layers, z), x, None, len(x), False)


def assert_close_to_loop(got, model, x):
    want = brute_ntk(model, x)
    assert got.shape == want.shape
    assert float((got - want).norm()) < 1e-10 * float(want.norm())


def test_every_kept_output_changed_in_place():
    """When an in-place activation follows every layer (the last included), the hooks must
    still keep copies: rejects a rerun decided on an unchanged output instead of a changed
    one, which would read the gradients of the activations' outputs."""
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Linear(3, 4), nn.LeakyReLU(0.3, inplace=True), nn.Linear(4, 2), nn.LeakyReLU(0.3, inplace=True)
    ).double()  # fmt: skip
    x = torch.randn(5, 3, dtype=D)
    assert_close_to_loop(hooked_ntk(model, x), model, x)


class Gated(nn.Module):
    """A layer whose output only gates another through a comparison: no gradient reaches it."""

    def __init__(self):
        super().__init__()
        self.gate, self.body = nn.Linear(3, 4), nn.Linear(3, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(torch.tanh(self.body(x)) * (self.gate(x) > 0))


def test_a_layer_that_no_output_reaches_contributes_zero():
    """Autograd gives no gradient for a layer output outside the outputs' graph: its share is
    zero (the loop without that layer), not an error. Rejects autograd asked to fail on
    unused layer outputs and a missing gradient read as a tensor (or zeros shaped like
    nothing)."""
    torch.manual_seed(2)
    model = Gated().double()
    x = torch.randn(6, 3, dtype=D)
    got = hooked_ntk(model, x)
    model.gate.requires_grad_(False)
    assert_close_to_loop(got, model, x)


class WeightUsedDirectly(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin, self.head = nn.Linear(3, 2), nn.Linear(2, 1)

    def forward(self, x):
        return self.head(x @ self.lin.weight.T + self.lin.bias)


def test_a_layer_never_called_is_named():
    """A layer whose parameters are used without calling it cannot be read by hooks; the
    message says which kind of layer and why. Rejects a mangled or missing message."""
    model = WeightUsedDirectly().double()
    with pytest.raises(Unsupported, match=r"^a Linear layer with trainable parameters was not called in forward \(its parameters may be used directly\)$"):  # fmt: skip
        factors(model, plan(model), torch.randn(2, 3, dtype=D))


class PaddedConv1d(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.conv = nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode)
        self.head = nn.Linear(3 * 7, 2)

    def forward(self, x):
        return self.head(torch.tanh(self.conv(x)).flatten(1))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv1d_padding_modes_other_than_zeros(mode):
    """A Conv1d's input is read as one row of an image: its two-sided padding must pad only
    the last dimension, in the layer's own mode. Rejects the padding given as a Conv2d's
    (which F.pad refuses, or applies to another dimension). Equal to the autograd loop."""
    torch.manual_seed(3)
    model = PaddedConv1d(mode).double()
    x = torch.randn(3, 2, 5, dtype=D)
    assert_close_to_loop(hooked_ntk(model, x), model, x)
