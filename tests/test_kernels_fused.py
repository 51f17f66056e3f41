"""The fused NNGP + NTK recursion (the default path) against the textbook recursion
(``method="reference"``, :func:`dlt.kernels.textbook_kernels`) it computes."""

import math

import pytest
import torch

from dlt import kernels
from dlt.core.activations import ACTIVATIONS
from dlt.kernels import Kernels, nngp_ntk
from dlt.theory import _fused as fused

D = torch.float64


def reference(x1, x2, depth, sigma_w, sigma_b, activation):
    """The library's reference path: whole matrices, one expectation call per layer."""
    return kernels.textbook_kernels(x1, x2, depth, sigma_w, sigma_b, activation=activation)


def close(a, b, tol=1e-12):
    return float((a - b).abs().max() / b.abs().max()) < tol


KERNEL_ACTIVATIONS = sorted(k for k, v in ACTIVATIONS.items() if v.has_kernel)


@pytest.mark.parametrize("activation", KERNEL_ACTIVATIONS)
@pytest.mark.parametrize("depth,sigma_w,sigma_b", [(0, 1.0, 0.0), (1, 1.4, 0.1), (5, 1.2, 0.3)])
@pytest.mark.parametrize("symmetric", [True, False])
def test_fused_equals_the_recursion(activation, depth, sigma_w, sigma_b, symmetric, monkeypatch):
    monkeypatch.setattr(fused, "_BLOCK", 7 * 40)  # several row blocks, a ragged last one
    g = torch.Generator().manual_seed(depth)
    x1 = torch.randn(45, 6, generator=g, dtype=D)
    x2 = None if symmetric else torch.randn(40, 6, generator=g, dtype=D)
    k_ref, t_ref = reference(x1, x2, depth, sigma_w, sigma_b, activation)
    out = nngp_ntk(x1, x2, depth, sigma_w, sigma_b, activation=activation)
    assert isinstance(out, Kernels)
    # Off the diagonal. On it (x = x') the reference's cos(x, x) is 1 only up to rounding, and
    # arccos turns an error of one ulp into 1e-8 (sqrt(2 eps)); the fused recursion is exact
    # there, which the next test checks.
    off = ~torch.eye(*k_ref.shape, dtype=torch.bool) if symmetric else slice(None)
    for f in (kernels.nngp, kernels.ntk):  # method="reference" is textbook_kernels
        ref = f(x1, x2, depth, sigma_w, sigma_b, activation=activation, method="reference")
        assert torch.equal(ref, k_ref if f is kernels.nngp else t_ref)
    assert close(out.nngp[off], k_ref[off]) and close(out.ntk[off], t_ref[off])
    nngp = kernels.nngp(x1, x2, depth, sigma_w, sigma_b, activation=activation)
    ntk = kernels.ntk(x1, x2, depth, sigma_w, sigma_b, activation=activation)
    assert torch.equal(nngp, out.nngp) and torch.equal(ntk, out.ntk)
    if symmetric:
        assert torch.equal(out.nngp, out.nngp.T) and torch.equal(out.ntk, out.ntk.T)
        assert close(out.nngp.diag(), k_ref.diag()) and close(out.ntk.diag(), t_ref.diag(), 1e-7)


@pytest.mark.parametrize("activation", KERNEL_ACTIVATIONS)
def test_the_diagonal_is_its_own_recursion(activation):
    x = torch.randn(30, 4, dtype=D)
    sw2, sb2 = 1.3**2, 0.2**2
    expect = ACTIVATIONS[activation].gaussian
    q = sw2 * (x * x).sum(1) / 4 + sb2
    t = q.clone()
    one = torch.zeros(30, 1, dtype=D)
    for _ in range(5):
        e11, _, _, _ = expect(q, q[:1], one)
        d = expect(q, q, torch.diag_embed(q)).d12.diagonal()  # E[phi'(u)^2]
        q = sw2 * e11 + sb2
        t = q + sw2 * d * t
    out = nngp_ntk(x, depth=5, sigma_w=1.3, sigma_b=0.2, activation=activation)
    assert close(out.nngp.diag(), q) and close(out.ntk.diag(), t)


