"""Edges of the closed forms' promises: error messages that name the argument and its expected
shape, the dtype of the result, limits and invariants (Hypothesis, derandomized)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlt.theory import gaussian_kl, kl, kl_inverse
from dlt.theory.benign import effective_ranks
from dlt.theory.kernels import relu_nngp, relu_ntk
from dlt.theory.risk import mp_stieltjes
from dlt.theory.stability import sgd_mean_square_rate, stability_thresholds

PROPERTY = settings(derandomize=True, max_examples=30, deadline=None, database=None)
EIGHT = torch.full((1,) * 8, 0.5)  # one dimension more than any argument accepts


# ---------------------------------------------------------------- kl, kl_inverse, gaussian_kl


def test_kl_errors_name_the_argument_and_the_expected_shape():
    for args, name in (((EIGHT, 0.5), "q"), ((0.5, EIGHT), "p")):
        with pytest.raises(
            ValueError,
            match=rf"^{name} must have shape \(\.\.\.\) of numbers in \[0, 1\], got shape \(1, 1",
        ):
            kl(*args)
    with pytest.raises(ValueError, match=r"^q must be finite"):
        kl(torch.tensor([0.5, math.nan]), 0.5)
    with pytest.raises(ValueError, match=r"^p must lie in \[0, 1\], got values from 1\.5"):
        kl(0.5, torch.tensor([1.5]))


def test_kl_inverse_errors_name_the_argument_and_the_expected_shape():
    with pytest.raises(
        ValueError, match=r"^c must have shape \(\.\.\.\) of numbers >= 0, got shape \(1, 1"
    ):
        kl_inverse(0.1, EIGHT)
    with pytest.raises(ValueError, match=r"^c must be finite"):
        kl_inverse(0.1, math.inf)
    with pytest.raises(ValueError, match=r"^c must be >= 0, got -0\.5"):
        kl_inverse(0.1, -0.5)


def test_gaussian_kl_errors_name_the_argument_and_the_expected_shape():
    m = torch.zeros(3)
    for bad, name in ((0, "mean_q"), (1, "mean_p")):
        args = [m, m, 1.0, 1.0]
        args[bad] = torch.zeros(3, 1)
        with pytest.raises(
            ValueError, match=rf"^{name} must have shape \(D,\), got shape \(3, 1\)"
        ):
            gaussian_kl(*args)
    for bad, name in ((2, "sigma_q"), (3, "sigma_p")):
        args = [m, m, 1.0, 1.0]
        args[bad] = torch.ones(3, 1)
        with pytest.raises(ValueError, match=rf"^{name} must have shape \(\) or \(D,\), got shape"):
            gaussian_kl(*args)
        args[bad] = torch.ones(2)
        with pytest.raises(ValueError, match=rf"^{name} must be a number or have shape \(3,\)"):
            gaussian_kl(*args)
        args[bad] = -1.0
        with pytest.raises(ValueError, match=rf"^{name} must be > 0"):
            gaussian_kl(*args)


def test_results_keep_the_dtype_of_the_first_argument():
    """kl and kl_inverse in q's dtype, gaussian_kl in mean_q's, whatever the others are."""
    q32 = torch.tensor([0.1, 0.2], dtype=torch.float32)
    assert kl(q32, torch.tensor(0.3, dtype=torch.float64)).dtype == torch.float64  # promotion
    assert kl_inverse(q32, torch.tensor(0.5, dtype=torch.float64)).dtype == torch.float32
    out = gaussian_kl(
        torch.zeros(2),
        torch.ones(2, dtype=torch.float64),
        0.5,
        torch.tensor(2.0, dtype=torch.float64),
    )
    assert out.dtype == torch.float32
    want = 0.5 * 2 * ((0.5 / 2) ** 2 + 1 / 4 - 1 - math.log((0.5 / 2) ** 2))
    assert float(out) == pytest.approx(want, rel=1e-6)


@PROPERTY
@given(q=st.floats(0, 1), c=st.floats(0, 5))
def test_kl_inverse_is_the_largest_p_within_the_budget(q, c):
    """kl(q‖p*) = c where p* < 1, p* ≥ q, and any larger p breaks the budget."""
    p = float(kl_inverse(q, c, iters=200))
    assert q <= p <= 1
    if c == 0:
        assert p == q
    elif p < 1 - 1e-12:
        assert float(kl(q, p)) == pytest.approx(c, rel=1e-6, abs=1e-12)
        assert float(kl(q, min(1.0, p + 1e-6))) > c


@PROPERTY
@given(q=st.floats(0, 1), p=st.floats(0, 1))
def test_kl_is_nonnegative_zero_on_the_diagonal_and_symmetric_under_flip(q, p):
    d = float(kl(q, p))
    assert d >= 0 or d == pytest.approx(0, abs=1e-15)
    # the flip is exact only where 1 - q and 1 - p are exact in float64: a p of 1e-61 has
    # 1 - p == 1.0, so kl(1 - q, 1 - p) is kl(0, 1) = inf while kl(1, 1e-61) = 140.98
    if (1 - (1 - q)) == q and (1 - (1 - p)) == p:
        assert float(kl(1 - q, 1 - p)) == pytest.approx(d, rel=1e-9, abs=1e-12)
    assert float(kl(q, q)) == pytest.approx(0.0, abs=1e-15)


def test_kl_edges_by_hand():
    # 0 ln 0 = 0 at both ends, infinite where p is 0 or 1 and q differs
    assert float(kl(0.0, 0.5)) == pytest.approx(math.log(2))
    assert float(kl(1.0, 0.5)) == pytest.approx(math.log(2))
    assert float(kl(0.0, 0.0)) == 0.0 and float(kl(1.0, 1.0)) == 0.0
    assert math.isinf(float(kl(0.5, 0.0))) and math.isinf(float(kl(0.5, 1.0)))
    # tiny q: no cancellation, the q ln q term stays accurate
    assert float(kl(1e-300, 0.5)) == pytest.approx(math.log(2), rel=1e-12)
    assert float(kl_inverse(0.0, 1.0)) == pytest.approx(1 - math.exp(-1), rel=1e-12)


# ---------------------------------------------------------------- spectra, kernels, stability


@PROPERTY
@given(
    spectrum=st.lists(st.floats(0, 100), min_size=2, max_size=12),
    k=st.integers(0, 11),
    c=st.floats(1e-3, 1e3),
    seed=st.integers(0, 999),
)
def test_effective_ranks_ignore_order_and_scale(spectrum, k, c, seed):
    k = min(k, len(spectrum) - 1)
    r, R = effective_ranks(spectrum, k)
    perm = torch.randperm(len(spectrum), generator=torch.Generator().manual_seed(seed)).tolist()
    assert effective_ranks([spectrum[i] for i in perm], k) == pytest.approx((r, R), rel=1e-12)
    assert effective_ranks([c * s for s in spectrum], k) == pytest.approx((r, R), rel=1e-9)
    tail = sorted(spectrum, reverse=True)[k:]
    if tail[0] > 0:
        # 1 ≤ r_k ≤ R_k ≤ r_k² (Bartlett et al. 2020, Lemma 5), R_k at most the tail's length
        assert 1 <= r * (1 + 1e-9) and r <= R * (1 + 1e-9) and R <= r * r * (1 + 1e-9)
        assert R <= len(tail) * (1 + 1e-9)


def test_effective_ranks_of_a_flat_or_zero_tail():
    assert effective_ranks([5.0, 2.0, 2.0, 2.0, 2.0], 1) == (4.0, 4.0)
    assert effective_ranks([5.0, 0.0, 0.0], 1) == (math.inf, math.inf)
    # a flat tail of tiny eigenvalues: their squares underflow, the ranks must not (2, not inf)
    assert effective_ranks([1.0, 1e-200, 1e-200], 1) == pytest.approx((2.0, 2.0))
    with pytest.raises(ValueError, match="k must be <"):
        effective_ranks([1.0, 2.0], 2)


@pytest.mark.parametrize("kernel", [relu_nngp, relu_ntk])
@pytest.mark.parametrize("depth", [1, 3])
def test_relu_kernels_are_positively_homogeneous_without_bias(kernel, depth):
    """A bias-free ReLU network is 1-homogeneous, so K(c x, x') = c K(x, x') for c > 0."""
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(4, 3, generator=g, dtype=torch.float64)
    x2 = torch.randn(5, 3, generator=g, dtype=torch.float64)
    K = kernel(x1, x2, depth=depth, sigma_w=1.3)
    for c in (1e-8, 0.5, 7.0, 1e8):
        assert torch.allclose(kernel(c * x1, x2, depth=depth, sigma_w=1.3), c * K, rtol=1e-9)
    # symmetric, and the one-argument form is the Gram matrix
    assert torch.allclose(kernel(x2, x1, depth=depth, sigma_w=1.3), K.T)
    assert torch.allclose(
        kernel(x1, depth=depth, sigma_w=1.3), kernel(x1, x1, depth=depth, sigma_w=1.3)
    )


def test_stability_thresholds_scale_as_one_over_the_gradient_squared():
    g = torch.Generator().manual_seed(1)
    G = torch.randn(6, 4, generator=g, dtype=torch.float64)
    t = stability_thresholds(G, rtol=1e-9)
    for c in (1e-3, 10.0):
        s = stability_thresholds(c * G, rtol=1e-9)
        assert s.gd == pytest.approx(t.gd / c**2, rel=1e-9)
        assert s.trace == pytest.approx(t.trace / c**2, rel=1e-9)
        assert s.per_sample == pytest.approx(t.per_sample / c**2, rel=1e-9)
        assert s.sgd == pytest.approx(t.sgd / c**2, rel=1e-6)
    # the sandwich 2/max‖g_i‖² ≤ η*_SGD ≤ 2/tr H ≤ 2/λmax
    assert t.per_sample <= t.sgd * (1 + 1e-6) and t.sgd <= t.trace * (1 + 1e-6) <= t.gd * (1 + 1e-6)
    # the rows' order does not matter
    assert stability_thresholds(G.flip(0), rtol=1e-9).sgd == pytest.approx(t.sgd, rel=1e-6)
    # by hand: H = GᵀG/n, 2/λmax(H) and 2/tr(H)
    H = G.T @ G / 6
    assert t.gd == pytest.approx(2 / float(torch.linalg.eigvalsh(H)[-1]))
    assert t.trace == pytest.approx(2 / float(H.trace()))


def test_sgd_rate_at_the_threshold_is_one():
    G = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], dtype=torch.float64)
    t = stability_thresholds(G, rtol=1e-10)
    assert sgd_mean_square_rate(G, t.sgd) == pytest.approx(1.0, abs=1e-6)
    assert sgd_mean_square_rate(G, 0.9 * t.sgd) < 1 < sgd_mean_square_rate(G, 1.1 * t.sgd)


def test_mp_stieltjes_tends_to_one_over_lambda():
    """m(−λ) = ∫ (s + λ)⁻¹ dμ(s) ≈ 1/λ for λ ≫ 1 (μ has mean 1), and decreases in λ."""
    for gamma in (0.3, 1.0, 3.0):
        assert mp_stieltjes(-1e6, gamma) == pytest.approx(1e-6, rel=1e-5)
        assert mp_stieltjes(-1.0, gamma) > mp_stieltjes(-2.0, gamma) > 0


def test_kl_inverse_iterations_by_hand():
    """One halving of [q, 1]: kl(0‖½) = ln 2 ≤ 10, so the answer is ½; iters must be ≥ 1."""
    assert float(kl_inverse(0.0, 10.0, iters=1)) == 0.5
    assert float(kl_inverse(0.0, 0.1, iters=1)) == 0.0  # ln 2 > 0.1: the lower end stays
    assert float(kl_inverse(0.0, 10.0, iters=2)) == 0.75
    with pytest.raises(ValueError, match=r"^iters must be"):
        kl_inverse(0.1, 0.1, iters=0)


def test_gradient_noise_scales_by_hand_and_edges():
    """B = 1 + (Σλm + σ²)Σλ^k / Σλ^{k+1} m with k = 1 (simple) and k = 2 (noise), by hand;
    leading dimensions kept, the eigenvalues' dtype, zero second moments on some coordinates."""
    from dlt.theory.noise_scales import gradient_noise_scales

    lam = torch.tensor([2.0, 0.5], dtype=torch.float64)
    s = gradient_noise_scales(lam, [1.0, 4.0], noise=1.0)
    # Σλm + σ² = 2 + 2 + 1 = 5; Σλ = 2.5, Σλ²m = 4 + 1 = 5; Σλ² = 4.25, Σλ³m = 8 + 0.5 = 8.5
    assert float(s.b_simple) == pytest.approx(1 + 5 * 2.5 / 5)
    assert float(s.b_noise) == pytest.approx(1 + 5 * 4.25 / 8.5)
    batch = gradient_noise_scales(
        lam, torch.tensor([[[1.0, 4.0]], [[0.0, 1.0]]], dtype=torch.float32), noise=0.0
    )
    assert batch.b_simple.shape == (2, 1) and batch.b_simple.dtype == torch.float64
    # second row: only λ = 0.5 carries error: 1 + 0.5 * 2.5 / 0.25 and 1 + 0.5 * 4.25 / 0.125
    assert batch.b_simple[1, 0].item() == pytest.approx(6.0)
    assert batch.b_noise[1, 0].item() == pytest.approx(18.0)
    assert batch.b_simple[0, 0].item() == pytest.approx(1 + 4 * 2.5 / 5)


