"""Mutation testing of one library module against its unit tests: `make mutation MODULE=...`.

mutmut (3.x) plants one small change at a time in the module (an operator, a constant, a
dropped argument...) and runs the unit tests that reach the changed function; a mutant the
tests do not notice *survives*. The run happens in a scratch copy of the repository
(``_build/mutation/<module>/``), so the worktree is never touched, and writes the score and
each survivor's diff to ``benchmarks/mutation/<module>.md``; ``benchmarks/mutation/REPORT.md``
gathers the scores of every module run so far and the reviewed reasons why survivors are
equivalent (``benchmarks/mutation/equivalent.toml``).

Usage: python tools/mutation.py dlt/theory/kl.py [--tests tests/test_bounds.py ...]
       python tools/mutation.py dlt/theory        (each module of the folder, one after another)
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "mutation"
# The unit tests that exercise each module, fast ones only (no notebook, no install, no book):
# test files, or single tests (file::test) where the rest of a file trains networks for minutes.
TESTS: dict[str, list[str]] = {
    "dlt/theory/kl.py": ["tests/test_bounds.py", "tests/test_edges_theory.py"],
    "dlt/theory/bounds.py": ["tests/test_bounds.py", "tests/test_edges_theory.py"],
    "dlt/theory/bayes.py": ["tests/test_icl.py", "tests/test_edges_theory.py"],
    "dlt/theory/benign.py": [
        "tests/test_interpolation.py",
        "tests/test_edges_theory.py",
        "tests/test_edges_theory_benign.py",
    ],
    "dlt/theory/diagonal.py": ["tests/test_implicit_bias.py", "tests/test_edges_theory.py"],
    "dlt/theory/features.py": ["tests/test_feature_learning.py", "tests/test_edges_theory.py"],
    "dlt/theory/_fused.py": ["tests/test_kernels_fused.py", "tests/test_edges_theory_fused.py"],
    "dlt/theory/boolean.py": ["tests/test_length_generalization.py", "tests/test_edges_theory.py"],
    "dlt/theory/convergence.py": ["tests/test_convergence.py", "tests/test_edges_theory.py"],
    "dlt/theory/finite_differences.py": ["tests/test_polynomial.py", "tests/test_edges_theory.py"],
    "dlt/theory/icl.py": ["tests/test_icl.py", "tests/test_edges_theory.py"],
    "dlt/theory/kernels.py": [
        "tests/test_kernels.py",
        "tests/test_edges_theory.py",
        "tests/test_edges_theory_kernels.py",
    ],
    "dlt/theory/kernel_dynamics.py": [
        *(
            f"tests/test_kernels.py::{t}"
            for t in (
                "test_kernel_gd_dynamics_matches_iterated_gradient_descent",
                "test_kernel_gd_dynamics_small_eigenvalues_without_cancellation",
                "test_kernel_gd_dynamics_flow_limits",
                "test_dynamics_errors",
            )
        ),
        "tests/test_edges_theory.py",
    ],  # fmt: skip
    "dlt/theory/rate_reduction.py": [
        "tests/test_white_box.py",
        "tests/test_edges_theory.py",
        "tests/test_edges_theory_rate_reduction.py",
    ],
    "dlt/theory/robustness.py": [
        "tests/test_robustness.py",
        "tests/test_edges_theory.py",
        "tests/test_edges_theory_robustness.py",
    ],
    "dlt/theory/noise_scales.py": [
        "tests/test_scaling.py::test_noise_scales_equal_per_example_gradient_statistics",
        "tests/test_scaling.py::test_fit_and_noise_scales_name_the_bad_argument",
        "tests/test_edges_theory.py",
    ],
    "dlt/theory/risk.py": [
        "tests/test_interpolation.py",
        "tests/test_edges_theory.py",
        "tests/test_edges_theory_risk.py",
    ],
    "dlt/theory/sgd.py": [
        "tests/test_scaling.py",
        "tests/test_edges_theory.py",
        "tests/test_edges_theory_sgd.py",
    ],
    "dlt/theory/stability.py": [
        *(
            f"tests/test_curvature.py::{t}"
            for t in (
                "test_bad_inputs_name_the_argument",
                "test_sgd_mean_square_rate_matches_enumeration",
                "test_stability_thresholds_closed_forms_and_sandwich",
                "test_linearized_sgd_is_stable_below_the_threshold_and_not_above",
                "test_kernel_stable_lr_closed_form_and_the_edge_of_kernel_descent",
                "test_bisect_threshold_finds_gradient_descents_divergence_step",
            )
        ),
        "tests/test_edges_theory.py",
    ],  # fmt: skip
    "dlt/theory/denoising.py": ["tests/test_diffusion.py", "tests/test_edges_theory_denoising.py"],
    "dlt/measure/memorization.py": [
        "tests/test_diffusion.py",
        "tests/test_edges_measure_memorization.py",
    ],
    "dlt/train/denoising.py": ["tests/test_diffusion.py", "tests/test_edges_train_denoising.py"],
    "dlt/sample/ode.py": ["tests/test_diffusion.py"],
    "dlt/measure/complexity.py": [
        "tests/test_complexity.py",
        "tests/test_edges_measure.py",
        "tests/test_edges_measure_complexity.py",
    ],
    "dlt/measure/features.py": [
        "tests/test_feature_learning.py",
        "tests/test_edges_measure.py",
        "tests/test_edges_measure_features.py",
    ],
    "dlt/measure/fourier.py": [
        *(
            f"tests/test_grokking.py::{t}"
            for t in (
                "test_pure_wave_has_all_power_at_its_frequency",
                "test_parseval_and_members",
                "test_gaussian_embedding_has_a_spread_spectrum",
                "test_share_errors",
                "test_grokking_time_of_a_synthetic_curve",
                "test_grokking_time_errors",
            )
        ),
        "tests/test_edges_measure.py",
    ],  # fmt: skip
    # test_curvature.py's power iterations to tol 1e-11 on trained nets take minutes per mutant
    "dlt/measure/hessian.py": ["tests/test_edges_measure.py"],
    "dlt/measure/margins.py": [
        "tests/test_implicit_bias.py::test_margin_is_scale_invariant_and_matches_definition",
        "tests/test_edges_measure.py",
    ],
    "dlt/measure/ntk.py": [
        "tests/test_ntk.py",
        "tests/test_kernels.py",
        "tests/test_edges_measure.py",
        "tests/test_edges_measure_ntk.py",
    ],
    "dlt/measure/perturbation.py": [
        "tests/test_complexity.py",
        "tests/test_edges_measure.py",
        "tests/test_edges_measure_perturbation.py",
    ],
    "dlt/measure/ranking.py": ["tests/test_complexity.py", "tests/test_edges_measure.py"],
    "dlt/measure/tracking.py": [
        "tests/test_curvature.py",
        "tests/test_edges_measure.py",
        "tests/test_edges_measure_tracking.py",
    ],
    "dlt/measure/_chain.py": ["tests/test_ntk_structured.py", "tests/test_edges_measure_chain.py"],
    "dlt/measure/_structured.py": [
        "tests/test_ntk_structured.py",
        "tests/test_edges_measure_structured.py",
    ],
    "dlt/measure/convergence.py": ["tests/test_convergence.py", "tests/test_edges_measure.py"],
    "dlt/measure/robust.py": [
        "tests/test_robustness.py",
        "tests/test_edges_measure.py",
        "tests/test_edges_measure_robust.py",
    ],
    "dlt/measure/sequences.py": [
        "tests/test_length_generalization.py",
        "tests/test_edges_measure.py",
    ],
    "dlt/solve/kernel.py": [
        "tests/test_kernels.py",
        "tests/test_edges_solve.py",
        "tests/test_edges_solve_kernel.py",
    ],
    "dlt/solve/lasso.py": [
        "tests/test_icl.py::test_lasso_orthogonal_design_is_soft_threshold",
        "tests/test_icl.py::test_lasso_recovers_sparse_vector_and_kkt",
        "tests/test_edges_solve.py",
    ],
    "dlt/solve/least_squares.py": [
        *(
            f"tests/test_interpolation.py::{t}"
            for t in (
                "test_min_norm_matches_numpy_pinv",
                "test_min_norm_interpolates_and_rank_deficient_design",
                "test_ridge_matches_normal_equations_and_path",
            )
        ),
        "tests/test_edges_solve.py",
    ],  # fmt: skip
    "dlt/solve/margins.py": [
        "tests/test_implicit_bias.py",
        "tests/test_edges_solve.py",
        "tests/test_edges_solve_margins.py",
    ],
    "dlt/solve/polynomial.py": ["tests/test_polynomial.py", "tests/test_edges_solve.py"],
    "dlt/train/loop.py": [
        *(
            f"tests/test_core.py::{t}"
            for t in (
                "test_fit_full_batch_decreases_loss_and_records",
                "test_fit_minibatch_adam_and_classification",
                "test_fit_minibatch_loss_instead_of_full_loss_same_training",
                "test_fit_detects_divergence",
                "test_fit_errors",
                "test_fit_rejects_mismatched_lengths",
                "test_fit_shuffles_minibatches_every_epoch",
                "test_minibatch_indices_are_uniform_over_positions",
            )
        ),
        "tests/test_edges_train.py",
    ],  # fmt: skip
    "dlt/train/losses.py": ["tests/test_edges_train.py"],
    "dlt/train/linear.py": ["tests/test_implicit_bias.py", "tests/test_edges_train.py"],
    "dlt/train/accuracy.py": ["tests/test_grokking.py", "tests/test_edges_train.py"],
    "dlt/train/sequence.py": ["tests/test_length_generalization.py", "tests/test_edges_train.py"],
}
# Reasons in equivalent.toml that review a survivor without calling it equivalent: only an input
# on a GPU tells it apart, or an input tells it apart that no promise covers. They count as not killed.
NOT_EQUIVALENT = ("GPU only:", "Not equivalent:")
STATUS = {0: "survived", 1: "killed", 3: "killed", 33: "no tests", 34: "skipped", 35: "suspicious",
          36: "timeout", 37: "killed", 24: "timeout", 152: "timeout", -24: "timeout",
          None: "not checked"}  # fmt: skip


def _scratch(module: str, tests: list[str]) -> Path:
    work = ROOT / "_build" / "mutation" / module.replace("/", "_").removesuffix(".py")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shutil.copytree(ROOT / "dlt", work / "dlt", ignore=shutil.ignore_patterns("__pycache__"))
    target = work / module
    target.write_text(_undecorate(target.read_text(encoding="utf-8")), encoding="utf-8")
    (work / "tests").mkdir()
    for t in {t.split("::")[0] for t in tests}:  # a file, or one test of it (file::test)
        shutil.copy2(ROOT / t, work / t)
    for helper in (ROOT / "tests").glob("[!t]*.py"):  # shared helpers (budget.py, ...)
        shutil.copy2(helper, work / "tests" / helper.name)
    if (ROOT / "tests" / "data").is_dir():
        shutil.copytree(ROOT / "tests" / "data", work / "tests" / "data")
    shutil.copy2(ROOT / "conftest.py", work / "conftest.py")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = re.sub(r'addopts = "[^"]*"', 'addopts = "-p no:cacheprovider"', pyproject)
    toml_list = lambda xs: "[" + ", ".join(json.dumps(x) for x in xs) + "]"  # noqa: E731
    pyproject += (
        "\n[tool.mutmut]\n"
        'source_paths = ["dlt"]\n'
        f"only_mutate = {toml_list([module])}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        'pytest_add_cli_args = ["-x", "-q", "-p", "no:cacheprovider", "-W", "ignore"]\n'
        "timeout_multiplier = 5.0\n"
    )
    (work / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return work


def _undecorate(source: str) -> str:
    """Apply a module-level function's decorators after its definition instead of above it.

    mutmut 3 leaves decorated functions alone, and every public function of the library is
    decorated (``@validate_params``), so the scratch copy spells ``@d def f`` as ``def f`` and
    then ``f = d(f)``: the same function at run time, whose body mutmut now mutates.
    """
    lines = source.splitlines(keepends=True)
    decorated = [n for n in ast.parse(source).body
                 if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.decorator_list]  # fmt: skip
    for fn in reversed(decorated):  # bottom up: earlier line numbers stay valid
        first = min(d.lineno for d in fn.decorator_list) - 1  # the line of the first "@"
        texts = [ast.get_source_segment(source, d) for d in fn.decorator_list]
        wrapped = fn.name
        for text in reversed(texts):  # @a @b def f: f = a(b(f))
            wrapped = f"({text})({wrapped})"
        body = lines[fn.lineno - 1 : fn.end_lineno]
        lines[first : fn.end_lineno] = [*body, f"{fn.name} = {wrapped}\n"]
    return "".join(lines)


def _results(work: Path, module: str) -> dict[str, int | None]:
    meta = work / "mutants" / (module + ".meta")
    data = json.loads(meta.read_text(encoding="utf-8"))
    return data["exit_code_by_key"]


def _diff(work: Path, name: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name], cwd=work, capture_output=True, text=True
    )
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(("+", "-")) and
             not ln.startswith(("+++", "---"))]  # fmt: skip
    return "\n".join(lines)


def _equivalent() -> dict[str, dict[str, str]]:
    path = OUT / "equivalent.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def run(module: str, tests: list[str], children: int) -> Path:
    work = _scratch(module, tests)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", DLT_PROGRESS="0", DLT_STATIC="1",
               DLT_DEVICE="cpu")  # fmt: skip
    log = work / "mutmut.log"
    print(f"mutmut runs {module} against {', '.join(tests)}; progress in {log}")
    with log.open("w") as out:
        subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(children)],
            cwd=work, env=env, check=False, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return write_report(work, module, tests)


def write_report(work: Path, module: str, tests: list[str]) -> Path:
    codes = _results(work, module)
    equivalent = _equivalent().get(module, {})
    rows = {name: STATUS.get(code, f"exit {code}") for name, code in sorted(codes.items())}
    killed = sum(s in ("killed", "timeout") for s in rows.values())
    survivors = [n for n, s in rows.items() if s == "survived"]
    reviewed = [n for n in survivors if equivalent.get(_short(n), "").startswith(NOT_EQUIVALENT)]
    explained = [n for n in survivors if _short(n) in equivalent and n not in reviewed]
    other = {n: s for n, s in rows.items() if s not in ("killed", "timeout", "survived")}
    judged = len(rows) - len(explained) - len(other)
    score = 100.0 * killed / judged if judged else 100.0
    OUT.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Mutation testing of `{module}`",
        "",
        f"Command: `make mutation MODULE={module}` (mutmut, tests: {', '.join(tests)}).",
        "",
        f"- mutants: {len(rows)}; killed (a test failed or timed out): {killed}",
        f"- survived: {len(survivors)}, of which reviewed as equivalent: {len(explained)}, "
        f"reviewed as not equivalent (GPU only, or no promise covers the input): {len(reviewed)}",
        f"- not run (no test reaches them, skipped, suspicious): {len(other)}",
        f"- **score: {score:.1f} %** of the {judged} non-equivalent mutants killed",
        "",
    ]
    if survivors:
        lines += ["## Survivors", ""]
        for n in survivors:
            why = equivalent.get(_short(n), "not yet killed")
            lines += [f"### `{_short(n)}`: {why}", "", "```diff", _diff(work, n), "```", ""]
    if other:
        lines += ["## Not run", ""] + [f"- `{_short(n)}`: {s}" for n, s in other.items()] + [""]
    path = OUT / (module.replace("/", "_").removesuffix(".py") + ".md")
    path.write_text("\n".join(lines), encoding="utf-8")
    summary = {"module": module, "mutants": len(rows), "killed": killed,
               "survived": len(survivors), "equivalent": len(explained),
               "not_run": len(other), "score": round(score, 1)}  # fmt: skip
    (path.with_suffix(".json")).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    _gather()
    print(f"{module}: {score:.1f} % of {judged} non-equivalent mutants killed; report {path}")
    return path


def _short(name: str) -> str:
    return name.split(".")[-1]


def _mutmut_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mutmut")
    except PackageNotFoundError:
        return "(not installed)"


def _gather() -> None:
    rows = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(OUT.glob("*.json"))]
    by_folder: dict[str, list[dict]] = {}
    for r in rows:
        by_folder.setdefault(r["module"].rsplit("/", 1)[0], []).append(r)
    lines = [
        "# Mutation score of the library",
        "",
        "Written by `make mutation MODULE=dlt/<folder>/<module>.py` (tools/mutation.py, mutmut",
        f"{_mutmut_version()}, on the CPU, each module against the tests its row of TESTS names); one",
        "file per module beside this one lists its survivors with their diffs. Score: killed",
        "mutants over all mutants but the survivors reviewed as equivalent",
        "(`equivalent.toml`) and those no selected test reaches. Survivors reviewed there as",
        '"GPU only" (a device argument: no input on the CPU tells it apart) or "Not',
        'equivalent" (an input no promise covers tells it apart) count as not killed.',
        "",
        "| module | mutants | killed | survived | equivalent | not run | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for folder, rs in sorted(by_folder.items()):
        for r in rs:
            lines.append(
                f"| `{r['module']}` | {r['mutants']} | {r['killed']} | {r['survived']} | "
                f"{r['equivalent']} | {r['not_run']} | {r['score']:.1f} % |"
            )
        k = sum(r["killed"] for r in rs)
        judged = sum(r["mutants"] - r["equivalent"] - r["not_run"] for r in rs)
        lines.append(
            f"| **`{folder}/`** (modules run) | | {k} | | | | **{100 * k / max(judged, 1):.1f} %** |"
        )
    ran = {r["module"] for r in rows}
    missing = [m for m in TESTS if m not in ran]
    lines += ["", "Modules not run yet: " + (", ".join(f"`{m}`" for m in missing) or "none"), ""]
    (OUT / "REPORT.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("module", help="a library file, e.g. dlt/theory/kl.py")
    ap.add_argument("--tests", nargs="*", help="test files (default: the module's row of TESTS)")
    ap.add_argument("--children", type=int, default=1, help="mutants run at once (default 1)")
    ap.add_argument("--report-only", action="store_true", help="rewrite the report of the last run")
    args = ap.parse_args(argv)
    target = args.module.removeprefix("./").rstrip("/")
    modules = (
        [m for m in TESTS if m.startswith(target + "/")] if (ROOT / target).is_dir() else [target]
    )
    for module in modules:
        tests = args.tests or TESTS.get(module)
        if not tests:
            ap.error(f"no unit tests listed for {module}: pass --tests or add it to TESTS")
        tests = [t for t in tests if (ROOT / t.split("::")[0]).exists()]
        if args.report_only:
            work = ROOT / "_build" / "mutation" / module.replace("/", "_").removesuffix(".py")
            write_report(work, module, tests)
        else:
            run(module, tests, args.children)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
