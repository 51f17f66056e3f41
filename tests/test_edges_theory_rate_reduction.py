"""Edges of dlt.theory.rate_reduction: closed forms with N, p, K, d and the batch all different
(so a wrong axis shows), labels that float32 cannot tell apart, the defaults against explicit
calls, each step method by hand, and messages that name the argument from their start."""

import math

import pytest
import torch

from dlt.theory.rate_reduction import (
    coding_rate,
    compression_gradient,
    compression_rate,
    compression_step,
    rate_reduction,
    sparse_rate_reduction,
)

f64 = torch.float64


def _g(seed):
    return torch.Generator().manual_seed(seed)


def _logdet_rate(z, eps):
    """1/2 logdet(I_p + p/(N eps^2) Z^T Z) by torch.logdet, one set of rows (N, p)."""
    n, p = z.shape
    return 0.5 * torch.logdet(torch.eye(p, dtype=f64) + p / (n * eps**2) * z.T @ z)


# ---------------------------------------------------------------- coding_rate


def test_coding_rate_default_eps_is_one_half():
    """The documented default eps = 0.5 against an explicit call, and by hand: one row (1, 0)
    in R^2 gives 1/2 log(1 + 2 / 0.25) = log(3)."""
    z = torch.tensor([[1.0, 0.0]], dtype=f64)
    assert float(coding_rate(z)) == pytest.approx(math.log(3), rel=1e-14)
    w = torch.randn(5, 3, generator=_g(0), dtype=f64)
    assert torch.equal(coding_rate(w), coding_rate(w, 0.5))


def test_coding_rate_wide_tall_and_square_against_logdet():
    """N < p, N = p and N > p (the two Gram branches, and the boundary p = N between them)."""
    for n, p in ((3, 5), (4, 4), (6, 2)):
        z = torch.randn(n, p, generator=_g(n), dtype=f64)
        torch.testing.assert_close(coding_rate(z, 0.7), _logdet_rate(z, 0.7), rtol=1e-12, atol=0)


def test_coding_rate_batched_with_a_batch_size_unlike_n_and_p():
    """(B, N, p) = (2, 5, 3): one rate per set, each the logdet of its own rows."""
    zs = torch.randn(2, 5, 3, generator=_g(1), dtype=f64)
    got = coding_rate(zs, 0.4)
    assert got.shape == (2,)
    for b in range(2):
        torch.testing.assert_close(got[b], _logdet_rate(zs[b], 0.4), rtol=1e-12, atol=0)


def test_coding_rate_errors_name_the_argument():
    """A 1-d Z and eps = 0 are refused with messages that start with the argument's name."""
    with pytest.raises(ValueError, match=r"^Z must have shape \(N, p\) or \(B, N, p\), got shape"):
        coding_rate(torch.zeros(3))
    with pytest.raises(ValueError, match=r"^eps must be > 0"):
        coding_rate(torch.zeros(2, 2), 0.0)


# ---------------------------------------------------------------- rate_reduction


def test_rate_reduction_default_eps_and_by_hand():
    """The docstring's example by hand (2 log 2 - log 3) and the default eps = 0.5."""
    z = torch.eye(4, dtype=f64)
    r = rate_reduction(z, torch.tensor([0, 0, 1, 1]), eps=1.0)
    assert float(r.rate) == pytest.approx(2 * math.log(2), rel=1e-14)
    assert float(r.class_rate) == pytest.approx(math.log(3), rel=1e-14)
    assert float(r.delta_r) == pytest.approx(2 * math.log(2) - math.log(3), rel=1e-13)
    w = torch.randn(6, 3, generator=_g(2), dtype=f64)
    lab = torch.tensor([0, 1, 0, 1, 1, 2])
    pairs = zip(rate_reduction(w, lab), rate_reduction(w, lab, 0.5), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)


def test_rate_reduction_labels_beyond_float32s_integers_stay_distinct():
    """Integer labels 2**24 and 2**24 + 1 are two classes (float32 rounds both to 2**24 and
    would merge them): the result equals that of labels 1 and 2."""
    z = torch.eye(4, dtype=f64)
    big = rate_reduction(z, torch.tensor([0, 0, 2**24, 2**24 + 1]), 1.0)
    small = rate_reduction(z, torch.tensor([0, 0, 1, 2]), 1.0)
    for a, b in zip(big, small, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-15, atol=0)
    # classes of 2, 1 and 1 rows: 2 log 2 - (2/4) log 3 - 2 (1/4) (1/2) log 5
    want = 2 * math.log(2) - 0.5 * math.log(3) - 0.25 * math.log(5)
    assert float(big.delta_r) == pytest.approx(want, rel=1e-13)