def test_gradient_noise_scales_errors_name_the_argument():
    from dlt.theory.noise_scales import gradient_noise_scales

    with pytest.raises(ValueError, match=r"^eigenvalues must be > 0$"):
        gradient_noise_scales([1.0, 0.0], [1.0, 1.0], noise=0.1)
    with pytest.raises(
        ValueError, match=r"^second_moments must have shape \(\.\.\., 2\), got \(3,\)$"
    ):
        gradient_noise_scales([1.0, 0.5], [1.0, 1.0, 1.0], noise=0.1)
    with pytest.raises(ValueError, match=r"^second_moments must be >= 0 and not all zero$"):
        gradient_noise_scales([1.0, 0.5], [-1.0, 3.0], noise=0.1)
    with pytest.raises(ValueError, match=r"^second_moments must be >= 0 and not all zero$"):
        gradient_noise_scales([1.0, 0.5], [[1.0, 1.0], [0.0, 0.0]], noise=0.1)


def test_kl_inverse_keeps_an_answer_exactly_on_the_budget():
    """``kl(0, 1/2) = log 2``: with ``c = kl(0, 1/2)`` the largest p with ``kl <= c`` is 1/2
    itself, the first midpoint of the bisection (a strict ``<`` would return the float below)."""
    c = kl(0.0, 0.5)
    assert float(kl_inverse(0.0, c)) == 0.5
    assert float(kl_inverse(torch.tensor(0.0, dtype=torch.float64), c)) == 0.5


