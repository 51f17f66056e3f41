"""Train the small transformers of the chapter "Length and compositional generalization" in the
configurations it does not run, over several seeds, on CPU, and write their accuracy by test length.

Copy task (``copy_task``, 32 symbols, trained on lengths 1..L, L = 8) with the chapter's recipe
(two layers, width 64, four heads; fresh batches of 32 of one length per step; AdamW at rate
2e-3, betas (0.9, 0.98), gradients clipped at norm 1, 200 warm-up steps and cosine decay), for
every positional scheme of ``CausalTransformer`` (learned absolute, sinusoidal, ALiBi, none and
the learned relative bias over offsets clipped at R = 2), the relative bias at width 32 with two
heads, and a wider relative window (R = 8). Addition (``addition_task``, operands of 1..3 digits, 2000 steps)
in the plain and reversed output formats, same recipe with learned absolute positions. Each run
is one seed (the seed of the initialization and of the batches), tested on 256 fresh sequences
per test length, teacher-forced (exact match = greedy decoding right). Deterministic on one CPU
thread, so the numbers reproduce.

    .venv/bin/python benchmarks/length_generalization_runs.py [--seeds 0 1 2] [--only NAME ...]
        [--out benchmarks/length_generalization_runs.md]

Chapter 18 trains the same configurations at ``SCALE = 2`` (Experiment 4: the schemes as the
members of one batched model, on shared batches) and checks them; this script trains each as
a separate model with its own batches, a replication whose tables the chapter compares with
(``benchmarks/length_generalization_runs.md``).
"""

from __future__ import annotations

import argparse
import math
import platform
import shlex
import sys
import time
from dataclasses import dataclass

import torch

from dlt.length_generalization import (
    CausalTransformer,
    FreshBatchLoss,
    addition_task,
    copy_task,
    sequence_accuracy,
)
from dlt.train import fit


class ClippedAdamW(torch.optim.AdamW):
    """AdamW that clips the gradient norm at 1 before each step (the chapter's optimizer)."""

    def step(self, closure=None):  # type: ignore[no-untyped-def, override]
        params = [p for group in self.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        return super().step(closure)


def warmup_cosine(steps: int, warm: int = 200):  # type: ignore[no-untyped-def]
    return lambda t: (
        min(1.0, (t + 1) / warm) * 0.5 * (1 + math.cos(math.pi * max(0, t - warm) / (steps - warm)))
    )


@dataclass(frozen=True)
class Run:
    name: str
    task: str  # "copy", "plain" or "reversed"
    positional: str
    d_model: int = 64
    n_heads: int = 4
    window: int = 2
    steps: int = 1500
    train_max: int = 8
    test_lengths: tuple[int, ...] = (8, 10, 12, 16)


RUNS = [
    Run("relative R=2", "copy", "relative"),
    Run("absolute", "copy", "absolute"),
    Run("sinusoidal", "copy", "sinusoidal"),
    Run("alibi", "copy", "alibi"),
    Run("none (NoPE)", "copy", "none"),
    Run("relative R=2, width 32", "copy", "relative", d_model=32, n_heads=2),
    Run("relative R=8", "copy", "relative", window=8),
    Run("addition plain", "plain", "absolute", steps=2000, train_max=3, test_lengths=(2, 3, 4, 5)),
    Run(
        "addition reversed",
        "reversed",
        "absolute",
        steps=2000,
        train_max=3,
        test_lengths=(2, 3, 4, 5),
    ),
]


def make_task(run: Run):  # type: ignore[no-untyped-def]
    if run.task == "copy":
        return copy_task
    fmt = run.task
    return lambda n, k, **kw: addition_task(n, k, output_format=fmt, **kw)


def train_and_test(run: Run, seed: int) -> dict[int, tuple[float, float]]:
    task = make_task(run)
    net = CausalTransformer(
        35 if run.task == "copy" else 14,
        d_model=run.d_model,
        n_heads=run.n_heads,
        n_layers=2,
        positional=run.positional,
        window=run.window,
        max_len=64,
        seed=seed,
    )
    fit(
        net,
        torch.zeros(1, 1),
        torch.zeros(1),
        loss=FreshBatchLoss(task, 32, 1, run.train_max, seed=seed),
        optimizer=lambda p: ClippedAdamW(p, lr=2e-3, betas=(0.9, 0.98)),
        lr=2e-3,
        steps=run.steps,
        record_every=run.steps,
        lr_schedule=warmup_cosine(run.steps),
    )
    out = {}
    for k in run.test_lengths:
        test = task(256, k, seed=999)
        acc = sequence_accuracy(net, test.tokens, test.targets)
        out[k] = (float(acc.exact[0]), float(acc.token[0]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", default=None, help="names of runs (default: all)")
    parser.add_argument("--out", default="benchmarks/length_generalization_runs.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    runs = [r for r in RUNS if args.only is None or r.name in args.only]
    start = time.process_time()
    lines: list[str] = []
    for run in runs:
        t0 = time.process_time()
        res = {s: train_and_test(run, s) for s in args.seeds}
        cpu = time.process_time() - t0
        ks = run.test_lengths
        lines += [
            "",
            f"### {run.name}",
            "",
            f"{run.task} task, positional {run.positional!r}, width {run.d_model}, "
            f"{run.n_heads} heads, window {run.window}, {run.steps} steps, trained on lengths "
            f"1..{run.train_max}; {cpu:.0f} s of CPU for {len(args.seeds)} seeds.",
            "",
            "| seed | " + " | ".join(f"exact k={k}" for k in ks) + f" | per-token k={ks[-1]} |",
            "|---" * (len(ks) + 2) + "|",
        ]
        for s in args.seeds:
            cells = " | ".join(f"{res[s][k][0]:.3f}" for k in ks)
            lines.append(f"| {s} | {cells} | {res[s][ks[-1]][1]:.3f} |")
        span = " | ".join(
            f"{min(res[s][k][0] for s in args.seeds):.3f}-{max(res[s][k][0] for s in args.seeds):.3f}"
            for k in ks
        )
        tok = [res[s][ks[-1]][1] for s in args.seeds]
        lines.append(f"| min-max | {span} | {min(tok):.3f}-{max(tok):.3f} |")
        print("\n".join(lines[-len(args.seeds) - 6 :]), flush=True)
    total = time.process_time() - start
    cmd = shlex.join(["python", "benchmarks/length_generalization_runs.py", *sys.argv[1:]])
    head = [
        "# Length generalization runs (chapter 18: separate models, a replication of its Experiment 4)",
        "",
        f"Written by `{cmd}` (OMP_NUM_THREADS=1, torch {torch.__version__}, "
        f"{platform.machine()} CPU, one thread): {total:.0f} s of CPU in all.",
        "Exact match = fraction of 256 fresh test sequences whose every scored token is "
        "predicted (teacher-forced, the same as greedy decoding here); per-token = fraction of "
        "scored tokens right. Copy: L = 8, so k = 12 is 1.5 L and k = 16 is 2 L. Addition: "
        "k = number of digits of each operand, trained on 1..3.",
    ]
    with open(args.out, "w") as f:
        f.write("\n".join(head + lines) + "\n")


if __name__ == "__main__":
    main()