def test_rate_reduction_class_weights_are_class_fractions():
    """Classes of 3 and 1 rows, p = 2 unlike N = 4: class rates weighted 3/4 and 1/4."""
    z = torch.randn(4, 2, generator=_g(3), dtype=f64)
    lab = torch.tensor([5.0, 5.0, -1.0, 5.0])  # float labels with integer values are accepted
    r = rate_reduction(z, lab, 0.3)
    want = 0.75 * _logdet_rate(z[[0, 1, 3]], 0.3) + 0.25 * _logdet_rate(z[[2]], 0.3)
    torch.testing.assert_close(r.class_rate, want, rtol=1e-12, atol=0)
    torch.testing.assert_close(r.rate, _logdet_rate(z, 0.3), rtol=1e-12, atol=0)
    torch.testing.assert_close(r.delta_r, r.rate - r.class_rate, rtol=0, atol=0)


def test_rate_reduction_errors_name_the_argument_from_their_start():
    """Too few labels, or a fractional one, are refused with messages that start with
    "labels" (a mangled message, or a length check on the wrong axis, fails these matches)."""
    z = torch.zeros(4, 3, dtype=f64)
    with pytest.raises(ValueError, match=r"^labels must have 4 entries, one per row of Z, got 3$"):
        rate_reduction(z, torch.zeros(3))
    with pytest.raises(ValueError, match=r"^labels must hold integer class labels$"):
        rate_reduction(z, torch.tensor([0.0, 0.0, 1.0, 1.5]))


# ---------------------------------------------------------------- the compression term

# K = 2 subspaces of dimension d = 3 in p = 6, N = 5 tokens, a batch of 4: all different.
K, P, D, N, B = 2, 6, 3, 5, 4


def _u(seed=4):
    q, _ = torch.linalg.qr(torch.randn(P, P, generator=_g(seed), dtype=f64))
    return q.reshape(P, K, D).permute(1, 0, 2).contiguous()


def _z(seed=5, batch=()):
    return torch.randn(*batch, N, P, generator=_g(seed), dtype=f64)


def test_compression_rate_batched_with_every_size_different():
    """(B, N, p) with K != d != B: each set's value is the sum over k of the logdet rate of
    Z U_k (so a wrong axis in the sum or in the identity's size shows)."""
    u, zs = _u(), _z(batch=(B,))
    got = compression_rate(zs, u, 0.6)
    assert got.shape == (B,)
    for b in range(B):
        want = sum(_logdet_rate(zs[b] @ u[k], 0.6) for k in range(K))
        torch.testing.assert_close(got[b], want, rtol=1e-12, atol=0)
    assert torch.equal(compression_rate(zs[0], u), compression_rate(zs[0], u, 0.5))


def test_compression_rate_float32_bases_with_float64_tokens():
    """U in float32 beside Z in float64 is converted to Z's dtype (not mixed into einsum)."""
    u, z = _u(), _z()
    got = compression_rate(z, u.float(), 0.5)
    assert got.dtype == f64
    torch.testing.assert_close(got, compression_rate(z, u.float().to(f64), 0.5), rtol=0, atol=0)
    for fn in (compression_gradient, compression_step, sparse_rate_reduction):
        assert fn(z, u.float()).dtype == f64


def test_compression_gradient_by_hand_with_every_size_different():
    """grad = sum_k alpha Z U_k (I + alpha U_k^T Z^T Z U_k)^-1 U_k^T, alpha = d / (N eps^2),
    with explicit inverses; batched (B, N, p) too; the default eps = 0.5."""
    u, zs = _u(), _z(batch=(B,))
    got = compression_gradient(zs, u, 0.8)
    assert got.shape == (B, N, P)
    alpha = D / (N * 0.8**2)
    for b in range(B):
        z = zs[b]
        want = sum(alpha * z @ u[k] @ torch.linalg.inv(torch.eye(D, dtype=f64)
                   + alpha * u[k].T @ z.T @ z @ u[k]) @ u[k].T for k in range(K))  # fmt: skip
        torch.testing.assert_close(got[b], want, rtol=1e-11, atol=1e-13)
    assert torch.equal(compression_gradient(zs[0], u), compression_gradient(zs[0], u, 0.5))