def test_kl_inverse_default_iterations_show_near_zero():
    """The bisection keeps the last midpoint within the budget; for an answer between 2^-101
    and 2^-100 the first 100 midpoints (2^-1 ... 2^-100) all exceed it, so the default of 100
    iterations returns q = 0 and one more iteration returns 2^-101."""
    c = 1.5 * 2.0**-101  # kl(0, p) = -log(1 - p) ~ p: the answer is about 1.5 * 2^-101
    got = float(kl_inverse(0.0, c))
    assert got == float(kl_inverse(0.0, c, iters=100)) == 0.0
    assert float(kl_inverse(0.0, c, iters=101)) == 2.0**-101


def test_gradient_noise_scales_take_the_eigenvalues_dtype_and_any_magnitude():
    """Second moments are cast to the eigenvalues' dtype (float64 moments, float32 eigenvalues:
    float32 out); one eigen-direction gives B = 2 at any scale, here λ = 1e30 with m = 1e-300,
    where m / λ would underflow to zero but the error λ m = 1e-270 is a positive number."""
    from dlt.theory.noise_scales import gradient_noise_scales

    s = gradient_noise_scales([2.0, 0.5], torch.tensor([1.0, 4.0], dtype=torch.float64), noise=1.0)
    assert s.b_simple.dtype == s.b_noise.dtype == torch.float32
    assert float(s.b_simple) == pytest.approx(1 + 5 * 2.5 / 5)
    lam = torch.tensor([1e30], dtype=torch.float64)
    one = gradient_noise_scales(lam, torch.tensor([1e-300], dtype=torch.float64), noise=0.0)
    assert float(one.b_simple) == pytest.approx(2.0) and float(one.b_noise) == pytest.approx(2.0)


def test_kl_inverse_names_q_outside_the_unit_interval():
    with pytest.raises(
        ValueError, match=r"^q must lie in \[0, 1\], got values from -0\.5 to 1\.5$"
    ):
        kl_inverse(torch.tensor([-0.5, 1.5]), 0.1)


def test_stability_edges_by_hand():
    """A kernel whose top eigenvalue lies below 1 (2 n / λ = 8 at n = 2, λ = 1/2), a wide G
    (more columns than rows: λ_max of G Gᵀ / n) whose GD threshold is 2 / λ_max, the default
    rtol of 1e-6, and the errors of each function with their exact messages."""
    from dlt.theory.stability import kernel_stable_lr

    assert kernel_stable_lr(0.5 * torch.eye(2), 1.0) == pytest.approx(8.0)
    assert kernel_stable_lr(0.5 * torch.eye(2)) == pytest.approx(4.0)
    g = torch.Generator().manual_seed(3)
    G = torch.randn(3, 5, generator=g, dtype=torch.float64)
    top = float(torch.linalg.eigvalsh(G @ G.T / 3)[-1])
    assert stability_thresholds(G).gd == pytest.approx(2 / top, rel=1e-12)
    tall = torch.randn(6, 3, generator=g, dtype=torch.float64)
    default = stability_thresholds(tall)
    assert default == stability_thresholds(tall, rtol=1e-6)
    assert default.sgd != stability_thresholds(tall, rtol=1e-3).sgd
    with pytest.raises(
        ValueError, match=r"^theta must be a square \(n, n\) kernel matrix, got shape \(2, 3\)$"
    ):
        kernel_stable_lr(torch.ones(2, 3))
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match=rf"^fraction must be in \(0, 1\], got {bad}$"):
            kernel_stable_lr(torch.eye(2), bad)
    assert kernel_stable_lr(torch.eye(2), 1.0) == pytest.approx(4.0)
    for fn in (lambda G: sgd_mean_square_rate(G, 1.0), stability_thresholds):
        with pytest.raises(ValueError, match=r"^G must have a non-zero entry$"):
            fn(torch.zeros(2, 3))


def test_sgd_rate_drops_a_singular_value_at_the_rank_cut_off():
    """The row space of G is cut at s_0 · max(n, P) · eps (numpy's matrix_rank): a direction
    whose singular value is at or below it is null, does not move, and must not hold the rate at
    1. For G = diag(1, s) a step of lr = 1 zeroes the first coordinate half of the time, so
    E δ² halves (rate ½); a cut-off at s_0 · eps / max(n, P), one relative to s_1, or one that
    keeps a value exactly on it keeps the second direction and reports rate 1."""
    eps = torch.finfo(torch.float64).eps
    for s in (2 * eps, eps):  # exactly on the cut-off 1 · max(2, 2) · eps, and below it
        G = torch.diag(torch.tensor([1.0, s], dtype=torch.float64))
        assert sgd_mean_square_rate(G, 1.0) == pytest.approx(0.5, abs=1e-12)
    above = torch.diag(torch.tensor([1.0, 4 * eps], dtype=torch.float64))
    assert sgd_mean_square_rate(above, 1.0) == pytest.approx(1.0, abs=1e-12)


def test_stability_thresholds_keep_the_sandwich_at_a_coarse_rtol():
    """per_sample <= sgd <= trace holds at any rtol, also one so coarse that the bisection never
    halves its bracket: then sgd is the bracket's midpoint, so the bracket must end at trace
    (up to 1e-9). G = I (n = 3) attains the trace bound (per_sample = sgd = trace = 2 < gd = 6):
    a bracket ending at 2·trace, or just below trace (whose rate is then <= 1, so the fallback
    to gd applies), or a fallback taken while the rate there is up to 2, returns about 3 or 4."""
    g = torch.Generator().manual_seed(0)
    for G in (
        torch.eye(3, dtype=torch.float64),
        torch.randn(6, 4, generator=g, dtype=torch.float64),
    ):
        t = stability_thresholds(G, rtol=10.0)
        assert t.per_sample <= t.sgd <= t.trace * (1 + 1e-9)
    assert stability_thresholds(torch.eye(3, dtype=torch.float64), rtol=10.0).sgd == pytest.approx(
        2
    )


def test_stability_thresholds_fall_back_to_gd_where_float32_rounds_the_rate_to_one():
    """Equal-norm rows attain the trace bound (sgd = trace); in float32, 1 - 2 (1 + 1e-9) rounds
    to -1, so the rate at the bracket's end trace · (1 + 1e-9) is exactly 1 and the bracket's
    upper end falls back to the GD threshold, which bounds sgd always (a fallback to None fails).
    """
    assert stability_thresholds(torch.ones(2, 2)) == (1.0, 1.0, 1.0, 1.0)
    t = stability_thresholds(torch.eye(2))
    assert (t.gd, t.trace, t.per_sample) == (4.0, 2.0, 2.0)
    assert t.sgd == pytest.approx(2.0, rel=1e-6)


def test_stability_thresholds_count_a_barely_spanned_direction_as_stable():
    """A direction the gradients barely span (singular value 1e-7, above the rank cut-off) decays
    at a rate 1 - O(1e-14) for every step size: stable within the tie tolerance 1e-12, so the
    threshold is that of the other direction, rows 1 and 2 along it: ((1 - η)² + (1 - 4η)² + 1)/3
    <= 1 iff η <= 10/17. A bisection that counts a rate within 1e-12 below 1 as unstable returns
    per_sample = 2/4 instead."""
    G = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1e-7]], dtype=torch.float64)
    t = stability_thresholds(G)
    assert t.per_sample == 0.5
    assert t.sgd == pytest.approx(10 / 17, rel=1e-6)


