"""The first touch of fresh output memory, with and without transparent huge pages.

Writes two fresh 2000 x 2000 float64 matrices (the outputs of the analytic kernels at 2000
inputs), each time in a new process so that the memory is freshly mapped, as on a first call:
on 4 kB pages, advised onto 2 MB pages with ``madvise(MADV_HUGEPAGE)`` (Linux), and a second
write of the same matrices (the cost without page faults). Medians over processes; run with
``OMP_NUM_THREADS=1`` or 2 to compare thread counts.

    .venv/bin/python benchmarks/first_touch.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CHILD = """
import ctypes, time, torch
HUGE, ADVISE = 2**21, {advise}
libc = ctypes.CDLL(None)
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
ms = [torch.empty({n}, {n}, dtype=torch.float64) for _ in range(2)]
t0 = time.perf_counter()
for m in ms:
    if ADVISE:
        start = -(-m.data_ptr() // HUGE) * HUGE
        end = m.data_ptr() + m.numel() * 8
        libc.madvise(start, (end - start) // HUGE * HUGE, 14)  # MADV_HUGEPAGE
    m.fill_(1.0)
t1 = time.perf_counter()
for m in ms:
    m.fill_(2.0)
print((t1 - t0) * 1e3, (time.perf_counter() - t1) * 1e3)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"4 kB pages": [], "2 MB pages": [], "rewrite": []}
    for _ in range(args.runs):
        for advise in (False, True):
            code = CHILD.format(advise=advise, n=args.n)
            res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            res.check_returncode()
            first, again = map(float, res.stdout.split())
            times["2 MB pages" if advise else "4 kB pages"].append(first)
            times["rewrite"].append(again)
    import torch

    print(f"{torch.get_num_threads()} thread(s), medians of {args.runs} processes (ms):")
    for name, v in times.items():
        print(f"  {name:12s} {statistics.median(v):7.1f}")


if __name__ == "__main__":
    main()
