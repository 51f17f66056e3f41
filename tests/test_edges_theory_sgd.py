"""Edges of dlt.theory.sgd: one step of the recursion by hand, the cap of a diverging run, a risk
exactly on its target, the step budget's ends, the learning rate chosen on a tie of hitting
times, and the hyperbola fit at the ends of its search range; messages that name the argument
from their start."""

import math

import numpy as np
import pytest
import torch

from dlt.theory.sgd import fit_critical_batch, sgd_risk, steps_to_target

f64 = torch.float64


def _one_step(lam, m, noise, b, eta):
    """m_i <- (1 - eta l_i)^2 m_i + eta^2 / B (l_i^2 m_i + l_i sum_j l_j m_j + noise^2 l_i)."""
    s = sum(l * x for l, x in zip(lam, m, strict=True))
    return [
        (1 - eta * l) ** 2 * x + eta**2 / b * (l**2 * x + l * s + noise**2 * l)
        for l, x in zip(lam, m, strict=True)
    ]


def _risk(lam, m):
    return 0.5 * sum(l * x for l, x in zip(lam, m, strict=True))


# ---------------------------------------------------------------- sgd_risk


def test_sgd_risk_two_steps_by_hand_in_float64():
    """Two steps of the recursion in Python floats, every (B, eta) pair: a wrong coefficient,
    power or sign, or a learning rate rounded through float32 (0.1 is not a float32), is off
    by far more than 1e-14."""
    lam, m0, noise = [1.0, 0.5, 0.25], [1.0, 2.0, 0.0], 0.3
    r = sgd_risk(torch.tensor(lam, dtype=f64), torch.tensor(m0, dtype=f64), noise=noise,
                 batch_size=[1, 3], lr=[0.1, 0.7], steps=2)  # fmt: skip
    assert r.shape == (2, 2, 3) and r.dtype == f64
    for i, b in enumerate([1, 3]):
        for j, eta in enumerate([0.1, 0.7]):
            m1 = _one_step(lam, m0, noise, b, eta)
            m2 = _one_step(lam, m1, noise, b, eta)
            want = [_risk(lam, m) for m in (m0, m1, m2)]
            np.testing.assert_allclose(r[i, j].numpy(), want, rtol=1e-14, atol=0)


def test_sgd_risk_grid_of_unequal_sizes_equals_single_calls():
    """Two batch sizes by three learning rates (given as a float64 tensor): shape (2, 3, 5),
    each entry the single (B, eta) run; a state laid out on the wrong axis cannot broadcast."""
    lam, m0 = torch.tensor([1.0, 0.4], dtype=f64), torch.tensor([0.5, 2.0], dtype=f64)
    lrs = torch.tensor([0.1, 0.6, 1.1], dtype=f64)
    r = sgd_risk(lam, m0, noise=0.2, batch_size=[1, 5], lr=lrs, steps=4)
    assert r.shape == (2, 3, 5)
    for i, b in enumerate([1, 5]):
        for j, eta in enumerate(lrs.tolist()):
            one = sgd_risk(lam, m0, noise=0.2, batch_size=b, lr=eta, steps=4)
            torch.testing.assert_close(r[i, j], one[0, 0], rtol=1e-15, atol=0)


def test_sgd_risk_noise_enters_squared():
    """From m = 0 one step leaves only the noise term: R_1 = eta^2 noise^2 l^2 / (2 B)."""
    r = sgd_risk([2.0], [0.0], noise=3.0, batch_size=4, lr=0.5, steps=1)
    assert float(r[0, 0, 0]) == 0.0
    assert float(r[0, 0, 1]) == pytest.approx(0.25 * 9.0 * 4.0 / 8, rel=1e-7)


def test_sgd_risk_diverging_run_saturates_at_the_cap():
    """A divergent learning rate clips each m_i at 1e30: R = 0.5 * sum(l) * 1e30 exactly after
    enough steps, finite (no inf, no nan)."""
    r = sgd_risk(torch.tensor([1.0, 0.5], dtype=f64), torch.ones(2, dtype=f64), noise=0.0,
                 batch_size=1, lr=10.0, steps=60)  # fmt: skip
    assert torch.isfinite(r).all()
    assert float(r[0, 0, -1]) == pytest.approx(0.75e30, rel=1e-15)
    assert float(r.max()) <= 0.75e30 * (1 + 1e-15)