def test_stability_thresholds_stop_at_a_bracket_exactly_rtol_wide():
    """The bisection halves [lo, hi] while it is wider than rtol · lo. With orthogonal rows the
    threshold is 2 / max||g_i||^2 = 0.25 = per_sample (exercise 1 of chapter 9), so every
    midpoint above it is unstable and only hi moves, from trace (1 + 1e-9). With rtol · lo
    equal to the width after one halving (exact: lo is a power of two), that bracket's midpoint
    is returned, not the midpoint of its lower half."""
    G = torch.tensor(
        [[2.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.25, 0.0], [0.0, 0.0, 0.0, 0.25]], dtype=torch.float64
    )
    t0 = stability_thresholds(G)
    assert t0.per_sample == 0.25 and t0.sgd == pytest.approx(0.25, rel=1e-5)
    lo, hi = 0.25, t0.trace * (1 + 1e-9)
    hi = 0.5 * (lo + hi)
    t = stability_thresholds(G, rtol=(hi - lo) / lo)
    assert t.sgd == 0.5 * (lo + hi)


# ---------------------------------------------------------------- bounds


def test_bounds_take_the_smallest_sizes_they_document():
    """n = 8 (Maurer's constant is proved from 8 on), one weight draw, d = n = 1, and a KL of 0
    are valid: each bound by hand (a size check one too strict, or a KL check that refuses 0 or
    anything below 1, raises instead)."""
    from dlt.theory.bounds import mc_error_bound, pac_bayes_bound, pac_bayes_kl_bound, vc_bound

    # kl(0 ‖ p) = -ln(1 - p) = ln(2 / δ) / m: p = 1 - δ / 2
    assert float(mc_error_bound(0.0, 1, 0.5)) == pytest.approx(0.75, abs=1e-12)
    c = math.log(2 * math.sqrt(8) / 0.5) / 8
    assert float(pac_bayes_kl_bound(0.0, 0.0, 8, 0.5)) == pytest.approx(-math.expm1(-c))
    assert float(pac_bayes_kl_bound(0.0, 0.5, 8, 0.5)) == pytest.approx(-math.expm1(-c - 0.5 / 8))
    r = pac_bayes_bound(torch.tensor([0.0]), torch.tensor([[0.0]]), 8, 1, delta=0.5, delta_mc=0.5)
    assert float(r.train_bound) == pytest.approx(0.75, abs=1e-12)
    assert vc_bound(0.0, 1, 1, 0.5) == pytest.approx(math.sqrt(2) + math.sqrt(math.log(2) / 2))


def test_vc_bound_is_finite_at_n_equal_to_d():
    """The bound holds for n >= d, so n = d gives a number (sqrt(2 ln e) + ...), not inf."""
    from dlt.theory.bounds import vc_bound

    assert vc_bound(0.0, 10, 10, 0.5) == pytest.approx(math.sqrt(2) + math.sqrt(math.log(2) / 20))
    assert vc_bound(0.0, 10, 9, 0.5) == math.inf


def test_bounds_errors_name_the_argument():
    """kl_divergence is checked in the body (no declaration): its name and expected shape; an
    error outside [0, 1] is named by the range check of both bounds."""
    from dlt.theory.bounds import mc_error_bound, pac_bayes_kl_bound

    with pytest.raises(
        ValueError,
        match=r"^kl_divergence must have shape \(\.\.\.\) of numbers >= 0, got shape \(1, 1",
    ):
        pac_bayes_kl_bound(0.1, EIGHT, 100, 0.05)
    with pytest.raises(ValueError, match=r"^kl_divergence must be >= 0, got -1\.0$"):
        pac_bayes_kl_bound(0.1, -1.0, 100, 0.05)
    for call in (lambda: mc_error_bound(1.5, 10, 0.1), lambda: pac_bayes_kl_bound(1.5, 0, 8, 0.1)):
        with pytest.raises(ValueError, match=r"^error must lie in \[0, 1\], got values from 1\.5"):
            call()


def test_pac_bayes_bound_defaults_and_its_best_cell():
    """The default failure probabilities are δ = 0.025 and δ' = 0.01; the fields of the best
    cell are the inputs and bounds at that cell, the complexity (KL + ln(2 k √n / δ)) / n in the
    dtype of the Monte Carlo errors (float64 here, float32 KLs)."""
    from dlt.theory.bounds import pac_bayes_bound

    errors = torch.tensor([0.1, 0.02], dtype=torch.float64)
    kls = torch.tensor([[50.0, 40.0], [30.0, 400.0]])
    r = pac_bayes_bound(errors, kls, 1000, 200)
    s = pac_bayes_bound(errors, kls, 1000, 200, delta=0.025, delta_mc=0.01)
    assert torch.equal(r.bounds, s.bounds) and torch.equal(r.train_bounds, s.train_bounds)
    i, j = r.prior, r.posterior
    assert float(r.bound) == float(r.bounds.min()) == float(r.bounds[i, j])
    assert float(r.kl) == float(kls[i, j]) and float(r.mc_error) == float(errors[j])
    assert float(r.train_bound) == float(r.train_bounds[j])
    assert torch.equal(r.mc_errors, errors)
    assert r.complexity.dtype == torch.float64
    want = (float(kls[i, j]) + math.log(2 * 2 * math.sqrt(1000) / 0.025)) / 1000
    assert float(r.complexity) == pytest.approx(want, rel=1e-6)


# ---------------------------------------------------------------- bayes


def _bayes_by_marginal_likelihood(P, weights, k, noise):
    """The posterior mean by enumeration, in the marginal-likelihood form: under model S (prior
    w_S ~ N(0, v I)), y ~ N(0, σ² I + v X_S X_Sᵀ) and E[w_S | y] = v X_Sᵀ (σ² I + v X_S X_Sᵀ)⁻¹ y."""
    import itertools

    X, y, xq = P[:, :-1, :-1], P[:, :-1, -1], P[:, -1, :-1]
    d, n = X.shape[-1], X.shape[1]
    models = [(tuple(range(d)), 1.0, weights.get("dense", 0.0))]
    supports = list(itertools.combinations(range(d), k))
    models += [(s, d / k, weights.get("sparse", 0.0) / len(supports)) for s in supports]
    logw, means = [], []
    for s, v, prior in models:
        if prior == 0:
            continue
        Xs = X[:, :, list(s)]
        cov = noise**2 * torch.eye(n, dtype=X.dtype) + v * Xs @ Xs.transpose(1, 2)
        ev = torch.distributions.MultivariateNormal(torch.zeros(n, dtype=X.dtype), cov).log_prob(y)
        logw.append(ev + math.log(prior))
        alpha = torch.linalg.solve(cov, y)
        means.append(v * (xq[:, list(s)] * (Xs.transpose(1, 2) @ alpha[..., None])[..., 0]).sum(1))
    post = torch.softmax(torch.stack(logw, 1), 1)
    return (post * torch.stack(means, 1)).sum(1)


