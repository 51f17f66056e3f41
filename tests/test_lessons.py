"""Lessons: the student-copy transformation, and every lesson executed three ways.

1. The source, solutions included, executes and passes every check.
2. The student copy, executed cell by cell, fails at the check of task 1; and for every task k,
   the source with only task k's solutions removed fails exactly at task k's check (so each
   check catches its own unsolved task, not a later one).
3. The student copy holds no line of any solution or hidden-test region, and is up to date.
4. Lessons cannot be passed by calling the library: for every task whose answer a library
   function computes, an answer that only calls it (DELEGATES) passes the task's visible
   checks and fails its hidden test, which runs the student's code under
   ``dlt.lessons.without(...)``; every task statement says which calls are allowed.
"""

import copy
import json
import re
from pathlib import Path

import nbformat
import pytest
from budget import BUDGET_S, kernel_clock, over_budget_message
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from dlt import cli, lessons

ROOT = Path(__file__).resolve().parents[1]
SOURCES = lessons.sources(ROOT)
IDS = [p.stem for p in SOURCES]
TASKS = [
    (src, k)
    for src in SOURCES
    for k in range(1, len(lessons.task_cells(lessons.read_source(src))) + 1)
]
TIMINGS = ROOT / "_build" / "timings"


#: Answers that only call the library, for every task whose answer a library function computes:
#: (lesson, task) -> variants, one per library function; a variant gives the new body of
#: solution regions by their index among the task's regions (the others keep their solution).
DELEGATES: dict[tuple[str, int], list[dict[int, str]]] = {
    ("02_nngp", 2): [{0: "return dlt.kernels.relu_expectations(k11, k22, k12).e12"}],
    ("02_nngp", 3): [{0: "return dlt.kernels.relu_nngp(x1, x2, depth, sigma_w, sigma_b)"}],
    ("02_nngp", 4): [
        {0: "return dlt.kernels.gp_posterior(k_train, y, k_test_train, k_test_diag, noise)"}
    ],
    ("03_ntk", 1): [{0: "return dlt.curvature.output_jacobian(net, x)"}],
    ("03_ntk", 2): [{0: "return dlt.ntk.empirical_ntk(net, x1, x2)"}],
    ("03_ntk", 3): [{0: "return dlt.kernels.relu_ntk(x1, x2, depth, sigma_w, sigma_b)"}],
    ("03_ntk", 4): [
        {
            0: "f_train, f_test = dlt.kernels.kernel_gd_dynamics(\n"
            "    theta_train, theta_test_train, y, f0_train, f0_test, steps, lr=lr\n)\n"
            "return f_train[0], f_test[0]"
        }
    ],
    ("04_lazy_rich", 1): [
        {
            0: "widths = {'input': [fan_in, fan_out, 1, 1], 'hidden': [1, fan_in, fan_out, 1],\n"
            "          'output': [1, 1, fan_in, fan_out]}[kind]\n"
            "s = layer_scales('mup', widths)[['input', 'hidden', 'output'].index(kind)]\n"
            "return s.weight_std, s.weight_multiplier, s.weight_lr_scale"
        }
    ],
    ("04_lazy_rich", 2): [
        {
            0: "net = MLP([D, width, 1], parameterization=par, seed=width)\n"
            "h0 = dlt.feature_learning.hidden_features(net, X)\n"
            "fit(net, X, y, lr=lr, steps=steps)\n"
            "h = dlt.feature_learning.hidden_features(net, X)\n"
            "return dlt.feature_learning.feature_movement(h, h0), net"
        }
    ],
    ("04_lazy_rich", 3): [{0: "return dlt.feature_learning.weight_alignment(weight, direction)"}],
    ("04_lazy_rich", 4): [
        {
            0: "rows = []\n"
            "for m in widths:\n"
            "    net = MLP([D, m, m, 1], parameterization=par, seed=m)\n"
            "    net0 = copy.deepcopy(net)\n"
            "    fit(net, X, y, lr=lr, steps=1)\n"
            "    rows.append(dlt.feature_learning.coordinate_sizes(net, X, net0).numpy())\n"
            "return np.array(rows)"
        }
    ],
    ("05_double_descent", 1): [{0: "return dlt.interpolation.min_norm_interpolator(X, y)"}],
    ("05_double_descent", 3): [
        {
            0: "bias = float(asymptotic_risk_isotropic(gamma, signal=r2**0.5, noise=0.0))\n"
            "total = asymptotic_risk_isotropic(gamma, signal=r2**0.5, noise=sigma2**0.5)\n"
            "return bias, float(total) - bias"
        }
    ],
    ("05_double_descent", 4): [
        {0: "return dlt.interpolation.ridge(X, y, lam)"},
        {
            1: "risk = optimal_ridge_risk(1.0, signal=r2**0.5, noise=sigma2**0.5)\n"
            "return torch.full((trials,), float(risk), dtype=torch.float64)"
        },
    ],
    ("06_benign_overfitting", 1): [
        {0: "r, R = effective_ranks(eigenvalues, k)\nreturn float(r), float(R)"}
    ],
    ("06_benign_overfitting", 2): [{0: "return int(critical_index(eigenvalues, n, b))"}],
    ("07_measuring_generalization", 1): [{0: "return float(gm.kl_inverse(q, c))"}],
    ("07_measuring_generalization", 2): [
        {0: "return float(gm.gaussian_kl(w, w0, sigma_q, sigma_p))"}
    ],
    ("07_measuring_generalization", 3): [
        {
            0: "errors = torch.full((r,), float(mc_error))\n"
            "kls = torch.full((k, r), float(kl_divergence))\n"
            "bound = gm.pac_bayes_bound(errors, kls, n, samples, delta=delta, delta_mc=delta_mc)\n"
            "return float(bound.bounds[0, 0])"
        }
    ],
    ("07_measuring_generalization", 4): [
        {0: "return float(gm.posterior_errors(net, X, y, [sigma], samples, seed=seed)[0])"}
    ],
    ("07_measuring_generalization", 5): [
        {0: "return float(gm.kendall_tau(x, y).tau)"},
        {0: "return float(kendalltau(x, y).statistic)"},
    ],
    ("08_implicit_bias", 1): [
        {
            0: "w = ib.max_margin_linf(Z).direction.numpy()\n"
            "w = w / np.abs(w).max()\n"
            "return w, float((Z.numpy() @ w).min())"
        }
    ],
    ("08_implicit_bias", 2): [{0: "return ib.logistic_descent(Z, 'sign', lr, steps).w[-1]"}],
    ("08_implicit_bias", 3): [{0: "return ib.diagonal_potential(w, alpha)"}],
    ("08_implicit_bias", 4): [{0: "return ib.diagonal_net_solution(X, y, alpha)"}],
    ("09_edge_of_stability", 1): [
        {0: "return float(cv.top_hessian_eigenvalue(model, X, y, iters=iters).value)"}
    ],
    ("09_edge_of_stability", 2): [
        {0: "return float(cv.hessian_trace(model, X, y, samples=samples, seed=seed))"}
    ],
    ("09_edge_of_stability", 5): [{0: "return float(cv.sgd_mean_square_rate(G, lr))"}],
    ("10_critical_batch_size", 1): [
        {
            0: "return dlt.scaling.sgd_risk(\n"
            "    lam, m0, noise=noise, batch_size=batch_size, lr=lr, steps=steps\n)[0, 0]"
        }
    ],
    ("10_critical_batch_size", 2): [
        {
            0: "found = dlt.scaling.steps_to_target(lam, m0, noise=noise, batch_sizes=[batch_size],\n"
            "    lrs=lrs, targets=[target], max_steps=max_steps)\n"
            "return found.steps[0].tolist()[0]"
        }
    ],
    ("10_critical_batch_size", 3): [
        {
            0: "fit = dlt.scaling.fit_critical_batch(batch_sizes, steps)\n"
            "return float(fit.s_min), float(fit.b_crit)"
        }
    ],
    ("10_critical_batch_size", 4): [
        {
            0: "s = dlt.scaling.gradient_noise_scales(lam, e**2, noise=noise)\n"
            "return float(s.b_simple), float(s.b_noise)"
        }
    ],
    ("11_grokking", 1): [{0: "return gk.fourier_power(E)"}],
    ("11_grokking", 2): [{0: "return float(gk.top_frequency_share(E, K))"}],
    ("11_grokking", 3): [{0: "return float(gk.grokking_time(steps, accuracy, threshold))"}],
    ("12_icl_gd", 1): [{0: "return dlt.icl.gd_predictor(prompts, lr, steps)"}],
    ("12_icl_gd", 2): [
        {
            0: "layer = LinearSelfAttention(h.shape[-1] - 1, 1).double()\n"
            "with torch.no_grad():\n"
            "    Qs, Vs = layer.weights()\n"
            "    Qs[0].copy_(Q)\n"
            "    Vs[0].copy_(V)\n"
            "return layer.tokens(h)[-1].detach()"
        }
    ],
    ("12_icl_gd", 3): [{0: "return dlt.icl.gd_construction(dim, lr)"}],
    ("12_icl_gd", 4): [
        {
            0: "risk = dlt.icl.one_step_risk(lr * torch.eye(d), N, noise=noise)\n"
            "return float(risk), 0.01"
        },
        {
            1: "eta = dlt.icl.optimal_one_step_preconditioner(n_context, dim, noise=noise_var**0.5)\n"
            "return float(eta[0, 0])"
        },
    ],
    ("13_icl_beyond", 1): [{1: "return dlt.icl.lasso(X, y, lam, steps)"}],
    ("13_icl_beyond", 2): [
        {0: "return dlt.icl.bayes_predictor(prompts, {'sparse': 1.0}, sparsity=1, noise=noise)"}
    ],
    ("13_icl_beyond", 3): [{0: "return dlt.icl.discrete_prior_predictor(prompts, tasks, noise)"}],
    ("14_robustness", 1): [
        {
            0: "rows = []\n"
            "for w, x in zip(W, X):\n"
            "    lin = nn.Linear(len(w), 1, bias=False)\n"
            "    with torch.no_grad():\n"
            "        lin.weight.copy_(w[None])\n"
            "    rows.append(rb.fgsm(lin, x[None], torch.zeros(1), eps, loss=lambda o, y: o[:, 0]))\n"
            "return torch.cat(rows)"
        }
    ],
    ("14_robustness", 2): [
        {
            0: "net = nn.Sequential(nn.Linear(W1.shape[1], W1.shape[0]), nn.ReLU(),\n"
            "                    nn.Linear(W2.shape[1], W2.shape[0]))\n"
            "with torch.no_grad():\n"
            "    for p, t in zip(net.parameters(), (W1, b1, W2, b2)):\n"
            "        p.copy_(t)\n"
            "b = rb.ibp_bounds(net, X, eps)\n"
            "return b.lower, b.upper"
        }
    ],
    ("15_polynomial", 1): [
        {
            0: "net = pn.CCP(U.shape[2], width=U.shape[1], degree=U.shape[0],\n"
            "             out_features=C.shape[0], bias=False)\n"
            "with torch.no_grad():\n"
            "    net.U.copy_(U)\n"
            "    net.C.copy_(C)\n"
            "    net.beta.copy_(beta)\n"
            "return net(Z).detach()"
        }
    ],
    ("15_polynomial", 2): [
        {
            0: "return pn.finite_differences(lambda x: values[x[:, 0].round().long()],\n"
            "                              torch.zeros(1), torch.ones(1), len(values) - 1)"
        }
    ],
    ("19_lottery", 1): [{0: 'return lt.prune_by_magnitude(weights, fraction, "global", masks)'}],
    ("19_lottery", 2): [
        {0: 'return lt.prune_by_magnitude(weights, list(fractions), "layer", masks)'}
    ],
    ("19_lottery", 3): [
        {
            0: 'new = lt.prune_by_magnitude(trained, fraction, "global", masks)\n'
            "return new, [w0 * m for w0, m in zip(init, new)]"
        }
    ],
    ("20_diffusion", 1): [{0: "return df.optimal_denoiser(x, sigma, train)"}],
    ("20_diffusion", 2): [
        {
            0: "return df.probability_flow_ode(denoiser, x / sigma, torch.tensor([sigma, sigma_next]))"
        }
    ],
    ("20_diffusion", 3): [{0: "return df.memorization_fraction(samples, train, ratio).fraction"}],
    ("20_diffusion", 4): [
        {
            0: "return df.probability_flow_ode(lambda y, s: df.optimal_denoiser(y, s, train),\n"
            "                              noise, sigmas)"
        }
    ],
    ("16_white_box", 1): [{0: "return wb.coding_rate(Z, eps)"}],
    ("16_white_box", 2): [{0: "return wb.rate_reduction(Z, labels, eps).delta_r"}],
    ("16_white_box", 3): [{0: "return wb.compression_gradient(Z, U, eps)"}],
    ("16_white_box", 4): [
        {0: "return wb.compression_step(Z, U, eps, kappa, 'softmax' if softmax else 'neumann')"}
    ],
    ("18_length_generalization", 1): [{0: "return lg.walsh_coefficients(values)"}],
    ("18_length_generalization", 2): [
        {0: "return float(lg.influence(lg.walsh_coefficients(values), i))"}
    ],
    ("18_length_generalization", 3): [
        {
            0: "coef = lg.min_degree_interpolator(lg.walsh_coefficients(values), i)\n"
            "return lg.walsh_values(coef)"
        }
    ],
    ("17_convergence", 1): [{0: "return cv.h_infinity(X)"}],
    ("17_convergence", 2): [
        {
            0: "net = cv.FixedReadoutNet(W.shape[1], W.shape[0])\n"
            "with torch.no_grad():\n"
            "    net.hidden.weight.copy_(W)\n"
            "return net.gram(X)"
        },
    ],
    ("17_convergence", 3): [
        {
            0: "net = cv.FixedReadoutNet(W0.shape[1], W0.shape[0])\n"
            "with torch.no_grad():\n"
            "    net.hidden.weight.copy_(W0)\n"
            "    net.readout.copy_(a)\n"
            "h = fit(net, X, y, loss=lambda o, t: 0.5 * ((o[:, 0] - t) ** 2).sum(),\n"
            "        lr=eta, steps=steps, record_every=1)\n"
            "return 2 * torch.tensor(h.train_loss)"
        }
    ],
    ("17_convergence", 4): [{0: "return cv.activation_flips(W0, W, X)"}],
}
ALLOWED = "*Allowed calls:*"
_REGION = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S
)


