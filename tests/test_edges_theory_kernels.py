"""Edges of the infinite-width kernels (``dlt.theory.kernels``): defaults, dtypes, ``x2``,
the error messages, each checked against the recursion computed by hand on scalars."""

import math

import pytest
import torch

from dlt.theory import kernels

D = torch.float64
PUBLIC = {
    "nngp": lambda *a, **k: kernels.nngp(*a, **k),
    "ntk": lambda *a, **k: kernels.ntk(*a, **k),
    "nngp_ntk.nngp": lambda *a, **k: kernels.nngp_ntk(*a, **k).nngp,
    "nngp_ntk.ntk": lambda *a, **k: kernels.nngp_ntk(*a, **k).ntk,
    "textbook.nngp": lambda *a, **k: kernels.textbook_kernels(*a, **k).nngp,
    "textbook.ntk": lambda *a, **k: kernels.textbook_kernels(*a, **k).ntk,
}


def _expectations(k11, k22, k12, activation):
    """E[phi(u)^2], E[phi(v)^2], E[phi(u) phi(v)], E[phi'(u) phi'(v)] on Python floats."""
    if activation == "identity":
        return k11, k22, k12, 1.0
    if activation == "relu":
        norm = math.sqrt(k11 * k22)
        c = 0.0 if norm == 0 else max(-1.0, min(1.0, k12 / norm))
        theta = math.acos(c)
        e12 = norm / (2 * math.pi) * (math.sin(theta) + (math.pi - theta) * c)
        return k11 / 2, k22 / 2, e12, (math.pi - theta) / (2 * math.pi)
    a1, a2 = 1 + 2 * k11, 1 + 2 * k22
    e = [2 / math.pi * math.asin(2 * k / math.sqrt(a * b)) for k, a, b in
         ((k11, a1, a1), (k22, a2, a2), (k12, a1, a2))]  # fmt: skip
    return e[0], e[1], e[2], 4 / math.pi / math.sqrt(a1 * a2 - 4 * k12**2)


def by_hand(x1, x2, depth, sigma_w, sigma_b, activation):
    """The recursion of the module docstring, one pair at a time, in Python floats."""
    sw2, sb2 = sigma_w**2, sigma_b**2
    k_out = torch.empty(len(x1), len(x2), dtype=D)
    t_out = torch.empty_like(k_out)
    for i, u in enumerate(x1.tolist()):
        for j, v in enumerate(x2.tolist()):
            d = len(u)
            k11 = sw2 * sum(a * a for a in u) / d + sb2
            k22 = sw2 * sum(b * b for b in v) / d + sb2
            k12 = sw2 * sum(a * b for a, b in zip(u, v, strict=True)) / d + sb2
            t = k12
            for _ in range(depth):
                e11, e22, e12, d12 = _expectations(k11, k22, k12, activation)
                k11, k22, k12 = sw2 * e11 + sb2, sw2 * e22 + sb2, sw2 * e12 + sb2
                t = k12 + sw2 * d12 * t
            k_out[i, j], t_out[i, j] = k12, t
    return k_out, t_out


def _inputs():
    g = torch.Generator().manual_seed(11)
    x1 = torch.randn(3, 4, generator=g, dtype=D) * torch.tensor([[0.3], [1.0], [2.5]], dtype=D)
    x2 = torch.randn(2, 4, generator=g, dtype=D) * torch.tensor([[1.7], [0.6]], dtype=D)
    return x1, x2


@pytest.mark.parametrize("activation", ["relu", "erf", "identity"])
@pytest.mark.parametrize("method", ["fused", "reference"])
def test_kernels_with_a_separate_x2_equal_the_recursion_by_hand(activation, method):
    """``x2`` with other norms than ``x1`` (so ``K(x', x')`` differs from ``K(x, x)``), three
    layers, a bias: rejects an ``x2`` ignored or swapped for ``x1``, the diagonals of the rows
    used for the columns, a sign or a power of sigma_b or sigma_w changed, a missing layer."""
    x1, x2 = _inputs()
    want_k, want_t = by_hand(x1, x2, 3, 1.3, 0.4, activation)
    got = kernels.nngp_ntk(x1, x2, 3, 1.3, 0.4, activation=activation, method=method)
    assert torch.allclose(got.nngp, want_k, rtol=1e-11, atol=0)
    assert torch.allclose(got.ntk, want_t, rtol=1e-11, atol=0)
    for name in ("nngp", "ntk"):
        f = getattr(kernels, name)
        want = want_k if name == "nngp" else want_t
        assert torch.allclose(f(x1, x2, 3, 1.3, 0.4, activation=activation, method=method), want,
                              rtol=1e-11, atol=0)  # fmt: skip
    if method == "reference":
        tb = kernels.textbook_kernels(x1, x2, 3, 1.3, 0.4, activation=activation)
        assert torch.allclose(tb.nngp, want_k, rtol=1e-11) and torch.allclose(
            tb.ntk, want_t, rtol=1e-11
        )


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_named_kernels_equal_the_recursion_by_hand(activation):
    """``relu_nngp``, ``relu_ntk``, ``erf_nngp``, ``erf_ntk`` pass every argument through:
    a dropped or shifted ``x2``, ``depth``, ``sigma_w`` or ``sigma_b`` changes the numbers."""
    x1, x2 = _inputs()
    want_k, want_t = by_hand(x1, x2, 2, 1.3, 0.4, activation)
    nngp, ntk = getattr(kernels, f"{activation}_nngp"), getattr(kernels, f"{activation}_ntk")
    assert torch.allclose(nngp(x1, x2, 2, 1.3, 0.4), want_k, rtol=1e-11, atol=0)
    assert torch.allclose(ntk(x1, x2, 2, 1.3, 0.4), want_t, rtol=1e-11, atol=0)
    assert torch.allclose(nngp(x1, x2, depth=2, sigma_w=1.3, sigma_b=0.4), want_k, rtol=1e-11)