def test_compression_step_each_method_by_hand():
    """Z - step alpha sum_k (A_k - alpha G_k A_k) U_k^T with G_k = A_k A_k^T (neumann) or its
    row-wise softmax (softmax; G is symmetric, so a column-wise softmax differs only by a
    transpose, which this non-symmetric product shows), and the exact gradient step."""
    u, z = _u(), 0.4 * _z(seed=6)
    eps, step = 1.3, 0.25
    alpha = D / (N * eps**2)
    neu, soft = torch.zeros_like(z), torch.zeros_like(z)
    for k in range(K):
        a = z @ u[k]
        g = a @ a.T
        neu += (a - alpha * g @ a) @ u[k].T
        w = torch.exp(g) / torch.exp(g).sum(1, keepdim=True)
        soft += (a - alpha * w @ a) @ u[k].T
    opts = dict(rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(
        compression_step(z, u, eps, step, "neumann"), z - step * alpha * neu, **opts
    )
    torch.testing.assert_close(
        compression_step(z, u, eps, step, "softmax"), z - step * alpha * soft, **opts
    )
    exact = z - step * compression_gradient(z, u, eps)
    torch.testing.assert_close(compression_step(z, u, eps, step, "exact"), exact, **opts)
    zs = torch.stack([z, 2 * z, -z])  # batched: each set as alone
    for method in ("exact", "neumann", "softmax"):
        batch = compression_step(zs, u, eps, step, method)
        for b in range(3):
            torch.testing.assert_close(
                batch[b], compression_step(zs[b], u, eps, step, method), **opts
            )


def test_compression_step_defaults_are_exact_step_one_tenth_eps_one_half():
    """The defaults (eps = 0.5, step = 0.1, method = "exact") against an explicit call."""
    u, z = _u(), _z(seed=7)
    want = compression_step(z, u, 0.5, 0.1, "exact")
    assert torch.equal(compression_step(z, u), want)
    torch.testing.assert_close(want, z - 0.1 * compression_gradient(z, u, 0.5), rtol=0, atol=0)


def test_sparse_rate_reduction_by_parts_batched_and_defaults():
    """R(Z) - R^c(Z; U) - lam / N * ||Z||_1 per set, with N = 5 unlike p = 6 (a division by p
    shows); the defaults eps = 0.5, lam = 0.1."""
    u, zs = _u(), _z(seed=8, batch=(B,))
    got = sparse_rate_reduction(zs, u, 0.9, 0.3)
    assert got.shape == (B,)
    for b in range(B):
        z = zs[b]
        want = (_logdet_rate(z, 0.9) - sum(_logdet_rate(z @ u[k], 0.9) for k in range(K))
                - 0.3 * z.abs().sum() / N)  # fmt: skip
        torch.testing.assert_close(got[b], want, rtol=1e-12, atol=1e-14)
    assert torch.equal(sparse_rate_reduction(zs, u), sparse_rate_reduction(zs, u, 0.5, 0.1))


def test_compression_functions_name_u_when_its_rows_do_not_match_z():
    """U of shape (K, p', d) with p' != p: the message names U and the expected shape."""
    z, bad = _z(), torch.zeros(K, P + 1, D, dtype=f64)
    fns = (compression_rate, compression_gradient, compression_step, sparse_rate_reduction)
    for fn in fns:
        with pytest.raises(
            ValueError, match=r"^U must have shape \(K, 6, d\) to match Z, got \(2, 7, 3\)$"
        ):
            fn(z, bad)


def test_batched_z_with_mismatched_u_names_p_not_n():
    """For Z of shape (B, N, p) the message asks for U of shape (K, p, d): p = 6 is Z's last
    axis, not its second (N = 5)."""
    zs, bad = _z(batch=(B,)), torch.zeros(K, P + 1, D, dtype=f64)
    for fn in (compression_rate, compression_gradient, compression_step, sparse_rate_reduction):
        with pytest.raises(ValueError, match=r"^U must have shape \(K, 6, d\) to match Z, got "):
            fn(zs, bad)


def test_float32_in_float32_out_whatever_the_default_dtype():
    """With torch's default dtype set to float64, float32 inputs still give float32 results
    (and agree with the float64 ones to float32 precision): the identity matrices and the zero
    that start the sums are made in Z's dtype, not in the default one."""
    u, z = _u(), _z(seed=9)
    lab = torch.tensor([0, 1, 0, 1, 1])
    want = (coding_rate(z), rate_reduction(z, lab).delta_r, compression_gradient(z, u))
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        got = (
            coding_rate(z.float()),
            rate_reduction(z.float(), lab).delta_r,
            compression_gradient(z.float(), u.float()),
        )
    finally:
        torch.set_default_dtype(old)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == torch.float32
        torch.testing.assert_close(g, w.float(), rtol=1e-4, atol=1e-5)