def _delegating_cells(nb, task: int, bodies: dict[int, str]) -> dict[int, str]:
    """The solution cells of ``task`` with the regions in ``bodies`` replaced: {cell: source}."""
    out, region = {}, 0
    for i in lessons.task_cells(nb)[task - 1][:-1]:
        source = nb.cells[i].source

        def swap(m: re.Match) -> str:
            nonlocal region
            k, region = region, region + 1
            if k not in bodies:
                return m.group(0)
            return "\n".join(m.group(1) + ln for ln in bodies[k].splitlines())

        new = _REGION.sub(swap, source)
        if new != source:
            out[i] = new
    assert region > max(bodies), f"task {task} has {region} solution regions, not {max(bodies) + 1}"
    return out


def _shortcuts_fail(client, nb, stem: str) -> list[str]:
    """Run each delegating answer of the lesson in the executed kernel: it must pass the visible
    checks of its task and fail the hidden test. Returns what went wrong, one line each.

    nbclient stores each executed cell at its index in the notebook it runs, so the sources
    are read from a copy, and the executed notebook's cells are put back at the end.
    """
    wrong: list[str] = []
    executed, nb = nb, copy.deepcopy(nb)
    try:
        _run_shortcuts(client, nb, stem, wrong)
    finally:
        executed.cells[:] = nb.cells
    return wrong