def test_bayes_predictor_matches_the_marginal_likelihood_in_float64():
    """Two context points in d = 3, supports of k = 2 (prior variance 3/2, whose inverse float32
    does not hold) beside the dense model: the enumeration in the marginal-likelihood form agrees
    to 1e-10, which a prior precision in float32 (1e-8 off) or an evidence with -½ log det C_m
    misspelt (log v / k for k log v) does not. The defaults are sparsity = 2 and noise = 0.1."""
    from dlt.theory.bayes import bayes_predictor

    g = torch.Generator().manual_seed(0)
    P = torch.randn(5, 3, 4, generator=g, dtype=torch.float64)
    mix = {"dense": 0.4, "sparse": 0.6}
    want = _bayes_by_marginal_likelihood(P, mix, 2, 0.5)
    torch.testing.assert_close(bayes_predictor(P, mix, 2, 0.5), want, rtol=1e-10, atol=0)
    default = _bayes_by_marginal_likelihood(P, mix, 2, 0.1)
    torch.testing.assert_close(bayes_predictor(P, mix), default, rtol=1e-10, atol=0)
    sparse = _bayes_by_marginal_likelihood(P, {"sparse": 1.0}, 1, 0.5)
    pred, p_sparse = bayes_predictor(P, {"sparse": 1.0}, 1, 0.5, return_posterior=True)
    torch.testing.assert_close(pred, sparse, rtol=1e-10, atol=0)
    torch.testing.assert_close(p_sparse, torch.ones_like(p_sparse), rtol=0, atol=1e-12)  # no dense


def test_bayes_predictors_return_the_prompts_dtype():
    """Computed in float64, returned in the prompts' dtype (float32 here, float32 tasks too)."""
    from dlt.theory.bayes import bayes_predictor, discrete_prior_predictor

    P = torch.randn(4, 3, 4, generator=torch.Generator().manual_seed(1))
    pred, p_sparse = bayes_predictor(P, {"dense": 0.5, "sparse": 0.5}, return_posterior=True)
    assert pred.dtype == p_sparse.dtype == torch.float32
    tasks = torch.randn(2, 3, generator=torch.Generator().manual_seed(2))
    out = discrete_prior_predictor(P, tasks, 0.5)
    assert out.dtype == torch.float32
    want = discrete_prior_predictor(P.double(), tasks.double(), 0.5)
    torch.testing.assert_close(out, want.float())


def test_bayes_predictor_weights_errors():
    """weights: a dict with keys among dense and sparse, values >= 0 and not all zero; each
    violation raises its own message (an unknown key beside a known one too, a list, a negative
    weight beside a positive one, all zeros); tasks of the wrong width name tasks."""
    from dlt.theory.bayes import bayes_predictor, discrete_prior_predictor

    P = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    keys = r"^weights must be a dict with keys among \('dense', 'sparse'\), got "
    for bad in ({"sign": 1.0}, {"dense": 1.0, "sign": 1.0}, [("dense", 1.0)], {}):
        with pytest.raises(ValueError, match=keys):
            bayes_predictor(P, bad)
    for bad in ({"dense": -0.5, "sparse": 1.0}, {"dense": 1.0, "sparse": -0.5}, {"dense": 0.0}):
        with pytest.raises(ValueError, match=r"^weights must be >= 0 and not all zero, got \{"):
            bayes_predictor(P, bad)
    with pytest.raises(
        ValueError, match=r"^tasks must have shape \(M, 3\) to match dim, got \(2, 2\)$"
    ):
        discrete_prior_predictor(P, torch.zeros(2, 2), 0.1)


# ---------------------------------------------------------------- convergence, finite differences