def test_an_activation_without_a_fused_step_uses_the_registry(monkeypatch):
    monkeypatch.setattr(fused, "_STEPS", {})
    x = torch.randn(20, 3, dtype=D)
    for activation in KERNEL_ACTIVATIONS:
        out = nngp_ntk(x, depth=3, sigma_w=1.3, sigma_b=0.2, activation=activation)
        k_ref, t_ref = reference(x, None, 3, 1.3, 0.2, activation)
        off = ~torch.eye(20, dtype=torch.bool)  # the diagonal: see the test above
        assert close(out.nngp[off], k_ref[off]) and close(out.ntk[off], t_ref[off])
        assert close(out.ntk.diag(), t_ref.diag(), 1e-7)


def test_one_hidden_layer_by_hand():
    k = nngp_ntk(torch.eye(2), depth=1, sigma_w=math.sqrt(2))
    assert torch.allclose(k.nngp, torch.tensor([[1.0, 1 / math.pi], [1 / math.pi, 1.0]], dtype=D))
    assert torch.allclose(k.ntk, torch.tensor([[2.0, 1 / math.pi], [1 / math.pi, 2.0]], dtype=D))


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="same number of features"):
        nngp_ntk(torch.randn(3, 2), torch.randn(3, 4))
    with pytest.raises(ValueError, match="activation must be one of"):
        nngp_ntk(torch.randn(3, 2), activation="tanh")


@pytest.mark.parametrize("symmetric", [True, False])
def test_the_tiling_changes_nothing(symmetric, monkeypatch):
    """Tiles of other sizes (as another thread count gives) agree to rounding.

    Not to the bit: a pair at the end of a row of its tile goes through the scalar tail of an
    operation's vectorised loop, which can differ from the vector body in the last place.
    Rejects a tiling that drops or double-counts a tile, a mirror written across the wrong
    diagonal, or a pair given another pair's row or column vectors (errors of order 1).
    """
    g = torch.Generator().manual_seed(3)
    x1 = torch.randn(61, 5, generator=g, dtype=D)
    x2 = None if symmetric else torch.randn(37, 5, generator=g, dtype=D)
    whole = nngp_ntk(x1, x2, 3, 1.3, 0.2)
    threads = torch.get_num_threads()
    try:
        for block, nthreads in [(10**6, 1), (7 * 40, 1), (50, 2), (1, 1)]:
            monkeypatch.setattr(fused, "_BLOCK", block)
            torch.set_num_threads(nthreads)
            tiled = nngp_ntk(x1, x2, 3, 1.3, 0.2)
            assert close(tiled.nngp, whole.nngp, 1e-14) and close(tiled.ntk, whole.ntk, 1e-14)
            if symmetric:
                assert torch.equal(tiled.ntk, tiled.ntk.T)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("symmetric", [True, False])
def test_outputs_written_into_the_callers_tensors(symmetric):
    """``out=`` writes the same kernels (to the bit) into the caller's tensors and returns
    them; a result that skipped a tile, or was computed and then copied in with the mirror
    missing, would differ from the fresh outputs."""
    g = torch.Generator().manual_seed(4)
    x1 = torch.randn(40, 3, generator=g, dtype=D)
    x2 = None if symmetric else torch.randn(25, 3, generator=g, dtype=D)
    fresh = nngp_ntk(x1, x2, 2, 1.3, 0.2)
    out = (torch.full_like(fresh.nngp, math.nan), torch.full_like(fresh.ntk, math.nan))
    got = nngp_ntk(x1, x2, 2, 1.3, 0.2, out=out)
    assert got.nngp is out[0] and got.ntk is out[1]
    assert torch.equal(got.nngp, fresh.nngp) and torch.equal(got.ntk, fresh.ntk)


