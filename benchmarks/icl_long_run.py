"""Train the softmax transformer of the chapter "Beyond one task" far longer than it does, on CPU.

That chapter trains a width-32, two-block model for 1,000 steps and finds that it does not beat least
squares on sparse prompts with fewer examples than dimensions. This script asks whether a larger model
trained much longer does, with the chapter's task mixture (d = 8; dense, 2-sparse and sign tasks, 1/3
each; noise 0.1; 2 to 16 examples and 8 queries per prompt), a fresh batch of prompts at every step and
Adam with a linear warm-up. Every ``--every`` steps it prints the test error of the model, of OLS and of
the best Lasso on 1,024 sparse prompts with N = 2, 4, 6, and of the model and ridge on dense prompts
with N = 6 and 12. Deterministic on one CPU thread, so the printed numbers reproduce.

    .venv/bin/python benchmarks/icl_long_run.py [--steps 50000] [--width 64] [--depth 3] [--save model.pt]

The numbers that chapter quotes ("What needs a larger model") come from the defaults: about 22 ms a
step on one core of the 2-core reference machine, so 50,000 steps take about 20 minutes.
"""

from __future__ import annotations

import argparse
import time

import torch

from dlt import icl


def evaluate(
    model: icl.SoftmaxTransformer, d: int, k: int, noise: float
) -> dict[str, tuple[float, ...]]:
    """Test errors (model, OLS, best Lasso) on sparse prompts and (model, ridge) on dense ones."""
    out: dict[str, tuple[float, ...]] = {}
    model.eval()
    with torch.no_grad():
        for n in (2, 4, 6):
            s = icl.sample_task_mixture(
                1024, n, d, {"sparse": 1.0}, sparsity=k, noise=noise, seed=100 + n
            )
            prompts, t = s["tokens"][..., : d + 1], s["targets"][:, 0]
            e = float(((model(s["tokens"])[:, 0] - t) ** 2).mean())
            ols = float(((icl.least_squares_predictor(prompts) - t) ** 2).mean())
            lasso = min(
                float(((icl.lasso_predictor(prompts, lam, 200) - t) ** 2).mean())
                for lam in (0.003, 0.01, 0.03, 0.1)
            )
            out[f"sparse N={n}"] = (round(e, 2), round(ols, 2), round(lasso, 2))
        for n in (6, 12):
            s = icl.sample_task_mixture(
                1024, n, d, {"dense": 1.0}, sparsity=k, noise=noise, seed=7 + n
            )
            t = s["targets"][:, 0]
            e = float(((model(s["tokens"])[:, 0] - t) ** 2).mean())
            ridge = float(
                ((icl.ridge_predictor(s["tokens"][..., : d + 1], noise**2) - t) ** 2).mean()
            )
            out[f"dense N={n}"] = (round(e, 3), round(ridge, 3))
    model.train()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50000)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--every", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default=None, help="write the trained state_dict here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    d, k, n_max, noise = 8, 2, 16, 0.1
    mix = {"dense": 1.0, "sparse": 1.0, "sign": 1.0}
    model = icl.SoftmaxTransformer(
        d, width=args.width, depth=args.depth, heads=args.heads, seed=args.seed
    )
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / args.warmup))
    g = torch.Generator().manual_seed(args.seed + 1)
    print("columns: sparse (model, OLS, Lasso), dense (model, ridge)", flush=True)
    t0 = time.time()
    for step in range(args.steps):
        s = icl.sample_task_mixture(
            args.batch, n_max, d, mix, n_queries=8, sparsity=k, noise=noise, n_min=2, seed=g
        )
        loss = ((model(s["tokens"]) - s["targets"]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % args.every == 0:
            print(
                f"step {step + 1} ({time.time() - t0:.0f} s):",
                evaluate(model, d, k, noise),
                flush=True,
            )
    if args.save:
        torch.save(model.state_dict(), args.save)


if __name__ == "__main__":
    main()