def test_sgd_risk_zero_steps_is_the_initial_risk():
    """steps = 0 is allowed (>= 0): one column, R_0 = 0.5 sum l m."""
    r = sgd_risk([1.0, 0.5], [1.0, 3.0], noise=0.1, batch_size=2, lr=0.1, steps=0)
    assert r.shape == (1, 1, 1)
    assert float(r[0, 0, 0]) == 1.25


def test_sgd_risk_grids_from_numbers_sequences_tensors_and_arrays():
    """batch_size and lr accept a number, a one-element list, a tensor and an array, all equal."""
    args = dict(eigenvalues=torch.tensor([1.0, 0.3], dtype=f64), init=[1.0, 1.0], noise=0.2,
                steps=3)  # fmt: skip
    ref = sgd_risk(**args, batch_size=2, lr=0.3)
    for b, lr in (([2], [0.3]), (torch.tensor([2]), torch.tensor([[0.3]], dtype=f64)),
                  (np.array([2]), np.array([0.3])), (2.0, 0.3)):  # fmt: skip
        assert torch.equal(sgd_risk(**args, batch_size=b, lr=lr), ref)


def test_sgd_risk_errors_name_the_argument_from_their_start():
    """Each bad argument is named first in its message (a mangled message fails the match);
    an eigenvalue 0 is refused (`< 0` would pass it), an init 0 is allowed (`<= 0` would not)."""
    ok = dict(eigenvalues=[1.0, 0.5], init=[1.0, 0.0], noise=0.1, batch_size=1, lr=0.1, steps=2)
    assert sgd_risk(**ok).shape == (1, 1, 3)
    cases = [
        (dict(eigenvalues=[1.0, 0.0]), ValueError, r"^eigenvalues must be > 0$"),
        (dict(init=[1.0]), ValueError, r"^init must have length 2 to match the inputs, got 1$"),
        (dict(init=[1.0, -1e-9]), ValueError, r"^init must be >= 0 \(second moments\)$"),
        (dict(batch_size=0), ValueError, r"^batch_size must be >= 1, got 0$"),
        (dict(batch_size=[1, 0]), ValueError, r"^batch_size must be >= 1, got 0$"),
        (dict(batch_size=1.5), TypeError, r"^batch_size must be an integer, got 1\.5$"),
        (dict(batch_size=[]), TypeError, r"^batch_size must be a number or a non-empty sequence"),
        (dict(batch_size=None), TypeError, r"^batch_size must be a number or a non-empty sequence"),
        (dict(lr=0.0), ValueError, r"^lr must be > 0, got 0\.0$"),
        (dict(lr=[0.1, -1.0]), ValueError, r"^lr must be > 0, got -1\.0$"),
        (dict(lr=()), TypeError, r"^lr must be a number or a non-empty sequence, got \(\)$"),
    ]
    for kwargs, err, match in cases:
        with pytest.raises(err, match=match):
            sgd_risk(**{**ok, **kwargs})


# ---------------------------------------------------------------- steps_to_target
# One coordinate, l = 1, m = 1, noise 0, B = 1: m <- ((1 - eta)^2 + 2 eta^2) m, so with eta = 0.5
# R_t = 0.75^t R_0 exactly in binary floating point.
ONE = dict(eigenvalues=[1.0], init=[1.0], noise=0.0, batch_sizes=[1])


def test_steps_to_target_a_risk_exactly_on_the_target_counts():
    """R_2 = 0.5625 R_0 exactly: the target 0.5625 is reached at step 2 (`<=`), not 3."""
    r = steps_to_target(**ONE, lrs=[0.5], targets=[0.5625])
    assert r.steps.tolist() == [[2.0]] and r.lr.tolist() == [[0.5]]