def _run_shortcuts(client, nb, stem: str, wrong: list[str]) -> None:
    for (lesson, task), variants in DELEGATES.items():
        if lesson != stem:
            continue
        at = _check_cells(nb)[task - 1]
        check_cell = nb.cells[at]
        visible = nbformat.v4.new_code_cell(lessons.strip_source(check_cell.source))
        for bodies in variants:
            cells = _delegating_cells(nb, task, bodies)
            label = f"task {task}, {' / '.join(bodies.values())[:70]!r}"
            for i, source in cells.items():
                client.execute_cell(nbformat.v4.new_code_cell(source), i)
            try:
                client.execute_cell(visible, at)
            except CellExecutionError as err:
                wrong.append(
                    f"{label}: the shortcut fails the visible checks, not a real one: {err}"
                )
            try:
                client.execute_cell(nbformat.v4.new_code_cell(check_cell.source), at)
                wrong.append(f"{label}: an answer that only calls the library passes the check")
            except CellExecutionError as err:
                # the hidden test under without(...) says "is not done by hand"; an older hidden
                # test may catch the shortcut first (03_ntk task 3: the library's kernel of
                # (x, x) and of x alone differ by 4e-6 on the diagonal), which is as good
                if "TaskError" not in str(err):
                    wrong.append(f"{label}: the check fails for another reason: {err}")
            for i in cells:  # back to the solutions, for the next variant
                client.execute_cell(nbformat.v4.new_code_cell(nb.cells[i].source), i)


