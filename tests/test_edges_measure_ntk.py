"""Edges of ``dlt.measure.ntk``: the empirical NTK against a brute-force Jacobian, and the
errors and warnings its callers read.

The reference stacks one autograd gradient per sample and output (no vmap, no blocks), so a
block of the wrong size, outputs transposed in a (p, q) block, or the trace taken over the
wrong axis shows; sizes n1, n2, k, d all differ.
"""

import os
import warnings

import pytest
import torch
from torch import nn

from dlt.measure.ntk import empirical_ntk, kernel_distance
from dlt.nets import MLP


def _jacobian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(n, k, P): one backward pass per sample and output."""
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(x.shape[0]):
        out = model(x[i : i + 1]).reshape(-1)
        per_out = []
        for k in range(out.shape[0]):
            grads = torch.autograd.grad(out[k], params, retain_graph=True)
            per_out.append(torch.cat([g.reshape(-1) for g in grads]))
        rows.append(torch.stack(per_out))
    return torch.stack(rows)


def _brute(model, x1, x2):
    j1, j2 = _jacobian(model, x1), _jacobian(model, x2)
    return torch.einsum("ipa,jqa->ijpq", j1, j2)


def _net(k=3):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, k)).double()


class Scaled(nn.Module):
    """A module the structured path cannot read (a LayerNorm with affine parameters)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.body = nn.Sequential(nn.Linear(2, 4), nn.LayerNorm(4), nn.Linear(4, 3)).double()

    def forward(self, x):
        return self.body(x)


X1 = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
X2 = torch.randn(4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("method", ["jacobian", "structured", "auto"])
@pytest.mark.parametrize("batch_size", [None, 1, 2, 3])
def test_full_kernel_and_trace_match_brute_force(method, batch_size):
    """(n1, n2, k, k) blocks J_p(x_i) . J_q(x'_j) and their trace over p, for n1=5, n2=4,
    k=3, P=33, in blocks of 1, 2, 3 rows (uneven last blocks) or all at once: rejects blocks
    stitched along the wrong axis, a (p, q) transpose and a trace over the wrong axes."""
    for model in (_net(), Scaled()):
        ref = _brute(model, X1, X2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = empirical_ntk(model, X1, X2, batch_size=batch_size, method=method)
            tr = empirical_ntk(
                model, X1, X2, batch_size=batch_size, method=method, trace_outputs=True
            )
            sym = empirical_ntk(model, X1, batch_size=batch_size, method=method)
        assert got.shape == (5, 4, 3, 3)
        torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(tr, ref.diagonal(dim1=2, dim2=3).sum(-1), rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(sym, _brute(model, X1, X1), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("method", ["jacobian", "structured"])
def test_single_output_is_a_matrix(method):
    """One output: shape (n1, n2), the scalar kernel; with trace_outputs the same matrix."""
    model = _net(1)
    ref = _brute(model, X1, X2)[..., 0, 0]
    got = empirical_ntk(model, X1, X2, method=method)
    assert got.shape == (5, 4)
    torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(
        empirical_ntk(model, X1, X2, method=method, trace_outputs=True), ref, rtol=1e-10, atol=1e-10
    )


@pytest.mark.parametrize("method", ["jacobian", "structured"])
def test_float32_inputs_are_computed_in_the_model_dtype(method):
    """A float64 model and float32 inputs give a float64 kernel equal to the float64-input one
    (inputs converted to the model, not the model's answer rounded to the input)."""
    model = _net()
    x1, x2 = X1.float(), X2.float()
    got = empirical_ntk(model, x1, x2, method=method)
    assert got.dtype == torch.float64
    want = empirical_ntk(model, x1.double(), x2.double(), method=method)
    torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_jacobian_method_never_warns_and_auto_warns_at_the_caller():
    """``method="jacobian"`` takes the definition without trying the structured path (no
    warning); ``"auto"`` on an unreadable module warns once, attributed to the caller's line
    (not to the library's argument-checking wrapper)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empirical_ntk(Scaled(), X1, method="jacobian")
        empirical_ntk(_net(), X1, method="structured")
        empirical_ntk(_net(), X1)
    msg = (
        r"^empirical_ntk: the structured method cannot read this model \(module 'body\.1' "
        r"\(LayerNorm\)[^\n]*\); falling back to the Jacobian method$"
    )
    with pytest.warns(UserWarning, match=msg) as rec:
        empirical_ntk(Scaled(), X1)
    assert len(rec) == 1
    assert not rec[0].filename.endswith("params.py")  # stacklevel=3 pointed at the wrapper
    # mutmut's trampolines add frames between the library's functions: there the exact caller
    # cannot be reached by any fixed stack level, so it is checked on the real package only
    if "MUTANT_UNDER_TEST" not in os.environ:
        assert rec[0].filename == __file__


def test_inputs_the_model_cannot_read_are_named():
    """An input of the wrong width is named with its shape and the first line of the model's
    error; x2 of another per-sample shape than x1 is refused naming both."""
    seq = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1)).double()
    for method in ("jacobian", "structured"):
        with pytest.raises(
            ValueError,
            match=r"^x1 of shape \(5, 2\) does not fit the model: mat1 and mat2 shapes cannot "
            r"be multiplied \(1x2 and 3x3\)$",
        ):
            empirical_ntk(seq, X1, X2, method=method)
        with pytest.raises(
            ValueError,
            match=r"^x1 and x2 must have the same number of features, got x1 of shape \(5, 2\) "
            r"and x2 of shape \(4, 3\)$",
        ):
            empirical_ntk(_net(), X1, torch.zeros(4, 3), method=method)
    mlp = MLP([2, 4, 1], seed=0, dtype=torch.float64)
    with pytest.raises(
        ValueError, match=r"^x1 must have shape \(n, 2\) for this model, got \(5, 2, 1\)$"
    ):
        empirical_ntk(mlp, X1[:, :, None])


def test_argument_errors():
    """trace_outputs must be a bool (1 is not); batch_size 1 is the smallest allowed."""
    with pytest.raises(TypeError, match=r"^trace_outputs must be a bool, got 1$"):
        empirical_ntk(_net(), X1, trace_outputs=1)
    with pytest.raises(ValueError, match=r"^batch_size must be >= 1, got 0"):
        empirical_ntk(_net(), X1, batch_size=0)
    with pytest.raises(ValueError, match=r"^x1 must have shape \(n, \.\.\.\) with n >= 1"):
        empirical_ntk(_net(), X1[0])


class Holder(nn.Module):
    """A module with a ``layers`` attribute but no ``forward_trace``: not an MLP's layer view."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(4)
        self.layers = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2)).double()

    def forward(self, x):
        return self.layers(x)


def test_a_module_named_layers_is_not_taken_for_an_mlp():
    """Only a module with both ``layers`` and ``forward_trace`` is read as an MLP's layers; a
    plain module that happens to hold ``layers`` goes through the hooks, and is exact."""
    model = Holder()
    torch.testing.assert_close(empirical_ntk(model, X1, X2), _brute(model, X1, X2))


@pytest.mark.parametrize("trace", [False, True])
def test_sequential_on_token_inputs_uses_positions(trace):
    """An ``nn.Sequential`` whose first dense layer sees tokens (n, s, d) is not a chain of
    (n, d) layers: it must take the hook-based path (layers applied at positions). Checked
    against brute force for n1=3, n2=2, s=4 tokens, k=2 outputs."""
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(12, 2)).double()
    g = torch.Generator().manual_seed(6)
    x1 = torch.randn(3, 4, 2, dtype=torch.float64, generator=g)
    x2 = torch.randn(2, 4, 2, dtype=torch.float64, generator=g)
    ref = _brute(model, x1, x2)
    got = empirical_ntk(model, x1, x2, trace_outputs=trace)
    want = ref.diagonal(dim1=2, dim2=3).sum(-1) if trace else ref
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


class Recorder(nn.Module):
    """A module read through hooks that records the number of rows of each forward pass."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(7)
        self.inner = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2)).double()
        self.rows: list[int] = []

    def forward(self, x):
        self.rows.append(x.shape[0])
        return self.inner(x)


def test_batch_size_bounds_the_rows_per_pass_and_defaults_to_all():
    """``batch_size`` caps the rows of each pass (2 here: passes of 2, 1 and 2, 2, 1); without
    it every input goes in one pass (3 rows of x1, then 5 of x2: the default is all the rows,
    not the feature count or x1's rows alone), and the kernel is the same either way."""
    g = torch.Generator().manual_seed(8)
    x1 = torch.randn(3, 2, dtype=torch.float64, generator=g)
    x2 = torch.randn(5, 2, dtype=torch.float64, generator=g)
    m = Recorder()
    full = empirical_ntk(m, x1, x2)
    assert m.rows == [3, 5]
    m.rows.clear()
    torch.testing.assert_close(empirical_ntk(m, x1, x2, batch_size=2), full)
    assert m.rows == [2, 1, 2, 2, 1]
    m.rows.clear()
    torch.testing.assert_close(full, _brute(m, x1, x2), rtol=1e-10, atol=1e-10)
    m.rows.clear()
    empirical_ntk(m, x2)  # x2 alone: its 5 rows at once, not 2 (the number of features)
    assert m.rows == [5]


@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode])
def test_hook_path_inside_inference_mode(context):
    """Tensors made under ``torch.inference_mode()`` reach the hook-based path, which runs a
    backward pass: they must be usable there (and give the same kernel)."""
    model = Holder()
    ref = empirical_ntk(model, X1, X2)
    with context():
        a, b = X1.clone(), X2.clone()
        got = empirical_ntk(model, a, b)
    torch.testing.assert_close(got, ref, rtol=0, atol=0)