def test_outputs_of_the_wrong_kind_are_named():
    x = torch.randn(4, 3, dtype=D)
    good = torch.empty(4, 4, dtype=D)
    with pytest.raises(TypeError, match="out must be a pair"):
        nngp_ntk(x, out=good)
    with pytest.raises(ValueError, match=r"out\[1\] of shape \(4, 5\)"):
        nngp_ntk(x, out=(good, torch.empty(4, 5, dtype=D)))
    with pytest.raises(ValueError, match=r"torch.float32"):
        nngp_ntk(x, out=(good, torch.empty(4, 4)))
    with pytest.raises(ValueError, match=r"out\[0\] must be contiguous"):
        nngp_ntk(x, out=(torch.empty(4, 4, dtype=D).T, good))
    with pytest.raises(ValueError, match="must not share memory"):
        nngp_ntk(x, out=(good, good))
    with pytest.raises(ValueError, match="must not share memory"):
        big = torch.empty(2, 16, dtype=D)
        nngp_ntk(big[0, :12].view(4, 3), out=(big[1].view(4, 4), big[0].view(4, 4)))


def _edge_inputs():
    """Inputs where a rounding slip shows: zero vectors, parallel and antiparallel pairs
    (correlation exactly +-1, the ends of arccos and arcsin), norms 1e-3 to 1e3 apart."""
    g = torch.Generator().manual_seed(5)
    x = torch.randn(6, 4, generator=g, dtype=D)
    return {
        "zero vectors": (torch.cat([torch.zeros(2, 4, dtype=D), x[:3]]), None),
        "parallel": (torch.stack([x[0], 2.5 * x[0], 1e-3 * x[0], x[1]]), None),
        "antiparallel": (torch.stack([x[0], -x[0], -7.0 * x[0], x[2]]), None),
        "very different norms": (x[:3] * torch.tensor([[1e-3], [1.0], [1e3]], dtype=D), x[3:]),
        "x2 a multiple of x1": (x[:3], -3.0 * x[:3]),
    }


EDGES = _edge_inputs()


@pytest.mark.parametrize("activation", KERNEL_ACTIVATIONS)
@pytest.mark.parametrize("edge", sorted(EDGES))
@pytest.mark.parametrize("depth,sigma_b", [(0, 0.0), (1, 0.0), (3, 0.2), (40, 0.1)])
def test_fused_equals_the_reference_on_edge_inputs(activation, edge, depth, sigma_b):
    """Zero vectors (with sigma_b = 0 a zero variance, whose correlation 0/0 both paths take
    as 0), correlations of exactly +-1, norms a million apart, depth 0 and a depth of 40.
    Both paths must be finite and agree. Where a correlation is +-1 up to rounding, arccos
    turns one ulp into sqrt(2 eps) = 2e-8 in the angle, in both paths alike but not at the
    same pairs, and the NTK adds such an error per layer to a sum of ``depth`` terms: so
    2e-8 relative to the largest entry for the NNGP kernel and 2e-8 depth^2 for the NTK
    (measured: at most 6e-10, and 1e-5 at depth 40 for two identical zero inputs with
    sigma_b = 0.1). A wrong closed form at c = +-1, a NaN from 0/0 or an overflow is off by
    far more."""
    x1, x2 = EDGES[edge]
    got = nngp_ntk(x1, x2, depth, 1.4, sigma_b, activation=activation)
    ref = nngp_ntk(x1, x2, depth, 1.4, sigma_b, activation=activation, method="reference")
    for a, b, tol in ((got.nngp, ref.nngp, 2e-8), (got.ntk, ref.ntk, 2e-8 * max(depth, 1) ** 2)):
        assert torch.isfinite(a).all() and torch.isfinite(b).all()
        assert float((a - b).abs().max()) / max(float(b.abs().max()), 1e-300) < tol


def test_reference_path_refuses_out_and_unknown_methods():
    x = torch.randn(3, 2, dtype=D)
    out = (torch.empty(3, 3, dtype=D), torch.empty(3, 3, dtype=D))
    with pytest.raises(ValueError, match="out is only supported"):
        nngp_ntk(x, method="reference", out=out)
    with pytest.raises(ValueError, match="method must be one of"):
        kernels.ntk(x, method="textbook")