def test_steps_to_target_the_last_step_of_the_budget_counts():
    """0.75^6 < 0.2 < 0.75^5: reached at step 6 with max_steps = 6, never with max_steps = 5."""
    assert steps_to_target(**ONE, lrs=[0.5], targets=[0.2], max_steps=6).steps.tolist() == [[6.0]]
    r = steps_to_target(**ONE, lrs=[0.5], targets=[0.2], max_steps=5)
    assert math.isinf(r.steps[0, 0]) and math.isnan(r.lr[0, 0]) and math.isinf(r.examples[0, 0])


def test_steps_to_target_default_budget_reaches_slow_targets():
    """The default budget (100 000 steps) covers the 2 759 steps that eta = 1e-4 takes to 0.576
    (R_t = r^t R_0, r = 1 - 2e-4 + 3e-8, r^2758 = 0.57604); the result equals an explicit budget."""
    one = torch.ones(1, dtype=f64)
    args = dict(noise=0.0, batch_sizes=[1], lrs=[1e-4], targets=[0.576])
    default = steps_to_target(one, one, **args)
    assert default.steps.tolist() == [[2759.0]]
    rate = 1 - 2e-4 + 3e-8
    assert rate**2758 > 0.576 > rate**2759
    assert torch.equal(steps_to_target(one, one, **args, max_steps=100_000).steps, default.steps)


def test_steps_to_target_grids_in_the_dtype_of_the_eigenvalues():
    """float64 eigenvalues: targets and 1/B are float64 too. A target 1e-9 below R_2 / R_0 =
    0.5625 is first reached at step 3 (in float32 it rounds up to 0.5625, reached at step 2);
    with eta = 1, l = 1, B = 3, R_t = (2/3)^t R_0 and a target 5e-8 above (2/3)^5 is reached at
    step 5 (1/3 in float32 is 3e-8 too large per step: step 6). The grids come back as given."""
    one = torch.ones(1, dtype=f64)
    below = steps_to_target(one, one, noise=0.0, batch_sizes=[1], lrs=[0.5],
                            targets=[0.5625 - 1e-9])  # fmt: skip
    assert below.steps.tolist() == [[3.0]]
    third = (2 / 3) ** 5 * (1 + 5e-8)
    r = steps_to_target(one, one, noise=0.0, batch_sizes=[3], lrs=[1.0], targets=[third])
    assert r.steps.tolist() == [[5.0]] and r.examples.tolist() == [[15.0]]
    assert r.batch_sizes.dtype == r.targets.dtype == r.steps.dtype == r.lr.dtype == f64
    assert r.batch_sizes.tolist() == [3.0] and r.targets.tolist() == [third]


def test_steps_to_target_two_targets_each_settled_once():
    """One batch size, targets 0.5625 and 0.2: settled at 2 and 6. The first must not be
    overwritten later, and the batch size must stay in the loop until both are settled."""
    r = steps_to_target(**ONE, lrs=[0.5], targets=[0.5625, 0.2])
    assert r.steps.tolist() == [[2.0], [6.0]]
    assert r.lr.tolist() == [[0.5], [0.5]]
    assert r.examples.tolist() == [[2.0], [6.0]]


def test_steps_to_target_a_tie_in_steps_goes_to_the_lower_risk():
    """eta = 0.4 (rate 0.68) and eta = 0.3 (rate 0.67) both reach 0.5 at step 2; the lower risk
    wins, 0.3, wherever it sits in the grid; a diverging eta = 1.5 never counts."""
    for lrs in ([0.4, 1.5, 0.3], [0.3, 0.4, 1.5], [1.5, 0.4, 0.3]):
        r = steps_to_target(**ONE, lrs=lrs, targets=[0.5])
        assert r.steps.tolist() == [[2.0]]
        assert r.lr[0, 0].item() == pytest.approx(0.3)