def _execute(nb, stop_at: int | None = None, after=None) -> tuple[int | None, str]:
    """Execute code cells in order; return (index of the first failing cell, its error) or (None, "").

    ``after(client)``, if given, runs in the same kernel once every cell has run.
    """
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(ROOT / "lessons" / "source")}},
    )
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if stop_at is not None and i > stop_at:
                break
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, i)
            except CellExecutionError as err:
                return i, str(err)
        if after is not None:
            after(client)
    return None, ""


def _check_cells(nb) -> list[int]:
    return [cells[-1] for cells in lessons.task_cells(nb)]


# ---------------------------------------------------------------- the transformation


def test_solution_region_becomes_stub_at_its_indentation():
    src = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    z = x + y\n    return z\n    ### END SOLUTION\n"
    assert lessons.strip_source(src) == "def f(x):\n    y = 1\n    raise NotImplementedError()"


def test_value_form_single_assignment_becomes_ellipsis():
    src = "a = 1\n### BEGIN SOLUTION\nresult = torch.eye(3) @ a\n### END SOLUTION\nprint(result)"
    assert lessons.strip_source(src) == "a = 1\nresult = ...  # YOUR CODE HERE\nprint(result)"


@pytest.mark.parametrize(
    "body", ["x = 1\ny = 2", "x == 1", "x += 1", "a, b = 1, 2", "x = y = 1", "f(x=1)"]
)
def test_anything_but_one_plain_assignment_becomes_raise(body):
    src = f"### BEGIN SOLUTION\n{body}\n### END SOLUTION"
    assert lessons.strip_source(src) == "raise NotImplementedError()"


