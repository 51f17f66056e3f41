"""Kernels at the speed limit: dlt's empirical and analytic kernels against their previous paths
and against neural-tangents, medians of several repeats, both sides in one run.

Empirical NTK (float32, 100 inputs): a 3 x 512 ReLU MLP (dlt.nets.MLP, and the same network as
an nn.Sequential), a CNN (two 3x3 convolutions of 32 channels on 16x16x3 images, average
pooling, a dense readout) and a transformer block (16 tokens of width 64, 4 heads, MLP
64-256-64, parameter-free layer norms); each by the structured method, the Jacobian method
(vmap of jacrev) and a per-sample autograd loop. Analytic NNGP + NTK (depth 5 ReLU, float64,
2000 inputs): the fused recursion against the previous layer-by-layer one.

neural-tangents rows need its own environment (it pins old jax):

    python3.11 -m venv .nt-venv
    .nt-venv/bin/pip install "jax[cpu]==0.4.25" "numpy<2" "frozendict>=2.3.8"
    .nt-venv/bin/pip install neural-tangents==0.6.5 --no-deps

then ``.venv/bin/python benchmarks/kernels_speed.py --nt-python .nt-venv/bin/python``;
without ``--nt-python`` those rows are skipped. Both sides use every core (PyTorch's and
XLA's default thread counts); the fused analytic kernels are also timed on one thread. Times
are medians of wall-clock and of process CPU time. The two libraries take turns: for each
case, ``--rounds`` times, neural-tangents' median of ``--repeats`` calls (in its own process,
compiled once) and then dlt's, so that each round's ratio compares the two under the same
load of this shared machine; the table gives the medians over rounds and every round's ratio.
The bound column is the time the FLOPs or the memory traffic need at this machine's limits,
measured at the start of the run (a large float32 matrix product, a write of 64 MB;
``--gflops`` and ``--gbs`` override them), and the analytic kernels are also set against the
time of their arccos alone.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from dlt.kernels import nngp_ntk, textbook_kernels
from dlt.measure.ntk import _featurizer
from dlt.nets import MLP
from dlt.ntk import empirical_ntk


def median(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def loop_ntk(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """One backward pass per sample, Jacobian rows stacked, then J J^T (one output)."""
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(x.shape[0]):
        grads = torch.autograd.grad(model(x[i : i + 1]).sum(), params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    j = torch.stack(rows)
    return j @ j.T


def previous_recursion(x: torch.Tensor, depth: int, sigma_w: float, sigma_b: float):
    """The layer-by-layer recursion dlt used before the fused one: now its reference path
    (``method="reference"``, whole matrices, one expectation call per layer)."""
    return textbook_kernels(x, None, depth, sigma_w, sigma_b)


class Block(nn.Module):
    """Pre-norm transformer block from nn.Linear layers, mean-pooled to one output."""

    def __init__(self, d: int = 64, heads: int = 4, hidden: int = 256) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d))
        self.norm = nn.LayerNorm(d, elementwise_affine=False)
        self.head = nn.Linear(d, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        h = self.norm(x)
        q, k, v = (
            m(h).reshape(n, t, self.heads, -1).transpose(1, 2) for m in (self.q, self.k, self.v)
        )
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(n, t, d))
        x = x + self.mlp(self.norm(x))
        return self.head(x.mean(1))


def cases() -> dict[str, tuple[nn.Module, torch.Tensor, float]]:
    """name -> (model, inputs, FLOPs of the structured contraction plus one forward and backward)."""
    torch.manual_seed(0)
    n = 100
    out = {}
    mlp = MLP([10, 512, 512, 512, 1], sigma_b=0.1, seed=0)
    seq = nn.Sequential(
        nn.Linear(10, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
        nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 1),
    )  # fmt: skip
    # Forward + backward: 2 * 2 * n * P; the Gram contraction: 2 n^2 (fan_in + fan_out) per layer.
    p = sum(q.numel() for q in seq.parameters())
    flops = 4 * n * p + 2 * n * n * sum(
        m.in_features + m.out_features + 1 for m in seq if isinstance(m, nn.Linear)
    )
    x = torch.randn(n, 10)
    out["MLP 3x512 (dlt.nets.MLP)"] = (mlp, x, flops)
    out["MLP 3x512 (nn.Sequential)"] = (seq, x, flops)
    cnn = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(32 * 8 * 8, 1),
    )  # fmt: skip
    # Per-sample gradients sum_s delta_s a_s^T (2 n S O F) and their Gram (2 n^2 O F) per conv.
    s = 16 * 16
    conv = sum(2 * n * s * o * f + 2 * n * n * o * f for o, f in ((32, 28), (32, 289)))
    flops = 4 * n * s * (32 * 27 + 32 * 288) + conv + 2 * n * n * (2048 + 2)
    out["CNN 2 conv 3x3x32, 16x16x3"] = (cnn, torch.randn(n, 3, 16, 16), flops)
    blk = Block()
    t, d, h = 16, 64, 256
    p = sum(q.numel() for q in blk.parameters())
    lin = [(d, d + 1)] * 4 + [(h, d + 1), (d, h + 1)]
    flops = 4 * n * t * p + sum(2 * n * t * o * f + 2 * n * n * o * f for o, f in lin)
    out["Transformer block, 16 tokens x 64"] = (blk, torch.randn(n, t, d), flops)
    return out


class NeuralTangents:
    """neural-tangents' side, in its own environment and process, measured on request.

    The process compiles every case once (``nt_side.py --serve``), then answers
    ``CASE REPEATS`` with the medians of that many calls, so the two libraries can take turns.
    """

    def __init__(self, python: str, repeats: int, n_analytic: int) -> None:
        script = Path(__file__).with_name("nt_side.py")
        cmd = [python, str(script), "--serve", "--repeats", str(repeats)]
        cmd += ["--n-analytic", str(n_analytic)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read()  # {"ready": [...]} once everything is compiled

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(
                "the neural-tangents process ended; run nt_side.py by hand to see why"
            )
        return json.loads(line)

    def measure(self, case: str, repeats: int) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{case} {repeats}\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


class Turns(NamedTuple):
    """Both libraries' medians over rounds of alternating turns, and the per-round ratios."""

    wall: float
    cpu: float
    nt_wall: float | None
    nt_cpu: float | None
    ratios: list[float]
    implementation: int | None