def test_h_infinity_of_parallel_and_opposite_rows_is_finite():
    """x and 3x are parallel (θ = 0, H = x·3x / 2), x and -3x opposite (θ = π, H = 0); their
    cosine computed in floating point falls just outside [-1, 1] for some x, where an arccos
    without the clamp on that side returns NaN."""
    from dlt.theory.convergence import h_infinity

    x = torch.randn(100, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for sign in (3.0, -3.0):
        X = torch.cat([x, sign * x])
        norms = X.norm(dim=1)
        cos = (X @ X.T / (norms[:, None] * norms[None, :])).diagonal(100)
        assert bool((cos.abs() > 1).any())  # the premise: rounding leaves [-1, 1]
        H = h_infinity(X)
        assert bool(torch.isfinite(H).all())
        want = (x * sign * x).sum(1) / 2 if sign > 0 else torch.zeros(100, dtype=torch.float64)
        # arccos(1 - ε) ≈ √(2ε): a cosine 1e-16 off 1 moves θ by 1e-8
        torch.testing.assert_close(H.diagonal(100), want, rtol=1e-7, atol=1e-7)


def test_h_infinity_keeps_the_floating_dtype_and_raises_integers_to_float64():
    from dlt.theory.convergence import h_infinity

    X = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    assert h_infinity(X).dtype == torch.float32
    assert h_infinity(X.int()).dtype == torch.float64
    assert h_infinity(X.int())[0, 1].item() == pytest.approx(0.375)


def test_linear_convergence_bound_at_zero_steps_and_its_message():
    """steps = 0 is the residual alone; lr λ0 > 2 is refused with the product in the message."""
    from dlt.theory.convergence import linear_convergence_bound

    assert linear_convergence_bound(2.5, 0.5, 1.0, 0).tolist() == [2.5]
    with pytest.raises(
        ValueError, match=r"^lr \* lambda0 must be <= 2 for a factor in \[0, 1\], got 3$"
    ):
        linear_convergence_bound(1.0, 0.75, 4.0, 3)


def test_finite_differences_errors_name_the_argument():
    """finite_differences is not under @validate_params: its own checks are the boundary."""
    from dlt.theory.finite_differences import finite_differences

    f, z, one = (lambda x: x[:, 0]), torch.zeros(2), torch.ones(2)
    cases = [
        ((3, z, one, 1), TypeError, r"^f must be callable, got int$"),
        (
            (f, torch.zeros(2, 2), one, 1),
            ValueError,
            r"^x0 must have shape \(d,\), got shape \(2, 2",
        ),
        (
            (f, z, torch.ones(2, 1), 1),
            ValueError,
            r"^direction must have shape \(d,\), got shape \(",
        ),
        (
            (f, z, torch.ones(3), 1),
            ValueError,
            r"^direction must have shape \(2,\) like x0, got \(3,",
        ),
        ((f, z, one, -1), ValueError, r"^max_order must be >= 0, got -1$"),
        ((f, z, one, 1, 0.0), ValueError, r"^h must be > 0, got 0\.0$"),
        ((lambda x: x[:2, 0], z, one, 2), ValueError, r"^f must return a tensor with 3 rows, one"),
        (
            (lambda x: [1.0, 2.0], z, one, 1),
            ValueError,
            r"^f must return a tensor with 2 rows, one",
        ),
    ]
    for args, error, match in cases:
        with pytest.raises(error, match=match):
            finite_differences(*args)


def test_finite_differences_order_zero_default_step_and_dtype():
    """Order 0 is f(x0) alone; the default step is h = 1 (Δ³ of t³ is 3! h³: 6, and 48 at h = 2);
    the points are in x0's dtype, a float64 direction is cast to float32 with x0."""
    from dlt.theory.finite_differences import finite_differences

    cube = lambda x: x[:, 0] ** 3  # noqa: E731
    z, one = torch.zeros(1), torch.ones(1)
    assert finite_differences(cube, z + 2, one, 0).tolist() == [8.0]
    assert finite_differences(cube, z, one, 3).tolist() == [0.0, 1.0, 6.0, 6.0]
    assert finite_differences(cube, z, one, 3, h=2.0)[3].item() == 48.0
    out = finite_differences(cube, z, one.double(), 3)
    assert out.dtype == torch.float32


# ---------------------------------------------------------------- kernel dynamics


def _dynamics(theta, kx, y, f0, f0s, t, lr=None):
    from dlt.theory.kernel_dynamics import kernel_gd_dynamics

    return kernel_gd_dynamics(theta, kx, y, f0, f0s, t, lr=lr)


def test_kernel_gd_dynamics_at_a_step_that_zeroes_a_direction():
    """Θ = diag(2, 1), n = 2, lr = 1: x = lr λ / n is exactly 1 on the first direction, which one
    step fits exactly; at t = 0 nothing moved (log1p(-1) = -inf times t = 0 gives NaN there)."""
    theta = torch.diag(torch.tensor([2.0, 1.0], dtype=torch.float64))
    one, zero = torch.ones(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    f, _ = _dynamics(theta, theta, one, zero, zero, torch.tensor([0, 1, 2]), lr=1.0)
    assert f.tolist() == [[0.0, 0.0], [1.0, 0.5], [1.0, 0.75]]


def test_kernel_gd_dynamics_flow_in_float64_time():
    """t = 1/3 is used as a float64 number: f(t) = y - e^{-Θ t / n} (y - f0) to 1e-13 (t rounded
    to float32 is 3e-8 off)."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4, 4, generator=g, dtype=torch.float64)
    theta, y = a @ a.T, torch.randn(4, generator=g, dtype=torch.float64)
    zero = torch.zeros(4, dtype=torch.float64)
    f, _ = _dynamics(theta, theta, y, zero, zero, 1 / 3)
    want = y - torch.linalg.matrix_exp(-theta / 3 / 4) @ y
    torch.testing.assert_close(f[0], want, rtol=1e-13, atol=1e-13)


def test_kernel_gd_dynamics_below_the_eigenvalue_cut_off_takes_the_limit():
    """An eigenvalue λ below 1e-12 λ_max (1e-14 here) takes the limit of (1 - g)/λ: t/n for the
    flow and t lr / n for t steps. A test input sees that direction through an entry 1e-7 (the
    joint kernel [[Θ, kᵀ], [k, 1]] stays positive semi-definite) and moves by 1e-7 times it."""
    theta = torch.diag(torch.tensor([1.0, 1e-14], dtype=torch.float64))
    kx = torch.tensor([[0.0, 1e-7]], dtype=torch.float64)
    y, f0, f0s = torch.ones(2, dtype=torch.float64), torch.zeros(2), torch.zeros(1)
    _, flow = _dynamics(theta, kx, y, f0, f0s, 1.0)  # h = t / n = 1/2
    assert flow.item() == pytest.approx(5e-8, rel=1e-12)
    _, steps = _dynamics(theta, kx, y, f0, f0s, 4, lr=0.5)  # h = t lr / n = 1
    assert steps.item() == pytest.approx(1e-7, rel=1e-12)


@pytest.mark.parametrize("c", [1e-10, 1e10])
def test_kernel_gd_dynamics_are_invariant_under_rescaling_the_kernel_and_the_time(c):
    """(Θ, k, t) → (cΘ, ck, t/c) for the flow and (cΘ, ck, lr/c) for steps leave every output
    unchanged: the eigenvalue cut-off is relative to λ_max (at c = 1e-10 the eigenvalue 1e-13 of
    cΘ is far above it, and must not take the small-λ limit)."""
    q, _ = torch.linalg.qr(
        torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    )
    theta = q @ torch.diag(torch.tensor([1.0, 0.1, 1e-3], dtype=torch.float64)) @ q.T
    kx = torch.randn(2, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y, f0, f0s = torch.ones(3, dtype=torch.float64), torch.zeros(3), torch.zeros(2)
    for t, lr in ((1000.0, None), (1000, 1.0)):
        want = _dynamics(theta, kx, y, f0, f0s, t, lr)
        got = _dynamics(c * theta, c * kx, y, f0, f0s, t / c if lr is None else t,
                        None if lr is None else lr / c)  # fmt: skip
        for a, b in zip(got, want, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-12)


def test_kernel_gd_dynamics_errors_with_their_messages():
    """lr is checked in the body (no declaration); the lengths of f0_train and f0_test, the
    width of theta_test_train and whole steps are checked against each other there too."""
    k, ones = torch.eye(3), torch.ones(3)
    cases = [
        ((k, torch.ones(2, 3), ones, torch.ones(4), torch.ones(2), 1.0), {},
         r"^f0_train must have length 3 to match the inputs, got 4$"),
        ((k, torch.ones(2, 3), ones, ones, ones, 1.0), {},
         r"^f0_test must have length 2 to match the inputs, got 3$"),
        ((k, torch.ones(2, 4), ones, ones, torch.ones(2), 1.0), {},
         r"^theta_test_train must have shape \(m, 3\), got \(2, 4\)$"),
        ((k, torch.ones(2, 3), ones, ones, torch.ones(2), 1.5), {"lr": 0.1},
         r"^t must hold whole numbers of steps when lr is given$"),
        ((k, torch.ones(2, 3), ones, ones, torch.ones(2), 1), {"lr": 0.0}, r"^lr must be > 0, got 0\.0$"),
        ((k, torch.ones(2, 3), ones, ones, torch.ones(2), -1.0), {}, r"^t must be >= 0$"),
    ]  # fmt: skip
    for args, kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            _dynamics(*args, **kwargs)


def test_kernel_gd_dynamics_computes_float32_inputs_in_float64():
    """Every input is taken to float64 (the documented output dtype), the test kernel too."""
    g = torch.Generator().manual_seed(2)
    a = torch.randn(5, 3, generator=g)
    theta, kx = a[:3] @ a[:3].T, a[3:] @ a[:3].T
    y, f0, f0s = torch.randn(3, generator=g), torch.zeros(3), torch.zeros(2)
    got = _dynamics(theta, kx, y, f0, f0s, 2.0)
    want = _dynamics(*(v.double() for v in (theta, kx, y, f0, f0s)), 2.0)
    for a, b in zip(got, want, strict=True):
        assert a.dtype == torch.float64
        torch.testing.assert_close(a, b, rtol=1e-15, atol=0)


# ---------------------------------------------------------------- boolean


def test_walsh_transform_of_the_one_dimensional_cube():
    """d = 1 (two rows) is a cube: f = (1, 3) has mean 2 and coefficient -1 on χ_{0}."""
    from dlt.theory.boolean import walsh_coefficients, walsh_values

    assert walsh_coefficients(torch.tensor([1.0, 3.0])).tolist() == [2.0, -1.0]
    assert walsh_values(torch.tensor([2.0, -1.0])).tolist() == [1.0, 3.0]


def test_boolean_errors_name_the_argument():
    """Rows not a power of two, and a coordinate equal to d, each with its exact message."""
    from dlt.theory import boolean as b

    rows = r"^{} must have 2\^d rows \(d >= 1\), got 3$"
    cases = [
        (lambda: b.walsh_coefficients(torch.ones(3)), rows.format("values")),
        (lambda: b.walsh_values(torch.ones(3, 2)), rows.format("coefficients")),
        (lambda: b.influence(torch.ones(3), 0), rows.format("coefficients")),
        (lambda: b.min_degree_interpolator(torch.ones(3), 0), rows.format("coefficients")),
        (lambda: b.product_kernel_unseen_error(torch.ones(3), 0.5), rows.format("coefficients")),
    ]
    c = torch.arange(8.0)
    for fn in (b.influence, b.min_degree_interpolator):
        cases.append((lambda fn=fn: fn(c, 3), r"^coordinate must be below d = 3, got 3$"))
    cases.append(
        (
            lambda: b.product_kernel_unseen_error(c, 0.5, 3),
            r"^coordinate must be below d = 3, got 3$",
        )
    )
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_boolean_functions_of_several_columns_act_column_by_column():
    """(2^d, k) coefficients are k functions: each result's column is that of its column alone,
    (k,) for the influence and the unseen error, (2^d, k) for the interpolator."""
    from dlt.theory import boolean as b

    c = torch.randn(8, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for fn, args in ((b.influence, (1,)), (b.min_degree_interpolator, (2,)),
                     (b.product_kernel_unseen_error, (0.5, 1))):  # fmt: skip
        out = fn(c, *args)
        assert out.shape == ((8, 3) if fn is b.min_degree_interpolator else (3,))
        for j in range(3):
            torch.testing.assert_close(out[..., j], fn(c[:, j], *args), rtol=1e-15, atol=0)


def test_product_kernel_by_hand_off_the_cube_and_in_x1s_dtype():
    """k(x, x') = Π (1 + ε² x_i x'_i) for any entries (on the cube x_i x'_i = x_i / x'_i, off it
    not): (1 + ¼·2·½)(1 + ¼·1·3) = 2.1875, in x1's dtype (float32 here, x2 float64)."""
    from dlt.theory.boolean import product_kernel, product_kernel_unseen_error

    x1 = torch.tensor([[2.0, 1.0]])
    k = product_kernel(x1, torch.tensor([[0.5, 3.0]], dtype=torch.float64), 0.5)
    assert k.dtype == torch.float32 and k.tolist() == [[2.1875]]
    c = torch.arange(8.0)
    assert torch.equal(product_kernel_unseen_error(c, 0.5), product_kernel_unseen_error(c, 0.5, 0))
    assert not torch.equal(
        product_kernel_unseen_error(c, 0.5), product_kernel_unseen_error(c, 0.5, 1)
    )


# ---------------------------------------------------------------- icl


def test_icl_predictors_return_the_prompts_dtype():
    """Each baseline computes in float64 and returns the prompts' dtype (float32 here), one
    prediction per prompt; the lasso predictor is x_q · lasso(X, y, lam, n_iter) itself."""
    from dlt.solve.lasso import lasso
    from dlt.theory import icl

    P = torch.randn(4, 6, 4, generator=torch.Generator().manual_seed(0))
    X, y, xq = P[:, :-1, :-1], P[:, :-1, -1], P[:, -1, :-1]
    for out in (icl.least_squares_predictor(P), icl.ridge_predictor(P, 0.1),
                icl.lasso_predictor(P, 0.1, 3), icl.one_step_gd_predictor(P, lr=0.1)):  # fmt: skip
        assert out.dtype == torch.float32 and out.shape == (4,)
    want = (xq.double() * lasso(X, y, 0.1, 3)).sum(-1).float()
    torch.testing.assert_close(icl.lasso_predictor(P, 0.1, 3), want)
    default = (xq.double() * lasso(X, y, 0.1, 500)).sum(-1).float()
    torch.testing.assert_close(icl.lasso_predictor(P, 0.1), default)
    gd = (xq.double() * (0.1 * (y.double()[..., None] * X.double()).mean(1))).sum(-1).float()
    torch.testing.assert_close(icl.one_step_gd_predictor(P, lr=0.1), gd)
    assert torch.equal(icl.gd_predictor(P.double(), 0.1, 0), torch.zeros(4, dtype=torch.float64))


def test_icl_preconditioner_arguments_and_their_errors():
    """lr may be a number, a 0-dim tensor or a (d, d) matrix; anything else, a NaN matrix, a
    non-positive number, or both or neither of lr and preconditioner raise with exact messages;
    d = 1 is a valid construction, in float64."""
    from dlt.theory import icl

    P = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert torch.equal(icl.one_step_gd_predictor(P, lr=torch.tensor(0.5)),
                       icl.one_step_gd_predictor(P, lr=0.5))  # fmt: skip
    q, v = icl.gd_construction(1, 0.5)
    assert q.tolist() == [[0.5, 0.0], [0.0, 0.0]] and v.tolist() == [[0.0, 0.0], [0.0, -1.0]]
    assert q.dtype == v.dtype == torch.float64
    cases = [
        (lambda: icl.gd_construction(2, torch.eye(3)),
         r"^lr must be a number or a \(2, 2\) matrix, got shape \(3, 3\)$"),
        (lambda: icl.one_step_gd_predictor(P, lr=torch.ones(3)),
         r"^lr must be a number or a \(3, 3\) matrix, got shape \(3,\)$"),
        (lambda: icl.one_step_gd_predictor(P, preconditioner=torch.eye(2)),
         r"^preconditioner must be a number or a \(3, 3\) matrix, got shape \(2, 2\)$"),
        (lambda: icl.one_step_gd_predictor(P, preconditioner=torch.full((3, 3), math.nan)),
         r"^preconditioner must be finite"),
        (lambda: icl.one_step_gd_predictor(P, lr=-1.0), r"^lr must be > 0, got -1\.0$"),
        (lambda: icl.one_step_gd_predictor(P), r"^give exactly one of lr and preconditioner$"),
        (lambda: icl.one_step_gd_predictor(P, lr=0.1, preconditioner=torch.eye(3)),
         r"^give exactly one of lr and preconditioner$"),
    ]  # fmt: skip
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_optimal_one_step_preconditioner_and_risk_by_hand():
    """Γ* = [(n+1)/n Σ + (tr Σ + σ²)/n I]⁻¹: Σ = diag(1, 2), n = 3, σ = ½ gives diag(12/29, 12/45)
    to 1e-15; n = 1 and d = 1 are valid (Σ = I: 1/3); the noise defaults to 0; the risk takes a
    float32 preconditioner as the same float64 numbers."""
    from dlt.theory import icl

    cov = torch.diag(torch.tensor([1.0, 2.0], dtype=torch.float64))
    got = icl.optimal_one_step_preconditioner(3, 2, cov, 0.5)
    torch.testing.assert_close(got, torch.diag(torch.tensor([12 / 29, 12 / 45], dtype=torch.float64)),
                               rtol=1e-15, atol=0)  # fmt: skip
    assert torch.equal(icl.optimal_one_step_preconditioner(3, 2, cov),
                       icl.optimal_one_step_preconditioner(3, 2, cov, 0.0))  # fmt: skip
    assert icl.optimal_one_step_preconditioner(1, 1).item() == pytest.approx(1 / 3, rel=1e-15)
    g = torch.tensor([[0.5, 0.1], [0.1, 0.25]])
    risk = icl.one_step_risk(g, 3, cov)
    assert risk == icl.one_step_risk(g.double(), 3, cov) == icl.one_step_risk(g, 3, cov, 0.0)
    assert icl.one_step_risk(g, 1, cov) > risk > icl.one_step_risk(g, 30, cov) > 0


# ---------------------------------------------------------------- diagonal networks


def test_diagonal_net_solution_errors_and_float32_targets():
    """The body's own checks with their exact messages: y's length against X, a rank-deficient
    X, and max_iter = 1 (valid, but one Newton step does not reach tol); float32 targets are
    solved in float64 like float64 ones."""
    from dlt.theory.diagonal import diagonal_net_solution

    X = torch.tensor([[1.0, 0.5, 0.0], [0.0, 1.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    torch.testing.assert_close(diagonal_net_solution(X, y.float(), 0.1),
                               diagonal_net_solution(X, y, 0.1), rtol=0, atol=0)  # fmt: skip
    cases = [
        (lambda: diagonal_net_solution(X, torch.ones(3), 0.1),
         r"^y must have length 2 to match the inputs, got 3$"),
        (lambda: diagonal_net_solution(torch.ones(2, 2, dtype=torch.float64), y, 0.1),
         r"^X must have full row rank for interpolators to exist$"),
        (lambda: diagonal_net_solution(X, y, 0.1, max_iter=1),
         r"^Newton's method did not reach tol=1e-10 in max_iter=1 steps$"),
    ]  # fmt: skip
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_diagonal_potential_of_a_batch_is_one_value_per_row():
    from dlt.theory.diagonal import diagonal_potential

    w = torch.tensor([[1.0, -0.5, 0.0], [2.0, 0.0, 0.0]], dtype=torch.float64)
    out = diagonal_potential(w, 0.5)
    assert out.shape == (2,)
    for i in range(2):
        assert out[i].item() == pytest.approx(diagonal_potential(w[i], 0.5).item(), rel=1e-15)


def test_pac_bayes_bound_names_its_own_arguments_out_of_range():
    """An error rate outside [0, 1] or a negative KL is reported under the names the caller
    used, mc_errors and kl_divergences, not those of the functions it delegates to (error,
    kl_divergence), which the caller never passed."""
    from dlt.theory.bounds import pac_bayes_bound

    with pytest.raises(ValueError, match=r"^mc_errors must lie in \[0, 1\]"):
        pac_bayes_bound(torch.tensor([0.1, 1.5]), torch.zeros(1, 2), 100, 10)
    with pytest.raises(ValueError, match=r"^kl_divergences must be >= 0, got -0.5"):
        pac_bayes_bound(torch.tensor([0.1, 0.2]), torch.tensor([[0.0, -0.5]]), 100, 10)


def _diagonal_problem():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(4, 10, generator=g, dtype=torch.float64)
    return X, torch.randn(4, generator=g, dtype=torch.float64)


@pytest.mark.parametrize(
    ("alpha", "tol", "size"), [(1e-3, 1e-10, 1.0), (1.0, 1e-15, 1.0), (1e3, 1e-15, 1.0),
                               (0.1, 1e-13, 1e4)]
)  # fmt: skip
def test_diagonal_net_solution_reaches_tight_tolerances_across_scales(alpha, tol, size):
    """Newton's method on the dual must reach ||Xw - y|| <= tol (1 + ||y||) from the rich
    (alpha = 1e-3) to the kernel (alpha = 1e3) regime, tol down to 1e-15, and return the
    optimality structure w = 2 alpha^2 sinh(X^T nu). Its line search accepts the full step
    when the decrease is within rounding of the optimum: without that exit (or with the exit
    tested on the wrong step, at a target divided instead of multiplied by 1 + ||y||, or
    with "within rounding" not relative to the dual's value, which is 1e4 times larger for
    targets of size 1e4) the search halves the step to nothing and reports a stall, or runs
    out of steps."""
    from dlt.theory.diagonal import diagonal_net_solution

    X, y = _diagonal_problem()
    y = size * y
    w = diagonal_net_solution(X, y, alpha, tol=tol)
    assert w is not None and torch.isfinite(w).all()
    assert float((X @ w - y).norm()) <= tol * (1 + float(y.norm()))
    s = torch.asinh(w / (2 * alpha**2))  # X^T nu: in the row space of X
    nu = torch.linalg.lstsq(X.T, s.unsqueeze(1)).solution[:, 0]
    assert float((X.T @ nu - s).norm()) <= 1e-8 * (1 + float(s.norm()))


def test_diagonal_net_solution_stopping_rule_on_and_off_its_threshold():
    """The rule is ||Xw - y|| <= tol (1 + ||y||), checked before each step. From nu = 0
    (w = 0) the residual is ||y||: with ||y|| = 1 and tol = 0.5 it is exactly on the threshold,
    so w = 0 comes back; with tol = 0.45 it is above, and the answer must meet 0.9. (A strict
    < , a target tol / (1 + ||y||) or tol (2 + ||y||) fails one of the two.)"""
    from dlt.theory.diagonal import diagonal_net_solution

    X = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([1.0], dtype=torch.float64)
    assert diagonal_net_solution(X, y, 1.0, tol=0.5).tolist() == [0.0, 0.0]
    w = diagonal_net_solution(X, y, 1.0, tol=0.45)
    assert float((X @ w - y).abs()) <= 0.9 and float(w.abs().sum()) > 0


def test_diagonal_net_solution_at_the_edge_of_float64_fails_loudly_or_interpolates():
    """alpha = 1e-150 (2 alpha^2 = 2e-300, beside the smallest normal float) and targets of
    size 1e6: Newton's line search may stall there. It must then say so, with a message that
    begins "Newton's method", or else return a finite interpolator within tol: never a
    silent wrong answer."""
    from dlt.theory.diagonal import diagonal_net_solution

    X, y = _diagonal_problem()
    y = 1e6 * y
    try:
        w = diagonal_net_solution(X, y, 1e-150)
    except ValueError as err:
        assert str(err).startswith("Newton's method "), str(err)
    else:
        assert torch.isfinite(w).all()
        assert float((X @ w - y).norm()) <= 1e-10 * (1 + float(y.norm()))


@pytest.mark.parametrize("rtol", [1e-6, 0.5, 10.0])
@pytest.mark.parametrize("n", [2, 5])
def test_stability_thresholds_stay_in_the_sandwich_when_sgd_equals_the_trace_bound(n, rtol):
    """G = I (equal sample norms, orthogonal samples): eta*_SGD = 2/max||g_i||^2 = 2/tr H = 2
    exactly, the case where the rate at the trace bound is 1 to rounding. The answer must stay
    in per_sample <= sgd <= trace <= gd at any rtol and in float32: an earlier version bisected
    up to 2/lambda_max instead (sgd = 3 > trace = 2 at rtol = 10), and in float32 returned
    2.000001 > trace at the default rtol."""
    for dtype in (torch.float32, torch.float64):
        t = stability_thresholds(torch.eye(n, dtype=dtype), rtol=rtol)
        assert t.per_sample <= t.sgd <= t.trace <= t.gd, (dtype, t)
        assert t.sgd == pytest.approx(2.0, rel=1e-12) and t.gd == pytest.approx(2.0 * n)


def test_stability_thresholds_of_float32_gradients_are_computed_in_float64():
    """The thresholds of a float32 G are those of the same numbers in float64 (the rate's
    eigenvalue is compared with 1 + 1e-12, below float32's resolution)."""
    g = torch.Generator().manual_seed(0)
    G = torch.randn(6, 4, generator=g)
    a, b = stability_thresholds(G), stability_thresholds(G.double())
    for x, y in zip(a, b, strict=True):
        assert x == pytest.approx(y, rel=1e-12, abs=0)