def test_hidden_tests_are_removed_and_kept_on_request():
    src = "check(a)\n### BEGIN HIDDEN TESTS\ncheck(b)\n### END HIDDEN TESTS\ncheck(c)"
    assert lessons.strip_source(src) == "check(a)\ncheck(c)"
    assert lessons.strip_source(src, keep_hidden=True) == src


def test_two_regions_in_one_cell():
    src = (
        "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nb = 2\n"
        "### BEGIN SOLUTION\nfor i in r:\n    pass\n### END SOLUTION"
    )
    assert (
        lessons.strip_source(src) == "a = ...  # YOUR CODE HERE\nb = 2\nraise NotImplementedError()"
    )
    assert lessons.solution_lines(src) == ["a = 1", "for i in r:", "pass"]


@pytest.mark.parametrize(
    "src, match",
    [
        ("### BEGIN SOLUTION\nx = 1", "never ends"),
        ("x = 1\n### END SOLUTION", "without a matching BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n", "inside an open solution region"),
        ("### BEGIN HIDDEN TESTS\nx\n### END SOLUTION", "without a matching BEGIN"),
    ],
)
def test_unbalanced_markers_are_errors_that_say_where(src, match):
    with pytest.raises(lessons.LessonSyntaxError, match=match):
        lessons.strip_source(src, "lesson, cell 3")


def _toy():
    nb = nbformat.v4.new_notebook()
    nb.metadata["jupytext"] = {"formats": "md:myst"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Toy"),
        nbformat.v4.new_code_cell(
            "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
        ),
        nbformat.v4.new_code_cell(
            "assert f() == 1\n### BEGIN HIDDEN TESTS\nassert f() > 0\n### END HIDDEN TESTS",
            metadata={"tags": ["check"]},
        ),
        nbformat.v4.new_code_cell(
            "def g():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION"
        ),
        nbformat.v4.new_code_cell("assert g() == 2", metadata={"tags": ["check"]}),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="out")]
    nb.cells[1].execution_count = 4
    return nb


def test_student_notebook_clears_outputs_and_is_deterministic():
    nb = _toy()
    student = lessons.student_notebook(nb, "toy")
    assert "jupytext" not in student.metadata
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert code[0].source == "def f():\n    raise NotImplementedError()"
    assert code[1].source == "assert f() == 1" and code[1].metadata["tags"] == ["check"]
    assert nbformat.writes(student) == nbformat.writes(lessons.student_notebook(_toy(), "toy"))
    assert nb.cells[1].outputs, "the source notebook must not be modified"
    nbformat.validate(student)