def test_sequential_starting_with_flatten():
    """An ``nn.Sequential`` that flattens (n, 2, 3) inputs first is a chain of dense layers
    on (n, 6): exact against brute force."""
    torch.manual_seed(9)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3), nn.ReLU(), nn.Linear(3, 2)).double()
    g = torch.Generator().manual_seed(10)
    x1 = torch.randn(3, 2, 3, dtype=torch.float64, generator=g)
    x2 = torch.randn(4, 2, 3, dtype=torch.float64, generator=g)
    torch.testing.assert_close(
        empirical_ntk(model, x1, x2), _brute(model, x1, x2), rtol=1e-10, atol=1e-10
    )


# ----------------------------------------------------------------------------- kernel_distance


def test_kernel_distance_shapes_and_magnitudes():
    """Shapes must agree (the message names both); float32 kernels of entries 1e30 (whose
    squares overflow float32) are compared in float64: the distance of 2 * Theta to Theta is 1."""
    with pytest.raises(
        ValueError,
        match=r"^theta_a and theta_b must have the same shape, got \(2, 2\) and \(2, 3\)$",
    ):
        kernel_distance(torch.eye(2), torch.ones(2, 3))
    big = torch.full((3, 3), 1e30, dtype=torch.float32)
    assert kernel_distance(2 * big, big) == pytest.approx(1.0, rel=1e-12)
    stack = torch.ones(2, 3, 3)  # 3 dimensions are accepted (a stack of kernels), as declared
    assert kernel_distance(3 * stack, stack) == pytest.approx(2.0)
    tiny = torch.full((3, 3), 1e-30, dtype=torch.float32)
    assert kernel_distance(tiny * 1.5, tiny) == pytest.approx(0.5, rel=1e-6)
