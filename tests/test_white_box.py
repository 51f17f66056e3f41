"""Coding rate, rate reduction, the compression term and CRATE's blocks, against closed forms."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlt import white_box as wb

f64 = torch.float64


def _g(seed):
    return torch.Generator().manual_seed(seed)


def _bases(p=12, k=3, d=4, seed=0):
    q, _ = torch.linalg.qr(torch.randn(p, p, generator=_g(seed), dtype=f64))
    return q[:, : k * d].reshape(p, k, d).permute(1, 0, 2).contiguous()


def _brute_rate(z, eps):
    n, p = z.shape
    return 0.5 * torch.logdet(torch.eye(p, dtype=f64) + p / (n * eps**2) * z.T @ z)


@pytest.mark.parametrize("shape", [(30, 5), (4, 9), (1, 3), (7, 7)])
@pytest.mark.parametrize("eps", [1e-4, 0.5, 1e3])
def test_coding_rate_equals_logdet_both_ways(shape, eps):
    # the N x N and p x p determinants agree (p > N, N = 1 and eps tiny or huge included)
    z = torch.randn(*shape, generator=_g(1), dtype=f64)
    n, p = shape
    other = 0.5 * torch.logdet(torch.eye(n, dtype=f64) + p / (n * eps**2) * z @ z.T)
    # the rank-deficient determinant has condition number ~ 1e9 at eps = 1e-4
    tol = dict(rtol=1e-7 if eps < 1e-3 else 1e-10, atol=1e-12)
    torch.testing.assert_close(wb.coding_rate(z, eps), _brute_rate(z, eps), **tol)
    torch.testing.assert_close(wb.coding_rate(z, eps), other, **tol)


@pytest.mark.parametrize("r,s,eps", [(1, 1.0, 0.5), (3, 2.0, 0.1), (4, 0.5, 2.0)])
def test_coding_rate_of_orthogonal_directions_in_closed_form(r, s, eps):
    # N rows spread evenly over r orthonormal directions, squared norm s each:
    # Z^T Z has r eigenvalues N s / r, so R = (r/2) log(1 + p s / (r eps^2))
    p, per = 10, 6
    q, _ = torch.linalg.qr(torch.randn(p, p, generator=_g(2), dtype=f64))
    z = math.sqrt(s) * q[:, :r].T.repeat(per, 1)
    want = r / 2 * math.log(1 + p * s / (r * eps**2))
    assert abs(float(wb.coding_rate(z, eps)) - want) < 1e-10


def test_coding_rate_is_zero_at_zero_and_batched():
    assert float(wb.coding_rate(torch.zeros(5, 3, dtype=f64))) == 0.0
    zs = torch.randn(4, 6, 3, generator=_g(3), dtype=f64)
    batch = wb.coding_rate(zs, 0.3)
    torch.testing.assert_close(batch, torch.stack([wb.coding_rate(z, 0.3) for z in zs]))


@settings(derandomize=True, max_examples=25, deadline=None, database=None)
@given(st.integers(0, 10_000))
def test_coding_rate_invariant_to_rotations_and_row_order(seed):
    z = torch.randn(8, 5, generator=_g(seed), dtype=f64)
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=_g(seed + 1), dtype=f64))
    perm = torch.randperm(8, generator=_g(seed + 2))
    r = wb.coding_rate(z, 0.7)
    torch.testing.assert_close(wb.coding_rate(z @ q, 0.7), r)
    torch.testing.assert_close(wb.coding_rate(z[perm], 0.7), r)


def test_rate_reduction_zero_for_identical_classes():
    z = torch.randn(10, 6, generator=_g(4), dtype=f64)
    both = torch.cat([z, z])
    labels = torch.arange(2).repeat_interleave(10)
    r = wb.rate_reduction(both, labels, 0.5)
    assert abs(float(r.delta_r)) < 1e-12
    # one class: Delta R = 0 exactly, the whole rate is the class rate
    assert float(wb.rate_reduction(z, torch.zeros(10), 0.5).delta_r) == 0.0


def test_rate_reduction_by_brute_force_with_singleton_classes():
    z = torch.randn(7, 4, generator=_g(5), dtype=f64)
    labels = torch.tensor([3, 3, 9, 3, 1, 9, 5])  # classes of 1, 2 and 3 rows, any values
    want = _brute_rate(z, 0.4)
    for c in (1, 3, 5, 9):
        zk = z[labels == c]
        want = want - zk.shape[0] / 7 * _brute_rate(zk, 0.4)
    r = wb.rate_reduction(z, labels, 0.4)
    assert abs(float(r.delta_r) - float(want)) < 1e-10
    torch.testing.assert_close(r.rate - r.class_rate, r.delta_r)


def test_rate_reduction_of_orthogonal_classes_in_closed_form():
    # class k: 6 copies of each of 2 orthonormal directions, classes mutually orthogonal
    p, eps = 8, 0.5
    e = torch.eye(p, dtype=f64)
    z = torch.cat([e[2 * k : 2 * k + 2].repeat(6, 1) for k in range(3)])
    labels = torch.arange(3).repeat_interleave(12)
    whole = 6 / 2 * math.log(1 + p / (6 * eps**2))  # 6 directions, each N/6 rows
    part = 2 / 2 * math.log(1 + p / (2 * eps**2))
    assert abs(float(wb.rate_reduction(z, labels, eps).delta_r) - (whole - part)) < 1e-10


def test_rate_reduction_rejects_mismatched_or_fractional_labels():
    z = torch.randn(4, 3, dtype=f64)
    with pytest.raises(ValueError, match="labels"):
        wb.rate_reduction(z, torch.zeros(3), 0.5)
    with pytest.raises(ValueError, match="labels"):
        wb.rate_reduction(z, torch.tensor([0.0, 0.5, 1.0, 1.0]), 0.5)


@pytest.mark.parametrize("shape", [(20, 12), (5, 12), (3, 20, 12)])
def test_compression_gradient_equals_autograd(shape):
    u = _bases()
    z = torch.randn(*shape, generator=_g(6), dtype=f64, requires_grad=True)
    (auto,) = torch.autograd.grad(wb.compression_rate(z, u, 0.5).sum(), z)
    torch.testing.assert_close(
        wb.compression_gradient(z.detach(), u, 0.5), auto, rtol=1e-10, atol=1e-12
    )


def test_compression_rate_sums_projected_rates_and_non_orthonormal_u():
    u = torch.randn(2, 6, 3, generator=_g(7), dtype=f64)  # any matrices
    z = torch.randn(9, 6, generator=_g(8), dtype=f64)
    want = sum(_brute_rate(z @ u[k], 0.3) for k in range(2))
    assert abs(float(wb.compression_rate(z, u, 0.3)) - float(want)) < 1e-10
    with pytest.raises(ValueError, match="U"):
        wb.compression_rate(z, torch.randn(2, 5, 3), 0.3)


def test_compression_step_exact_is_a_gradient_step_and_neumann_is_second_order():
    u = _bases()
    z = torch.randn(15, 12, generator=_g(9), dtype=f64)
    exact = wb.compression_step(z, u, 0.5, 0.3, "exact")
    torch.testing.assert_close(exact, z - 0.3 * wb.compression_gradient(z, u, 0.5))
    assert torch.equal(wb.compression_step(z, u, 0.5, 0.0, "softmax"), z)
    errs = []
    for eps in (10.0, 20.0):
        e = wb.compression_step(z, u, eps, 1.0, "exact")
        n = wb.compression_step(z, u, eps, 1.0, "neumann")
        errs.append(float((e - n).norm() / (e - z).norm()))
    # alpha falls 4x: the relative error falls about 16x
    assert 12 < errs[0] / errs[1] < 20


def test_softmax_step_by_hand_on_one_token():
    # one token: softmax of a 1 x 1 Gram is 1, so the step is z - k a (1 - a) z U U^T
    u = torch.eye(3, dtype=f64)[None]
    z = torch.tensor([[1.0, 2.0, -1.0]], dtype=f64)
    a = 3 / (1 * 0.5**2)
    want = z - 0.1 * a * (1 - a) * z
    torch.testing.assert_close(wb.compression_step(z, u, 0.5, 0.1, "softmax"), want)


def test_sparse_rate_reduction_by_parts():
    u = _bases()
    z = torch.randn(10, 12, generator=_g(10), dtype=f64)
    want = wb.coding_rate(z, 0.5) - wb.compression_rate(z, u, 0.5) - 0.2 * z.abs().sum() / 10
    torch.testing.assert_close(wb.sparse_rate_reduction(z, u, 0.5, 0.2), want)


def test_subspace_pair_angles_norms_and_identity():
    d = wb.subspace_pair(20, 8, 2, 0.4, seed=3, dtype=f64)
    cos = torch.linalg.svdvals(d.bases[0].T @ d.bases[1])
    torch.testing.assert_close(cos, torch.full((2,), math.cos(0.4), dtype=f64))
    torch.testing.assert_close(d.Z.norm(dim=1), torch.ones(40, dtype=f64))
    res = d.Z[:20] - d.Z[:20] @ d.bases[0] @ d.bases[0].T
    assert float(res.abs().max()) < 1e-12
    with pytest.raises(ValueError, match="dim"):
        wb.subspace_pair(5, 3, 2, 0.1)
    with pytest.raises(ValueError, match="angle"):
        wb.subspace_pair(5, 4, 2, 2.0)


def test_rate_reduction_increases_with_the_angle():
    vals = [
        float(wb.rate_reduction(*wb.subspace_pair(50, 8, 2, t, seed=0, dtype=f64)[:2], 0.5).delta_r)
        for t in torch.linspace(0, math.pi / 2, 5).tolist()
    ]
    assert all(b > a for a, b in zip(vals, vals[1:], strict=False))


def test_mssa_by_hand_and_ista_soft_threshold():
    m = wb.MSSA(3, heads=1, head_dim=3, step=0.5, seed=0, dtype=f64)
    with torch.no_grad():
        m.U.copy_(torch.eye(3, dtype=f64)[None])
    z = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=f64)
    gram = z @ z.T / math.sqrt(3)
    want = z + 0.5 * torch.softmax(gram, -1) @ z
    torch.testing.assert_close(m(z), want)
    s = wb.ISTA(3, eta=0.5, lam=0.4, seed=0, dtype=f64)
    with torch.no_grad():
        s.D.copy_(torch.eye(3, dtype=f64))
    x = torch.tensor([[1.0, 0.1, -2.0]], dtype=f64)
    torch.testing.assert_close(s(x), torch.relu(x - 0.2))


def test_crate_shapes_trace_and_patches():
    net = wb.CRATE(4, 2, dim=6, heads=2, head_dim=3, depth=2, n_classes=3, seed=0, dtype=f64)
    x = torch.arange(32, dtype=f64).reshape(2, 16)
    tokens = net.tokens(x)
    assert tokens.shape == (2, 4, 6)
    # patch 0 of image 0 holds pixels 0, 1, 4, 5
    torch.testing.assert_close(
        tokens[0, 0], torch.tensor([0.0, 1, 4, 5], dtype=f64) @ net.embed + net.position[0]
    )
    tr = net.trace(x)
    assert len(tr.outputs) == 2 and tr.subspaces[0].shape == (2, 6, 3)
    assert bool((tr.outputs[-1] >= 0).all())
    assert net(x).shape == (2, 3)
    with pytest.raises(ValueError, match="patch"):
        wb.CRATE(5, 2, dim=6, heads=2, head_dim=3, depth=1, n_classes=3)
    with pytest.raises(ValueError, match="X"):
        net(torch.zeros(2, 15, dtype=f64))
