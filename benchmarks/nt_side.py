"""neural-tangents' side of benchmarks/kernels_speed.py, run in its own environment.

neural-tangents 0.6.5 needs jax 0.4.25 and numpy < 2 (see benchmarks/kernels_speed.py for
the environment). Prints one JSON object: for each case, the median wall and CPU seconds,

    NT_PYTHON benchmarks/nt_side.py --repeats 5

or, with ``--serve``, compiles every case once and then answers requests ``CASE REPEATS`` on
standard input, one JSON line each, so that benchmarks/kernels_speed.py can alternate the two
libraries in rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import types


class _Stub(type):
    def __getattr__(cls, name: str) -> type:
        return _Stub(name, (), {})


for _name in ["tensorflow", "tf2jax", "jax.experimental.jax2tf"]:  # optional TF bridges
    _mod = types.ModuleType(_name)
    _mod.__getattr__ = lambda attr: _Stub(attr, (), {})  # type: ignore[method-assign]
    sys.modules[_name] = _mod

import jax  # noqa: E402
import neural_tangents as nt  # noqa: E402
import numpy as np  # noqa: E402
from jax.experimental import enable_x64  # noqa: E402
from neural_tangents import stax  # noqa: E402


def median(fn, repeats):
    fn()  # compile
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn())
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def f32(params):
    return jax.tree_util.tree_map(lambda p: p.astype(np.float32), params)


def best_implementation(apply_fn, params, x, repeats):
    """The fastest of neural-tangents' three implementations, each jitted: (function, impl)."""
    fns, times = {}, {}
    for impl in (1, 2, 3):  # JACOBIAN_CONTRACTION, NTK_VECTOR_PRODUCTS, STRUCTURED_DERIVATIVES
        fn = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0, implementation=impl))
        fns[impl] = lambda fn=fn: fn(x, None, params)
        times[impl] = median(fns[impl], repeats)[0]
    impl = min(times, key=times.__getitem__)
    return fns[impl], impl


def build(repeats: int, n_analytic: int) -> dict[str, tuple[object, int | None]]:
    """Each case's function, compiled and warmed up, with the implementation it uses."""
    key = jax.random.PRNGKey(0)
    out = {}
    # MLP 3 x 512 ReLU, 100 inputs of dimension 10, float32.
    layers = []
    for _ in range(3):
        layers += [stax.Dense(512, b_std=0.1), stax.Relu()]
    init, apply_fn, _ = stax.serial(*layers, stax.Dense(1, b_std=0.1))
    x = np.random.RandomState(0).randn(100, 10).astype(np.float32)
    params = f32(init(key, x.shape)[1])
    out["mlp"] = best_implementation(apply_fn, params, x, repeats)
    # The same with vmap_axes left at its default (None): no batching of the Jacobians.
    default = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(), implementation=3))
    out["mlp-default"] = (lambda x=x, p=params: default(x, None, p), 3)
    # CNN: two 3x3 convolutions of 32 channels on 16x16x3 images, average pooling, a dense readout.
    init, apply_fn, _ = stax.serial(
        stax.Conv(32, (3, 3), padding="SAME"), stax.Relu(),
        stax.Conv(32, (3, 3), padding="SAME"), stax.Relu(),
        stax.AvgPool((2, 2), (2, 2)), stax.Flatten(), stax.Dense(1),
    )  # fmt: skip
    x = np.random.RandomState(0).randn(100, 16, 16, 3).astype(np.float32)
    out["cnn"] = best_implementation(apply_fn, f32(init(key, x.shape)[1]), x, repeats)
    # Transformer block: 16 tokens of width 64, 4 heads, MLP 64-256-64, parameter-free norms.
    attn = stax.serial(
        stax.LayerNorm(), stax.GlobalSelfAttention(64, 16, 16, 4, linear_scaling=False)
    )
    mlp = stax.serial(stax.LayerNorm(), stax.Dense(256), stax.Gelu(), stax.Dense(64))
    init, apply_fn, _ = stax.serial(
        stax.FanOut(2), stax.parallel(stax.Identity(), attn), stax.FanInSum(),
        stax.FanOut(2), stax.parallel(stax.Identity(), mlp), stax.FanInSum(),
        stax.GlobalAvgPool(), stax.Dense(1),
    )  # fmt: skip
    x = np.random.RandomState(0).randn(100, 16, 64).astype(np.float32)
    out["transformer"] = best_implementation(apply_fn, f32(init(key, x.shape)[1]), x, repeats)
    # Analytic NNGP + NTK: depth 5 ReLU, float64 (x64 only here: the networks above stay float32).
    layers = []
    for _ in range(5):
        layers += [stax.Dense(1, W_std=1.4, b_std=0.1), stax.Relu()]
    _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=1.4, b_std=0.1))
    kernel_fn = jax.jit(kernel_fn, static_argnames="get")
    xa = np.random.RandomState(0).randn(n_analytic, 10)

    def analytic():
        with enable_x64():
            return kernel_fn(xa, None, get=("nngp", "ntk"))

    assert analytic()[1].dtype == np.float64
    out["analytic"] = (analytic, None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-analytic", type=int, default=2000)
    parser.add_argument(
        "--serve",
        action="store_true",
        help="after compiling, answer lines 'CASE REPEATS' on stdin with one JSON line each",
    )
    args = parser.parse_args()
    cases = build(args.repeats, args.n_analytic)
    if not args.serve:
        out = {}
        for name, (fn, impl) in cases.items():
            w, c = median(fn, args.repeats)
            out[name] = {"wall": w, "cpu": c, "implementation": impl}
        print(json.dumps(out))
        return
    print(json.dumps({"ready": sorted(cases)}), flush=True)
    for line in sys.stdin:
        name, repeats = line.split()
        fn, impl = cases[name]
        w, c = median(fn, int(repeats))
        print(json.dumps({"wall": w, "cpu": c, "implementation": impl}), flush=True)


if __name__ == "__main__":
    main()