def test_tasks_and_unsolve_task_touch_only_that_task():
    nb = _toy()
    assert lessons.task_cells(nb) == [[0, 1, 2], [3, 4]]
    second = lessons.unsolve_task(nb, 2)
    assert second.cells[1].source == nb.cells[1].source
    assert second.cells[3].source == "def g():\n    raise NotImplementedError()"
    first = lessons.unsolve_task(nb, 1)
    assert "HIDDEN TESTS" in first.cells[2].source, "hidden tests belong to the check and stay"
    with pytest.raises(ValueError, match="task must be in 1..2"):
        lessons.unsolve_task(nb, 3)


def test_nbgrader_metadata():
    nb = lessons.nbgrader_notebook(_toy(), "toy")
    meta = [c.metadata["nbgrader"] for c in nb.cells]
    assert meta[1]["solution"] and not meta[1]["locked"]
    assert meta[2]["grade"] and meta[2]["points"] == 1 and meta[2]["grade_id"] == "toy-check-1"
    assert meta[0]["locked"] and not meta[0]["grade"]
    assert len({m["grade_id"] for m in meta}) == len(meta)


def test_cli_build_and_check(tmp_path, monkeypatch, capsys):
    (tmp_path / "lessons" / "source").mkdir(parents=True)
    import jupytext

    jupytext.write(_toy(), tmp_path / "lessons" / "source" / "01_toy.md", fmt="md:myst")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["lessons", "build", "--check"]) == 1
    assert "stale: lessons/student/01_toy.ipynb" in capsys.readouterr().out
    assert cli.main(["lessons", "build"]) == 0
    assert cli.main(["lessons", "build", "--check"]) == 0
    (tmp_path / "lessons" / "student" / "99_orphan.ipynb").write_text("{}")
    assert cli.main(["lessons", "build", "--check"]) == 1
    assert cli.main(["lessons", "nbgrader", str(tmp_path / "course")]) == 0
    assert (tmp_path / "course" / "source" / "01_toy" / "01_toy.ipynb").exists()


# ---------------------------------------------------------------- the lessons themselves


BOOK_URL = (
    "https://dlt-book.github.io/dlt/book/"  # the rendered book (from _config.yml's repository url)
)


def test_lessons_are_named_by_their_chapters():
    assert SOURCES, "no lesson sources"
    for src in SOURCES:
        assert (ROOT / "book" / f"{src.stem}.md").exists(), (
            f"{src.name}: a lesson is named by its chapter's file (book/{src.stem}.md does not exist)"
        )


def test_student_copies_up_to_date():
    stale = lessons.build(ROOT, check=True)
    assert not stale, (
        f"stale student copies {[p.name for p in stale]}: run `make lessons` and commit lessons/student/"
    )


@pytest.mark.parametrize("src", SOURCES, ids=IDS)
def test_lesson_structure(src):
    nb = lessons.read_source(src)
    checks = _check_cells(nb)
    assert 3 <= len(checks) <= 6, f"{src.name}: {len(checks)} tasks, a lesson has 3 to 6"
    for k, i in enumerate(checks, start=1):
        assert f'task_check("Task {k}")' in nb.cells[i].source, (
            f"{src.name}: check {k} must use task_check('Task {k}')"
        )
    for cells in lessons.task_cells(nb):
        assert any(lessons.BEGIN_SOLUTION in nb.cells[i].source for i in cells), (
            f"{src.name}: a task has no solution"
        )
    long = [
        ln
        for c in nb.cells
        if c.cell_type == "code"
        for ln in c.source.splitlines()
        if len(ln) > 88
    ]
    assert not long, f"{src.name}: code lines over 88 columns: {long[:3]}"
    for k, cells in enumerate(lessons.task_cells(nb), start=1):
        statement = "".join(
            nb.cells[i].source for i in range(cells[-1]) if nb.cells[i].cell_type == "markdown"
        ).split(f"## Task {k}")[-1]
        assert ALLOWED in statement, f"{src.name}: task {k} does not say its allowed calls"
        hides = "without(" in nb.cells[cells[-1]].source
        assert hides == ((src.stem, k) in DELEGATES), (
            f"{src.name}: task {k}: a hidden test under without(...) and a DELEGATES entry go "
            "together (the entry proves the hidden test fails a shortcut)"
        )
    recap = nb.cells[1].source + nb.cells[0].source
    assert f"{BOOK_URL}{src.stem}.html" in recap, (
        f"{src.name}: the recap must link to its chapter in the rendered book ({BOOK_URL}{src.stem}.html), "
        "an absolute link that works in a notebook handed out alone"
    )