def test_steps_to_target_batch_sizes_leave_the_loop_one_by_one():
    """Three batch sizes settled at different steps: each result equals the first hitting time
    over the grid read off sgd_risk (a batch size dropped from the state must not shift the
    others), with the argmin learning rate."""
    lam = 1.0 / torch.arange(1, 6, dtype=f64)
    bs, lrs, tg = [1, 4, 64], [0.2, 0.9, 1.6], [0.3, 0.05]
    r = steps_to_target(lam, lam, noise=0.05, batch_sizes=bs, lrs=lrs, targets=tg, max_steps=400)
    risk = sgd_risk(lam, lam, noise=0.05, batch_size=bs, lr=lrs, steps=400)
    r0 = float(risk[0, 0, 0])
    assert r.steps.dtype == f64
    for k, t in enumerate(tg):
        for j in range(3):
            hit = [int(torch.nonzero(risk[j, i] <= t * r0)[0]) if bool((risk[j, i] <= t * r0).any())
                   else math.inf for i in range(3)]  # fmt: skip
            assert r.steps[k, j] == min(hit)
            first = [i for i in range(3) if hit[i] == min(hit)]
            best = min(first, key=lambda i: float(risk[j, i, min(hit)]))
            assert r.lr[k, j] == lrs[best]
            assert r.examples[k, j] == min(hit) * bs[j]
    assert len(set(r.steps[1].tolist())) == 3  # settled at three different steps


def test_steps_to_target_float32_init_with_float64_eigenvalues():
    """init in float32 beside float64 eigenvalues is converted, not mixed into a matmul."""
    lam = torch.tensor([1.0, 0.5], dtype=f64)
    a = steps_to_target(lam, torch.ones(2), noise=0.1, batch_sizes=[1], lrs=[0.5], targets=[0.3])
    b = steps_to_target(lam, torch.ones(2, dtype=f64), noise=0.1, batch_sizes=[1], lrs=[0.5],
                        targets=[0.3])  # fmt: skip
    assert torch.equal(a.steps, b.steps)


def test_steps_to_target_errors_name_the_argument_from_their_start():
    """A target of exactly 1 is refused (`> 1` would pass it); each message starts with the name."""
    cases = [
        (
            dict(targets=[0.5, 1.0]),
            ValueError,
            r"^targets must be fractions in \(0, 1\), got \[0\.5",
        ),
        (dict(targets=[0.0]), ValueError, r"^targets must be > 0, got 0\.0$"),
        (dict(targets=[]), TypeError, r"^targets must be a number or a non-empty sequence"),
        (dict(lrs=[-0.1]), ValueError, r"^lrs must be > 0, got -0\.1$"),
        (dict(batch_sizes=[0]), ValueError, r"^batch_sizes must be >= 1, got 0$"),
        (dict(eigenvalues=[0.0]), ValueError, r"^eigenvalues must be > 0$"),
        (dict(init=[-1.0]), ValueError, r"^init must be >= 0"),
    ]
    for kwargs, err, match in cases:
        with pytest.raises(err, match=match):
            steps_to_target(**{**ONE, "lrs": [0.5], "targets": [0.5], **kwargs})
    ok = steps_to_target(**ONE, lrs=[0.5], targets=[0.5], max_steps=1)
    assert math.isinf(ok.steps[0, 0])  # 0.75 > 0.5 after the one step allowed


# ---------------------------------------------------------------- fit_critical_batch


def _residuals(b, s, s_min, b_crit):
    return [
        math.log(si) - math.log(s_min) - math.log1p(b_crit / bi)
        for bi, si in zip(b, s, strict=True)
    ]


def test_fit_critical_batch_rms_and_s_min_by_hand_with_an_unreached_point():
    """Noisy steps and one inf: rms is the root-mean-square of the residuals over the 5 finite
    points (not 6), s_min the exponential of their mean residual, e_min = s_min b_crit, and
    b_crit a minimum of the loss (moving it either way by 1e-3 does not lower it)."""
    b = [1, 2, 4, 8, 16, 32]
    s = [7.0, 4.125, 2.875, 2.625, 2.25, math.inf]  # exact in float32, as lists are read
    f = fit_critical_batch(b, s)
    res = _residuals(b[:5], s[:5], f.s_min, f.b_crit)
    assert abs(sum(res)) < 1e-12  # s_min is the best one for this b_crit
    assert f.rms_log_error == pytest.approx(math.sqrt(sum(x * x for x in res) / 5), rel=1e-12)
    assert f.e_min == pytest.approx(f.s_min * f.b_crit, rel=1e-15)

    def loss(c):
        r = [math.log(si) - math.log1p(c / bi) for bi, si in zip(b[:5], s[:5], strict=True)]
        mean = sum(r) / 5
        return sum((x - mean) ** 2 for x in r)

    assert loss(f.b_crit) <= min(loss(f.b_crit * 1.001), loss(f.b_crit / 1.001))
    assert 2 < f.b_crit < 3