def test_defaults_are_one_relu_layer_with_unit_weights_and_no_bias():
    """Every kernel function called with the inputs alone is ``depth=1, sigma_w=1,
    sigma_b=0`` (and ReLU, method "auto" where they are arguments): on e1, e2 in d = 2,
    K^0 = I / 2, so K^1 = 1/4 on the diagonal and 1/(4 pi) off it, Theta^1 = 1/2 and 1/(4 pi).
    Rejects a changed default (depth 2, sigma_w 2, sigma_b 1, another activation)."""
    x = torch.eye(2, dtype=D)
    off = 1 / (4 * math.pi)
    want_k = torch.tensor([[0.25, off], [off, 0.25]], dtype=D)
    want_t = torch.tensor([[0.5, off], [off, 0.5]], dtype=D)
    for name, f in PUBLIC.items():
        want = want_t if name.endswith("ntk") else want_k
        assert torch.allclose(f(x), want, rtol=1e-12, atol=0), name
    assert torch.allclose(kernels.relu_nngp(x), want_k, rtol=1e-12, atol=0)
    assert torch.allclose(kernels.relu_ntk(x), want_t, rtol=1e-12, atol=0)
    # erf, one layer: K^1(x, x) = 2/pi asin(1/2) = 1/3, E[erf' erf'] = 4 / (pi sqrt(3)) on
    # the diagonal; 0 off it (orthogonal inputs, erf odd; Theta^0 = 0 there)
    diag_t = 1 / 3 + 4 / (math.pi * math.sqrt(3)) * 0.5
    assert torch.allclose(kernels.erf_nngp(x), torch.eye(2, dtype=D) / 3, rtol=1e-12, atol=1e-15)
    assert torch.allclose(
        kernels.erf_ntk(x), torch.eye(2, dtype=D) * diag_t, rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_float32_inputs_give_float64_kernels(name):
    """The kernels are computed in float64 whatever the inputs' dtype: float32 ``x1`` and
    ``x2`` give the float64 result of their float64 copies (a path that kept float32, or
    converted only one of the inputs, fails)."""
    x1, x2 = _inputs()
    f = PUBLIC[name]
    for args in ((x1,), (x1, x2)):
        got = f(*(a.float() for a in args), depth=2, sigma_w=1.2, sigma_b=0.3)
        want = f(*(a.float().double() for a in args), depth=2, sigma_w=1.2, sigma_b=0.3)
        assert got.dtype == D
        assert torch.equal(got, want)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_feature_mismatch_names_both_inputs_and_their_sizes(name):
    """The message says which argument has how many features, from its first character."""
    with pytest.raises(
        ValueError,
        match=r"^x1 and x2 must have the same number of features, got x1 with 2 and x2 with 3$",
    ):
        PUBLIC[name](torch.ones(4, 2, dtype=D), torch.ones(5, 3, dtype=D))


def test_reference_method_refuses_out_with_its_exact_message():
    x = torch.ones(3, 2, dtype=D)
    out = (torch.empty(3, 3, dtype=D), torch.empty(3, 3, dtype=D))
    with pytest.raises(
        ValueError, match=r"^out is only supported by method='fused' \(or 'auto'\)$"
    ):
        kernels.nngp_ntk(x, method="reference", out=out)


@pytest.mark.parametrize("depth", [0, 2])
def test_each_method_is_the_path_it_names(depth):
    """``method="reference"`` is :func:`textbook_kernels` to the bit, for both kernels, and
    ``"auto"`` is ``"fused"`` to the bit; the two paths agree to rounding."""
    x1, x2 = _inputs()
    tb = kernels.textbook_kernels(x1, x2, depth, 1.1, 0.2, activation="erf")
    for f, ref in ((kernels.nngp, tb.nngp), (kernels.ntk, tb.ntk)):
        r = f(x1, x2, depth, 1.1, 0.2, activation="erf", method="reference")
        assert torch.equal(r, ref)
        fused = f(x1, x2, depth, 1.1, 0.2, activation="erf", method="fused")
        assert torch.equal(fused, f(x1, x2, depth, 1.1, 0.2, activation="erf"))
        assert torch.allclose(fused, ref, rtol=1e-12, atol=1e-15)
    both = kernels.nngp_ntk(x1, x2, depth, 1.1, 0.2, activation="erf", method="reference")
    assert torch.equal(both.nngp, tb.nngp) and torch.equal(both.ntk, tb.ntk)


def test_out_receives_both_kernels_and_is_returned():
    """``out=`` is passed to the fused path: the kernels are written into the caller's
    tensors, which are the ones returned (a call that dropped ``out`` returns fresh ones)."""
    x1, x2 = _inputs()
    want = kernels.nngp_ntk(x1, x2, 2, 1.3, 0.4)
    out = (torch.full((3, 2), math.nan, dtype=D), torch.full((3, 2), math.nan, dtype=D))
    got = kernels.nngp_ntk(x1, x2, 2, 1.3, 0.4, out=out)
    assert got.nngp is out[0] and got.ntk is out[1]
    assert torch.equal(out[0], want.nngp) and torch.equal(out[1], want.ntk)