def turns(
    fn: Callable[[], object], nt: NeuralTangents | None, case: str, repeats: int, rounds: int
) -> Turns:
    """``rounds`` times: neural-tangents' median of ``repeats`` calls, then dlt's; the ratio of
    each round is taken within the round, so a slow drift of this shared machine cancels."""
    ours, theirs = [], []
    for _ in range(rounds):
        if nt is not None:
            theirs.append(nt.measure(case, repeats))
        ours.append(median(fn, repeats))
    wall = statistics.median(w for w, _ in ours)
    cpu = statistics.median(c for _, c in ours)
    if not theirs:
        return Turns(wall, cpu, None, None, [], None)
    ratios = [o[0] / t["wall"] for o, t in zip(ours, theirs, strict=True)]
    return Turns(
        wall,
        cpu,
        statistics.median(t["wall"] for t in theirs),
        statistics.median(t["cpu"] for t in theirs),
        ratios,
        theirs[0]["implementation"],
    )


def ratio_line(name: str, t: Turns) -> str:
    spread = ", ".join(f"{q:.3f}" for q in t.ratios)
    return f"  {name:34s} {statistics.median(t.ratios):9.3f}   rounds: {spread}"


def best(fn: Callable[[], object], repeats: int = 9) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def peaks() -> dict[str, float]:
    """The machine's limits, measured: float32 matrix-product rate, write bandwidth, arccos.

    GFLOP/s of a 2048^3 float32 product (the best this BLAS does on this CPU), GB/s of
    writing 64 MB that is already mapped, and ns per element of float64 ``torch.arccos`` on
    a tile in cache, each at the current thread count.
    """
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    gflops = 2 * 2048**3 / best(lambda: a @ b, 5) / 1e9
    big = torch.empty(2, 2000, 2000, dtype=torch.float64)
    big.fill_(0.0)
    gbs = big.numel() * 8 / best(lambda: big.fill_(1.0)) / 1e9
    c = torch.rand(128, 128, dtype=torch.float64) * 2 - 1
    out = torch.empty_like(c)
    acos = best(lambda: [torch.arccos(c, out=out) for _ in range(20)]) / 20 / c.numel() * 1e9
    return {"gflops": gflops, "gbs": gbs, "acos_ns": acos}


def row(name: str, wall: float, cpu: float, bound: float | None, ref: float | None) -> str:
    b = f"{bound * 1e3:9.1f} {wall / bound:7.1f}x" if bound else " " * 18
    r = f"{ref / wall:8.1f}x" if ref else ""
    return f"  {name:34s} {wall * 1e3:9.1f} {cpu * 1e3:9.1f} {b} {r}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="calls per median")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each library per case")
    parser.add_argument("--nt-python", default=None, help="python of a neural-tangents environment")
    parser.add_argument("--n-analytic", type=int, default=2000)
    parser.add_argument("--gflops", type=float, default=None, help="float32 GFLOP/s (measured)")
    parser.add_argument("--gbs", type=float, default=None, help="write bandwidth GB/s (measured)")
    parser.add_argument("--skip-loop", action="store_true", help="skip the per-sample loops")
    args = parser.parse_args()
    r = args.repeats
    nt = NeuralTangents(args.nt_python, r, args.n_analytic) if args.nt_python else None
    threads = torch.get_num_threads()
    peak = peaks()
    args.gflops = args.gflops or peak["gflops"]
    args.gbs = args.gbs or peak["gbs"]
    print(
        f"torch {torch.__version__}, {threads} thread(s); medians of {r} calls, "
        f"then the median over {args.rounds} rounds of alternating turns"
    )
    print(
        f"limits at {threads} thread(s), measured: float32 products {peak['gflops']:.0f} GFLOP/s, "
        f"writes {peak['gbs']:.1f} GB/s, float64 arccos {peak['acos_ns']:.2f} ns per element"
    )
    print(
        f"  {'case / method':34s} {'wall ms':>9s} {'cpu ms':>9s} {'bound ms':>9s} {'/bound':>8s} {'speed-up':>9s}"
    )
    try:
        analytic(args, nt, peak, threads)
        empirical(args, nt)
    finally:
        if nt is not None:
            nt.close()
    sys.stdout.flush()