def test_fit_critical_batch_exactly_three_finite_points():
    """Three finite points are enough (the minimum): an exact hyperbola through them is found,
    also one whose steps go down to 1 (steps in (0, 1] are allowed: > 0 is the rule)."""
    f = fit_critical_batch([1, 2, 4, 8], [25.0, 15.0, 10.0, math.inf])
    assert f.b_crit == pytest.approx(4.0, rel=1e-4) and f.s_min == pytest.approx(5.0, rel=1e-4)
    g = fit_critical_batch([1, 3, 9], [0.5 * (1 + 1 / 1), 0.5 * (1 + 1 / 3), 0.5 * (1 + 1 / 9)])
    assert g.b_crit == pytest.approx(1.0, rel=1e-4) and g.s_min == pytest.approx(0.5, rel=1e-4)
    with pytest.raises(ValueError, match=r"^steps must have at least 3 finite values, got 2$"):
        fit_critical_batch([1, 2, 4], [25.0, 15.0, math.inf])


def test_fit_critical_batch_search_range_ends():
    """The search is within [1e-3 min B, 1e3 max B]: a true b_crit of 1e-5 is found at the lower
    end 1e-3 (min B = 1) and one of 8e5 at the upper end 8e3 (max B = 8)."""
    b = [1, 2, 4, 8]
    low = fit_critical_batch(b, [5 * (1 + 1e-5 / x) for x in b])
    assert low.b_crit == pytest.approx(1e-3, rel=1e-4)
    high = fit_critical_batch(b, [5 * (1 + 8e5 / x) for x in b])
    assert high.b_crit == pytest.approx(8e3, rel=1e-4)
    mid = fit_critical_batch([3, 6, 12], [5 * (1 + 30 / x) for x in (3, 6, 12)])
    assert mid.b_crit == pytest.approx(30, rel=1e-4)


def test_fit_critical_batch_float32_input_is_fitted_in_float64():
    """The same numbers in float32 and float64 give the same fit (the arithmetic is float64)."""
    b, s = [1, 2, 4, 8, 16], [7.0, 4.1, 2.9, 2.6, 2.2]  # not exact in float32: rounded once
    f32 = fit_critical_batch(torch.tensor(b, dtype=torch.float32), torch.tensor(s))
    f64_ = fit_critical_batch(
        torch.tensor(b, dtype=f64), torch.tensor(s, dtype=torch.float32).to(f64)
    )
    for a, c in zip(f32, f64_, strict=True):
        assert a == pytest.approx(c, rel=1e-12)


def test_fit_critical_batch_errors_name_the_argument_from_their_start():
    """Zero is not > 0 (for batch sizes and steps); NaN and a length mismatch are named."""
    b = [1, 2, 4]
    cases = [
        (b, [1.0, 2.0], r"^steps must have length 3 to match the inputs, got 2$"),
        (b, [1.0, math.nan, 3.0], r"^steps must not be NaN \(use inf"),
        ([0, 2, 4], [1.0, 2.0, 3.0], r"^batch_sizes and steps must be > 0$"),
        (b, [1.0, 0.0, 3.0], r"^batch_sizes and steps must be > 0$"),
        (b, [1.0, math.inf, math.inf], r"^steps must have at least 3 finite values, got 1$"),
    ]
    for bs, st, match in cases:
        with pytest.raises(ValueError, match=match):
            fit_critical_batch(bs, st)
