"""The seed sweep behind the Fourier-share bands of the chapter "Grokking".

For each ``SEED`` this trains the chapter's two networks (``ModularMLP(31, n_models=2,
seed=SEED)`` on ``modular_arithmetic(31, "add", 0.5, seed=SEED)``, AdamW with learning rate
1e-2, betas (0.9, 0.98), weight decay 1 and its control without weight decay) for a fixed number
of steps, keeps the embedding at every record (every 10 steps), and prints, per network, the step
``t_test`` at which its test accuracy first reaches 0.95 and the top-5 Fourier share of its
embedding at ``t_test + d`` for d = 0, 250, 500, 1000, with the control's share at the same
steps. Stopping does not change a trajectory, so these are the values the chapter reads at its
own seed. Deterministic on one CPU thread.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/grokking_share_sweep.py [--steps 3200] [--seeds 0-9]

About 30 s of CPU per seed at the defaults. The chapter's table (Experiment 2) comes from seeds
0 to 9; a network that groks later than ``steps - 1000`` prints nan at d = 1000.
"""

from __future__ import annotations

import argparse

import torch

from dlt.grokking import (
    ModularMLP,
    grokking_time,
    member_accuracy,
    modular_arithmetic,
    top_frequency_share,
)
from dlt.train import fit

P, LR, WD, EVERY = 31, 1e-2, 1.0, 10
DELAYS = (0, 250, 500, 1000)


def trajectory(seed: int, wd: float, steps: int, data) -> tuple[torch.Tensor, ...]:
    """Recorded steps, test accuracies (T, 2) and embeddings (T, 2, p, d) of one training."""
    X_train, y_train, X_test, y_test = data
    net = ModularMLP(P, n_models=2, seed=seed)
    rec: dict[str, list] = {"step": [], "test": [], "E": []}

    def keep(step: int, model: torch.nn.Module) -> None:
        with torch.no_grad():
            rec["step"].append(step)
            rec["test"].append(member_accuracy(model(X_test), y_test))
            rec["E"].append(model.embedding.detach().clone())

    fit(
        net,
        X_train,
        y_train,
        loss="ensemble_cross_entropy",
        optimizer=lambda ps: torch.optim.AdamW(ps, lr=LR, betas=(0.9, 0.98), weight_decay=wd),
        steps=steps,
        record_every=EVERY,
        callback=keep,
        progress=False,
    )
    return torch.tensor(rec["step"]), torch.stack(rec["test"]), torch.stack(rec["E"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3200)
    parser.add_argument("--seeds", default="0-9", help="a range a-b or a list a,b,c")
    args = parser.parse_args()
    if "-" in args.seeds:
        lo, hi = (int(x) for x in args.seeds.split("-"))
        seeds = list(range(lo, hi + 1))
    else:
        seeds = [int(x) for x in args.seeds.split(",")]
    torch.set_num_threads(1)
    print("seed member t_test | share at t_test + 0, 250, 500, 1000 | control, same steps")
    for seed in seeds:
        data = modular_arithmetic(P, "add", train_fraction=0.5, seed=seed)[:4]
        step, test, E = trajectory(seed, WD, args.steps, data)
        _, _, E0 = trajectory(seed, 0.0, args.steps, data)
        t_test = grokking_time(step, test, 0.95)
        for m in range(2):
            if not torch.isfinite(t_test[m]):
                print(f"{seed:4d} {m:6d} did not reach test accuracy 0.95 in {args.steps} steps")
                continue
            shares, controls = [], []
            for d in DELAYS:
                i = int(t_test[m] + d) // EVERY
                ok = i < len(step)
                shares.append(float(top_frequency_share(E[i, m], 5)) if ok else float("nan"))
                controls.append(float(top_frequency_share(E0[i, m], 5)) if ok else float("nan"))
            print(
                f"{seed:4d} {m:6d} {int(t_test[m]):6d} |",
                " ".join(f"{s:.3f}" for s in shares),
                "|",
                " ".join(f"{c:.3f}" for c in controls),
                flush=True,
            )


if __name__ == "__main__":
    main()