def empirical(args: argparse.Namespace, nt: NeuralTangents | None) -> None:
    """The empirical NTK of the three networks: structured, Jacobian, neural-tangents."""
    r = args.repeats
    for name, (model, x, flops) in cases().items():
        print(name)
        bound = flops / (args.gflops * 1e9)
        key = {"MLP": "mlp", "CNN": "cnn", "Tra": "transformer"}[name[:3]]
        s = turns(
            lambda m=model, x=x: empirical_ntk(m, x, method="structured"), nt, key, r, args.rounds
        )
        j = median(lambda m=model, x=x: empirical_ntk(m, x, method="jacobian"), r)
        # The part no empirical NTK can skip: one forward pass and one backward pass.
        feats = _featurizer(model)
        assert feats is not None
        fb = median(lambda f=feats, x=x: f(x), r)
        print(row("structured", s.wall, s.cpu, bound, j[0]))
        print(row("  of which forward + backward", *fb, None, None))
        print(row("jacobian (vmap + jacrev)", *j, None, None))
        if not args.skip_loop:
            lo = median(lambda m=model, x=x: loop_ntk(m, x), max(1, r // 2))
            print(row("per-sample loop", *lo, None, None))
        if s.nt_wall is not None and s.nt_cpu is not None:
            impl = f"neural-tangents (impl. {s.implementation})"
            print(row(impl, s.nt_wall, s.nt_cpu, None, None))
            print(ratio_line("structured / neural-tangents", s))
            if key == "mlp" and nt is not None:  # what neural-tangents does by default
                d = nt.measure("mlp-default", r)
                print(row("neural-tangents, vmap_axes=None", d["wall"], d["cpu"], None, None))
        diff = empirical_ntk(model, x, method="structured") - empirical_ntk(
            model, x, method="jacobian"
        )
        print(
            f"  {'rel. difference structured/jacobian':34s} {float(diff.norm() / loop_ntk(model, x).norm()):9.1e}"
        )


def analytic(
    args: argparse.Namespace, nt: NeuralTangents | None, peak: dict[str, float], threads: int
) -> None:
    """The analytic NNGP + NTK: fused (all threads, one thread), previous, neural-tangents."""
    r = args.repeats
    n = args.n_analytic
    x = torch.randn(n, 10, dtype=torch.float64)
    print(f"Analytic NNGP + NTK, depth 5 ReLU, {n} inputs, float64")
    # Memory bound: write the two n x n outputs once (the tiles stay in cache).
    bound = 2 * n * n * 8 / (args.gbs * 1e9)
    # The arccos alone: one per pair and layer, on the n(n+1)/2 pairs of the symmetric case.
    acos = 5 * n * (n + 1) / 2 * peak["acos_ns"] * 1e-9

    def one_thread() -> object:
        torch.set_num_threads(1)
        try:
            return nngp_ntk(x, depth=5, sigma_w=1.4, sigma_b=0.1)
        finally:
            torch.set_num_threads(threads)

    f = turns(
        lambda: nngp_ntk(x, depth=5, sigma_w=1.4, sigma_b=0.1), nt, "analytic", r, args.rounds
    )
    f1 = turns(one_thread, nt, "analytic", r, args.rounds)
    p = median(lambda: previous_recursion(x, 5, 1.4, 0.1), r)
    # The same into outputs written before (out=): no page faults on first writes.
    reused = (torch.zeros(n, n, dtype=torch.float64), torch.zeros(n, n, dtype=torch.float64))
    o = median(lambda: nngp_ntk(x, depth=5, sigma_w=1.4, sigma_b=0.1, out=reused), r)
    print(row("fused (dlt.kernels.nngp_ntk)", f.wall, f.cpu, bound, p[0]))
    print(row("fused, one thread", f1.wall, f1.cpu, bound, p[0]))
    print(row("fused, into reused outputs (out=)", *o, bound, p[0]))
    print(row("previous recursion (method='reference')", *p, bound, None))
    print(
        f"  {'arccos alone (floor), ms':34s} {acos * 1e3:9.1f}   fused / that {f.wall / acos:6.1f}"
    )
    if f.nt_wall is not None and f.nt_cpu is not None:
        print(row("neural-tangents kernel_fn (jit)", f.nt_wall, f.nt_cpu, bound, None))
        print(ratio_line("fused / neural-tangents", f))
        print(ratio_line("fused one thread / neural-tangents", f1))
    k, t = nngp_ntk(x, depth=5, sigma_w=1.4, sigma_b=0.1)
    k0, t0 = previous_recursion(x, 5, 1.4, 0.1)
    off = ~torch.eye(n, dtype=torch.bool)
    err = float((t - t0)[off].abs().max() / t0.abs().max())
    print(f"  {'max rel. difference off the diagonal':34s} {err:9.1e}")


if __name__ == "__main__":
    main()
