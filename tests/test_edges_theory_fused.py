"""Edges of the fused kernel recursion (``dlt.theory._fused``, ``method="fused"``): its own
argument checks, the caller's ``out`` tensors, the tiling's promise, and correlations that
round past +-1."""

import math

import pytest
import torch

from dlt.theory import _fused as fused
from dlt.theory.kernels import nngp_ntk

D = torch.float64
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Scalars and masks are cached across calls: start each test with empty caches, so a
    test sees the tensors the code makes now (a wrong dtype in ``_scalar`` shows at once)."""
    fused._scalar.cache_clear()
    fused._upper.cache_clear()
    yield


def call(x1, x2=None, depth=1, sigma_w=1.0, sigma_b=0.0, activation="relu", **kw):
    return fused.fused_kernels(x1, x2, depth, sigma_w, sigma_b, activation, with_ntk=True, **kw)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"x1": torch.ones(3)}, ValueError, r"^x1 must have shape \(n, d\), got shape \(3,\)$"),
        ({"x2": torch.ones(2, 2, 2)}, ValueError, r"^x2 must have shape \(n, d\), got shape \(2, 2, 2\)$"),
        ({"x2": torch.ones(2, 3)}, ValueError,
         r"^x1 and x2 must have the same number of features, got x1 with 2 and x2 with 3$"),
        ({"depth": -1}, ValueError, r"^depth must be >= 0, got -1$"),
        ({"depth": 1.5}, TypeError, r"^depth must be an integer, got 1.5$"),
        ({"sigma_w": 0.0}, ValueError, r"^sigma_w must be > 0, got 0.0$"),
        ({"sigma_b": -0.5}, ValueError, r"^sigma_b must be >= 0, got -0.5$"),
        ({"activation": "tanh"}, ValueError, r"^activation must be one of \['erf', 'identity', 'relu'\] for a closed-form kernel"),
    ],
)  # fmt: skip
def test_the_fast_path_checks_its_own_arguments(kwargs, error, message):
    """``fused_kernels`` is documented to validate its arguments itself (it is also reached
    without the public declarations): each bad argument is named from the message's start,
    so a check dropped, a bound moved (``depth >= 1``, or none) or a mangled name fails."""
    args = {"x1": torch.ones(4, 2, dtype=D), **kwargs}
    with pytest.raises(error, match=message):
        call(**args)


def test_depth_zero_and_a_float_depth_are_accepted():
    """``depth`` 0 is the linear kernel (the lower bound is 0, not 1), and an integral float
    is an integer."""
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=D)
    k, t = call(x, None, 0, 1.5, 0.5)
    want = 1.5**2 * x @ x.T / 2 + 0.25
    assert torch.allclose(k, want, rtol=1e-15) and torch.equal(k, t)
    assert torch.equal(call(x, None, 2.0)[1], call(x, None, 2)[1])


def test_a_nan_reaching_the_fast_path_is_not_checked_a_second_time():
    """Finiteness is checked once, by the public declarations; the private path takes what it
    is given (finite=False): a NaN input makes its own row and column NaN and nothing else."""
    x = torch.tensor([[1.0, 2.0], [math.nan, 0.0], [3.0, -1.0]], dtype=D)
    x2 = torch.tensor([[0.5, 0.5], [math.nan, 1.0]], dtype=D)
    k, t = call(x, x2, 2, 1.2, 0.1)
    bad = torch.zeros(3, 2, dtype=torch.bool)
    bad[1, :] = True
    bad[:, 1] = True
    assert torch.isnan(t[bad]).all() and torch.isfinite(t[~bad]).all()
    k, t = call(x, None, 1)
    assert torch.isnan(k[1]).all() and torch.isfinite(k[[0, 2]][:, [0, 2]]).all()


def _out(n1, n2):
    return torch.empty(n1, n2, dtype=D), torch.empty(n1, n2, dtype=D)


def test_out_errors_name_what_is_wrong_from_the_first_word():
    """Each wrong ``out`` gets its own message naming the pair or the element; rejects a
    mangled name or a message without the expected description."""
    x = torch.ones(4, 3, dtype=D)
    good = torch.empty(4, 4, dtype=D)
    want = r"a pair of contiguous float64 tensors of shape \(4, 4\) on cpu"
    with pytest.raises(TypeError, match=rf"^out must be {want}, got Tensor$"):
        call(x, out=good)
    with pytest.raises(TypeError, match=rf"^out must be {want}, got tuple$"):
        call(x, out=(good, torch.empty(4, 4, dtype=D), torch.empty(4, 4, dtype=D)))
    with pytest.raises(TypeError, match=r"^out\[1\] must be a tensor, got str$"):
        call(x, out=(good, "no"))
    with pytest.raises(TypeError, match=r"^out\[0\] must be a tensor, got NoneType$"):
        call(x, out=[None, good])
    with pytest.raises(ValueError, match=rf"^out must be {want}, got out\[0\] of shape \(4, 5\), torch.float64 on cpu$"):  # fmt: skip
        call(x, out=(torch.empty(4, 5, dtype=D), good))
    with pytest.raises(ValueError, match=rf"^out must be {want}, got out\[1\] of shape \(4, 4\), torch.float32 on cpu$"):  # fmt: skip
        call(x, out=(good, torch.empty(4, 4)))
    with pytest.raises(ValueError, match=r"^out\[1\] must be contiguous$"):
        call(x, out=(good, torch.empty(4, 4, dtype=D).T))
    with pytest.raises(ValueError, match=r"^out\[0\] and out\[1\] must not share memory with each other or the inputs$"):  # fmt: skip
        call(x, out=(good, good))


def test_out_may_touch_but_not_overlap_its_neighbours():
    """Outputs that end exactly where the next begins share no memory and are accepted; an
    output that overlaps only the last two numbers of an input is refused. Rejects a
    comparison ``<=`` for ``<`` at the boundary, and a range measured in elements instead
    of bytes (which would miss the overlap)."""
    x = torch.randn(4, 3, dtype=D)
    want = call(x)
    storage = torch.empty(32, dtype=D)
    out = (storage[:16].view(4, 4), storage[16:].view(4, 4))
    got = call(x, out=out)
    assert got[0] is out[0] and got[1] is out[1]
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
    storage = torch.empty(12 + 14 + 16, dtype=D)
    inputs = storage[:12].view(4, 3)
    inputs.copy_(x)
    with pytest.raises(ValueError, match="must not share memory"):
        call(inputs, out=(storage[10:26].view(4, 4), storage[26:].view(4, 4)))


@pytest.mark.parametrize(
    "n1, n2, symmetric, block",
    [(10, 7, False, 8), (10, 7, False, 7), (9, 4, False, 100), (5, 3, False, 1),
     (7, 7, True, 1), (7, 7, True, 3), (10, 10, True, 9), (10, 10, True, 17), (3, 3, True, 100)],
)  # fmt: skip
def test_tiles_cover_every_pair_once_within_the_block(n1, n2, symmetric, block, monkeypatch):
    """The tiles (with their mirror images when symmetric) cover each pair of the kernel
    matrix exactly once, and none holds more than ``_BLOCK`` pairs per CPU thread (a row of
    ``n2`` pairs when a row is longer than that). Rejects a tile dropped or counted twice
    (the diagonal ones when symmetric), a first row or column skipped, tiles larger than the
    cache budget, and the GPU's tile size used on the CPU."""
    monkeypatch.setattr(fused, "_BLOCK", block)
    monkeypatch.setattr(fused, "_BLOCK_GPU", 10**9)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tiles = fused._tiles(n1, n2, symmetric, CPU)
    finally:
        torch.set_num_threads(threads)
    count = torch.zeros(n1, n2, dtype=torch.int64)
    for i, i1, j, j1 in tiles:
        assert 0 <= i < i1 <= n1 and 0 <= j < j1 <= n2
        assert (i1 - i) * (j1 - j) <= max(block, n2 if not symmetric else 1)
        count[i:i1, j:j1] += 1
        if symmetric and i != j:
            assert j > i  # above the diagonal, mirrored below it
            count[j:j1, i:i1] += 1
    assert torch.equal(count, torch.ones_like(count))


