"""The fused NNGP + NTK recursion against the plain layer-by-layer recursion it replaced."""

import math

import pytest
import torch

from dlt import kernels
from dlt.core.activations import ACTIVATIONS
from dlt.theory import fused
from dlt.theory.fused import Kernels, nngp_ntk

D = torch.float64


def reference(x1, x2, depth, sigma_w, sigma_b, activation):
    """The previous recursion: whole matrices, one activation expectation call per layer."""
    a = x1.to(D)
    b = a if x2 is None else x2.to(D)
    expect = ACTIVATIONS[activation].gaussian
    d = a.shape[1]
    sw2, sb2 = sigma_w**2, sigma_b**2
    k11 = sw2 * (a * a).sum(1) / d + sb2
    k22 = sw2 * (b * b).sum(1) / d + sb2
    k12 = sw2 * (a @ b.T) / d + sb2
    theta = k12.clone()
    for _ in range(depth):
        e11, e22, e12, d12 = expect(k11, k22, k12)
        k11, k22, k12 = sw2 * e11 + sb2, sw2 * e22 + sb2, sw2 * e12 + sb2
        theta = k12 + sw2 * d12 * theta
    return k12, theta


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
    with pytest.raises(ValueError, match="depth must be >= 0"):
        nngp_ntk(torch.randn(3, 2), depth=-1)
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