# Lines that say nothing on their own (a closing bracket, or one closing a `with` or `for`
# header, the opening of a call or a bare
# number that a formatter put on a line of its own) appear in solutions and in student
# code alike.
_BARE = re.compile(r"^([)\]}],?)*:?$|^[\w.]+\($|^-?[\d.]+(e[+-]?\d+)?,?$")


@pytest.mark.parametrize("src", SOURCES, ids=IDS)
def test_student_copy_holds_no_solution_line(src):
    nb = lessons.read_source(src)
    secret = {
        ln
        for cell in nb.cells
        for ln in lessons.solution_lines(cell.source, src.name)
        if not _BARE.match(ln)
    }
    student = nbformat.read(lessons.student_path(src), as_version=4)
    shown = {ln.strip() for cell in student.cells for ln in cell.source.splitlines()}
    assert not secret & shown, (
        f"{src.name}: solution lines leak into the student copy: {sorted(secret & shown)}"
    )
    text = lessons.student_path(src).read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text


@pytest.mark.notebook
@pytest.mark.parametrize("src", SOURCES, ids=IDS)
def test_source_passes_every_check(src):
    nb = lessons.read_source(src)
    shortcuts: list[str] = []

    def after(client):
        shortcuts.extend(_shortcuts_fail(client, nb, src.stem))

    with kernel_clock() as clock:
        failed, err = _execute(nb, after=after)
    print(clock.line(src.stem))
    assert failed is None, f"{src.name}: cell {failed} fails with the solutions in:\n{err}"
    assert not shortcuts, f"{src.name}: " + "\n".join(shortcuts)
    outputs = "".join(o.get("text", "") for i in _check_cells(nb) for o in nb.cells[i].outputs)
    assert outputs.count("✔") >= len(_check_cells(nb)), (
        f"{src.name}: every check cell must print its ✔ lines"
    )
    TIMINGS.mkdir(parents=True, exist_ok=True)
    (TIMINGS / f"lesson_{src.stem}.json").write_text(
        json.dumps(
            {"lesson": src.stem, "cpu_s": round(clock.cpu, 1), "wall_s": round(clock.wall, 1)}
        )
    )
    assert clock.cpu < BUDGET_S, over_budget_message(
        src.name, clock, None, matched="every check passed with the solutions in"
    )


@pytest.mark.notebook
@pytest.mark.parametrize("src", SOURCES, ids=IDS)
def test_student_copy_fails_at_the_first_check(src):
    student = nbformat.read(lessons.student_path(src), as_version=4)
    first = _check_cells(student)[0]
    failed, err = _execute(student, stop_at=first)
    assert failed == first, (
        f"{src.name}: the student copy must run up to task 1's check and fail there, "
        f"failed at cell {failed}:\n{err}"
    )
    assert "TaskError" in err and "Task 1 is not solved yet" in err, err


@pytest.mark.notebook
@pytest.mark.parametrize("src, task", TASKS, ids=[f"{s.stem}-task{k}" for s, k in TASKS])
def test_each_check_fails_when_only_its_task_is_unsolved(src, task):
    variant = lessons.unsolve_task(lessons.read_source(src), task)
    target = _check_cells(variant)[task - 1]
    failed, err = _execute(variant, stop_at=target)
    assert failed == target, (
        f"{src.name}: with only task {task} unsolved, execution must fail at its check "
        f"(cell {target}), failed at {failed}:\n{err}"
    )
    assert f"Task {task} is not solved yet" in err, err


def test_nbgrader_config_names_an_absolute_root_that_moves_with_the_folder(tmp_path):
    """nbgrader warned "root '.' is not absolute" three times per command with a relative root."""
    from traitlets.config.loader import PyFileConfigLoader

    course = tmp_path / "course"
    from dlt.book.lessons import write_nbgrader

    written = write_nbgrader(course, ROOT)
    assert course / "nbgrader_config.py" in written
    moved = tmp_path / "elsewhere" / "course"
    moved.parent.mkdir()
    course.rename(moved)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(moved)).load_config()
    assert config.CourseDirectory.root == str(moved)
    assert config.CourseDirectory.course_id == "dlt"