def test_tiles_follow_the_thread_count_on_the_cpu(monkeypatch):
    """A tile holds ``_BLOCK`` pairs per thread: with two threads, twice the rows."""
    monkeypatch.setattr(fused, "_BLOCK", 10)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = fused._tiles(40, 5, False, CPU)
        torch.set_num_threads(2)
        two = fused._tiles(40, 5, False, CPU)
    finally:
        torch.set_num_threads(threads)
    assert [t[1] - t[0] for t in one] == [2] * 20
    assert [t[1] - t[0] for t in two] == [4] * 10


def _by_hand_one_layer(x1, x2, activation):
    """One hidden layer, sigma_w = 1, sigma_b = 0, from the closed forms on floats."""
    k, t = torch.empty(len(x1), len(x2), dtype=D), torch.empty(len(x1), len(x2), dtype=D)
    for i, u in enumerate(x1.tolist()):
        for j, v in enumerate(x2.tolist()):
            d = len(u)
            k11, k22 = sum(a * a for a in u) / d, sum(b * b for b in v) / d
            k12 = sum(a * b for a, b in zip(u, v, strict=True)) / d
            if activation == "relu":
                c = max(-1.0, min(1.0, k12 / math.sqrt(k11 * k22)))
                th = math.acos(c)
                e = math.sqrt(k11 * k22) / (2 * math.pi) * (math.sin(th) + (math.pi - th) * c)
                dd = (math.pi - th) / (2 * math.pi)
            else:
                a1, a2 = 1 + 2 * k11, 1 + 2 * k22
                c = max(-1.0, min(1.0, 2 * k12 / math.sqrt(a1 * a2)))
                e = 2 / math.pi * math.asin(c)
                dd = 4 / math.pi / math.sqrt(max(a1 * a2 - 4 * k12 * k12, 1e-300))
            k[i, j], t[i, j] = e, e + dd * k12
    return k, t


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_correlations_that_round_past_one_are_clamped(activation):
    """Parallel and antiparallel inputs of large norms (found by search) have a correlation
    that rounds to 1 + 2e-16 or -1 - 2e-16 in the fused recursion: without the
    clamp to [-1, 1], arccos and arcsin return NaN. The kernels must be finite and equal
    the closed forms at c = +-1 (the erf NTK only finite: there its derivative term
    ``(1 - c^2)^(-1/2)`` is as ill-conditioned in the closed form as in the recursion)."""
    u = torch.tensor([1.0, 0.3, -0.7], dtype=D)
    v = torch.tensor([-0.7830641027703554, 1.0621710284337496, -0.2613142149611394], dtype=D)
    x1 = torch.stack([1e9 * u, 1e6 * u, 1e11 * v])  # c = +-(1 + 4e-16) for erf with 3e11 v
    x2 = torch.stack([1e9 * u, -1e9 * u, 2.5e6 * u, -2.5e6 * u, 3e11 * v, -3e11 * v])
    got = nngp_ntk(x1, x2, 1, 1.0, 0.0, activation=activation)
    want = _by_hand_one_layer(x1, x2, activation)
    for g, w in zip(got, want, strict=True):
        assert torch.isfinite(g).all()
        if activation == "relu" or g is got.nngp:
            assert torch.allclose(g, w, rtol=1e-7, atol=1e-9 * float(w.abs().max()))


def test_float32_inputs_are_computed_in_float64():
    """Both inputs go to float64 before the first product: float32 ``x1`` and ``x2`` give the
    float64 kernels of their float64 copies, to the bit (float32 kept in either input fails,
    as a float32 result or a product of mixed dtypes)."""
    g = torch.Generator().manual_seed(2)
    x1, x2 = torch.randn(5, 3, generator=g), torch.randn(4, 3, generator=g)
    for args in ((x1, None), (x1, x2)):
        got = call(*args, depth=2, sigma_w=1.2, sigma_b=0.3)
        want = call(*(None if a is None else a.double() for a in args), 2, 1.2, 0.3)
        for a, b in zip(got, want, strict=True):
            assert a.dtype == D and torch.equal(a, b)


def test_nngp_alone_is_returned_twice():
    """``with_ntk=False`` returns the NNGP kernel as both tensors (documented: the second
    is then the same one), equal to the NNGP computed beside the NTK."""
    x = torch.randn(6, 3, dtype=D)
    for x2 in (None, torch.randn(4, 3, dtype=D)):
        k, t = fused.fused_kernels(x, x2, 2, 1.1, 0.2, "erf", with_ntk=False)
        assert t is k
        assert torch.equal(k, fused.fused_kernels(x, x2, 2, 1.1, 0.2, "erf", with_ntk=True)[0])
