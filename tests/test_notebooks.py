"""Notebook tests: every chapter executed once, compared with its committed outputs, within budget.

Each chapter runs once with papermill (parameters injected, as `dlt run` and GPU runs do). The
cells tagged ``nbval-check-output`` of that run must print exactly what the committed
notebook printed (the guarantee nbval's ``--nbval-lax`` mode gave, without a second
execution), every ``dlt.check`` in it must hold (a failing check fails the run), and the run
must use at most 60 s of CPU time in its kernel (wall time is printed beside it; see
``tests/budget.py``). Pairs of ``.md`` and ``.ipynb`` must agree.
"""

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from budget import BUDGET_S, kernel_clock, over_budget_message

from dlt.check import MIME as CLAIMS  # the mime type of a check's structured output

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))
# The budget is 60 s of the kernel's CPU time for a chapter at SCALE = 1 (tests/budget.py says
# how it is measured and why CPU time: another job on the machine stretches wall time, not the
# CPU time the chapter uses). Measured at one thread, a lightly loaded machine: chapters 1, 2, 3,
# 6 and 12 took 19, 17, 24, 28 and 31 s of CPU after their revision for time.
TIMINGS = ROOT / "_build" / "timings"
# The cell tag nbval's --nbval-lax mode honours as its `# NBVAL_CHECK_OUTPUT` comment; cell
# metadata, so readers do not see it (tools/check_output_tag.py turns comments into the tag).
TAG = "nbval-check-output"
COMMENT = "# NBVAL_CHECK_OUTPUT"
CODE_COLUMNS = 88  # what the book's column shows without a scroll bar


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def _checked_outputs(nb) -> list[tuple[str, list[str]]]:
    """(source, printed text) of every cell tagged nbval-check-output, in order.

    A check's structured output (the claims under the vendor mime type ``CLAIMS``) is part of
    what a cell printed: its JSON text, keys sorted, follows the cell's text. Consecutive
    pieces of stdout are one text: where the kernel cuts a cell's printing into pieces
    depends on timing (a loaded machine flushes between two prints), not on the chapter.
    """
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code" or TAG not in cell.metadata.get("tags", []):
            continue
        texts: list[str] = []
        stdout = None  # the stdout printed since the last other output
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                stdout = (stdout or "") + "".join(o.get("text", ""))
                continue
            if stdout is not None:
                texts.append(stdout.rstrip())
                stdout = None
            if o.get("output_type") in ("execute_result", "display_data"):
                plain = o.get("data", {}).get("text/plain")
                if plain is not None and not "".join(plain).startswith("<Figure"):
                    texts.append("".join(plain).rstrip())
                if CLAIMS in o.get("data", {}):
                    texts.append(CLAIMS + " " + json.dumps(o["data"][CLAIMS], sort_keys=True))
        if stdout is not None:
            texts.append(stdout.rstrip())
        out.append((cell.source, texts))
    return out


@pytest.mark.parametrize("md", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_pair_in_sync(md):
    nb_path = md.with_suffix(".ipynb")
    assert nb_path.exists(), f"{md.name} has no paired notebook: run `jupytext --sync {md}`"
    text = jupytext.read(md)
    nb = nbformat.read(nb_path, as_version=4)
    assert _cells(text) == _cells(nb), (
        f"{md.name} and {nb_path.name} differ: edit the .md, then `make execute CH={md.stem[:2]}`"
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_conventions(md):
    nb = jupytext.read(md)
    opening = nb.cells[0].source if nb.cells and nb.cells[0].cell_type == "markdown" else ""
    label = f"(ch:{md.stem[3:]})="
    assert opening.startswith(f"{label}\n# "), (
        f"a chapter opens with its label line {label} and then its title"
    )
    titles = [
        ln for c in nb.cells if c.cell_type == "markdown" for ln in c.source.splitlines()
        if ln.startswith("# ")
    ]  # fmt: skip
    assert len(titles) == 1, f"one title (a `# ` heading) per chapter, found {titles}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and "parameters" in code[0].metadata.get("tags", []), (
        "first code cell must be tagged parameters"
    )
    params = code[0].source
    for name in ("DEVICE", "SCALE", "SEED"):
        assert f"{name} =" in params, f"parameters cell must define {name}"
    install = code[1]
    assert "remove-cell" in install.metadata.get("tags", []) and "%pip install" in install.source, (
        "the cell after the parameters installs dlt where it is missing (Colab, Binder): "
        "run tools/install_cell.py"
    )
    url = re.search(
        r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:[ \t]*(\S+)",
        (ROOT / "_config.yml").read_text(encoding="utf-8"),
        re.M,
    ).group(1)
    assert f"git+{url}" in install.source, (
        f"the install cell must name the repository of _config.yml ({url})"
    )
    assert "dlt.setup(DEVICE, SEED, scale=SCALE)" in code[2].source, (
        "the set-up cell: dev = dlt.setup(DEVICE, SEED, scale=SCALE)"
    )
    assert any(TAG in c.metadata.get("tags", []) for c in code), (
        f"no cell checks its printed numbers (tag the cell {TAG})"
    )
    commented = [c.source.splitlines()[0] for c in code if c.source.lstrip().startswith(COMMENT)]
    assert not commented, (
        f"{len(commented)} cells start with {COMMENT}, which readers see: "
        "run tools/check_output_tag.py (it tags them instead)"
    )
    assert any("check." in c.source for c in code), "no dlt.check claim in the chapter"
    assert any("explore(" in c.source for c in code), "no explorer in the chapter"
    for c in code:
        assert not re.search(r"^\s*_ = check\.", c.source, re.M), (
            "show a check as the cell's last expression, not `_ = check...`"
        )
    long = [ln for c in code for ln in c.source.splitlines() if len(ln) > CODE_COLUMNS]
    assert not long, (
        f"code lines over {CODE_COLUMNS} columns (they are cut on the page): {long[:3]}"
    )
    size = md.with_suffix(".ipynb").stat().st_size
    assert size < 1_500_000, f"{md.stem}.ipynb is {size // 1024} KiB, over the 1.5 MB budget"


@pytest.mark.notebook
@pytest.mark.parametrize("md", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_executes_matches_its_outputs_within_budget(md, tmp_path):
    clock = _run_within_budget(
        md.with_suffix(".ipynb"), tmp_path / f"{md.stem}.ipynb", md.stem, BUDGET_S
    )
    TIMINGS.mkdir(parents=True, exist_ok=True)
    (TIMINGS / f"{md.stem}.json").write_text(
        json.dumps(
            {"chapter": md.stem, "cpu_s": round(clock.cpu, 1), "wall_s": round(clock.wall, 1)}
        )
    )


def _run_within_budget(ipynb: Path, out: Path, name: str, budget: float, **parameters):
    """Execute a committed notebook with papermill; assert its CPU budget, then its outputs."""
    import papermill as pm

    committed = nbformat.read(ipynb, as_version=4)
    with kernel_clock() as clock:
        pm.execute_notebook(
            str(ipynb),
            str(out),
            parameters={"DEVICE": "cpu", "SCALE": 1, "SEED": 0, **parameters},
            kernel_name="python3",
            cwd=str(ipynb.parent),
            progress_bar=False,
        )
    print(clock.line(name, budget))
    mismatch = _mismatch(name, nbformat.read(out, as_version=4), committed)
    assert clock.cpu < budget, over_budget_message(name, clock, mismatch, budget)
    assert mismatch is None, f"{mismatch}\n(within budget: {clock.line(name, budget)})"
    return clock


def _mismatch(name: str, ran_nb, committed) -> str | None:
    """None when the checked cells of the run print what the committed notebook printed."""
    ran, want = _checked_outputs(ran_nb), _checked_outputs(committed)
    if [s for s, _ in ran] != [s for s, _ in want]:
        return f"{name}: the checked cells differ from the committed notebook"
    for (source, got), (_, expected) in zip(ran, want, strict=True):
        first = (source.strip().splitlines() or [""])[0]
        if got != expected:
            return (
                f"{name}: the cell starting `{first[:70]}` printed\n{got}\nbut the committed "
                f"notebook has\n{expected}\n(refresh it with `make execute CH={name[:2]}` if the "
                "change is intended)"
            )
    return None


def test_printing_cut_into_pieces_by_the_kernel_is_the_same_printing():
    """Two prints that reached the notebook as one piece of stdout or as two are the same
    output (the kernel cuts on timing); different text, or text on the other side of a
    check's output, is not."""
    new = nbformat.v4

    def nb(*outputs):
        cell = new.new_code_cell("print('a'); print('b')", metadata={"tags": [TAG]})
        cell.outputs = list(outputs)
        return new.new_notebook(cells=[cell])

    def out(text):
        return new.new_output("stream", name="stdout", text=text)

    shown = new.new_output("execute_result", data={"text/plain": "✔ x"}, execution_count=1)
    one, two = nb(out("a\nb\n")), nb(out("a\n"), out("b\n"))
    assert _checked_outputs(one) == _checked_outputs(two)
    assert _mismatch("99_x", one, two) is None
    assert _mismatch("99_x", nb(out("a\nc\n")), two) is not None
    assert _checked_outputs(nb(out("a\n"), shown, out("b\n")))[0][1] == ["a", "✔ x", "b"]
    assert _mismatch("99_x", nb(out("a\n"), shown, out("b\n")), nb(out("a\nb\n"), shown))


# ---------------------------------------------------------------- the budget itself, on a tiny notebook


def _tiny_notebook(path: Path, printed: str = "answer = 42") -> Path:
    """A generated chapter: a parameters cell, a checked cell, and cells that burn CPU or sleep."""
    new = nbformat.v4
    nb = new.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    check = new.new_code_cell("print('answer =', 6 * 7)", metadata={"tags": [TAG]})
    check.outputs = [new.new_output("stream", name="stdout", text=printed + "\n")]
    nb.cells = [
        new.new_code_cell(
            'DEVICE = "cpu"\nSCALE = 1\nSEED = 0\nBURN = 0.0\nSLEEP = 0.0',
            metadata={"tags": ["parameters"]},
        ),
        check,
        new.new_code_cell(
            "import time\n\nt0 = time.process_time()\n"
            "while time.process_time() - t0 < BURN:\n    pass\ntime.sleep(SLEEP)"
        ),
    ]
    nbformat.write(nb, path)
    return path


@pytest.mark.notebook
def test_budget_fails_a_notebook_made_slower_on_purpose(tmp_path):
    nb = _tiny_notebook(tmp_path / "99_slow.ipynb")
    with pytest.raises(AssertionError) as err:
        _run_within_budget(nb, tmp_path / "out.ipynb", "99_slow", budget=2.0, BURN=3.0)
    message = str(err.value)
    assert re.search(r"99_slow used \d+\.\d s of CPU, over its 2 s CPU budget", message), message
    assert "wall time" in message and "not asserted" in message
    assert "outputs matched the committed notebook" in message
    assert "DLT_BUDGET_S=" in message


@pytest.mark.notebook
def test_budget_message_says_when_outputs_also_differ(tmp_path):
    nb = _tiny_notebook(tmp_path / "99_slow.ipynb", printed="answer = 41")
    with pytest.raises(AssertionError) as err:
        _run_within_budget(nb, tmp_path / "out.ipynb", "99_slow", budget=2.0, BURN=3.0)
    message = str(err.value)
    assert "over its 2 s CPU budget" in message
    assert "outputs also differ" in message and "answer = 41" in message


@pytest.mark.notebook
def test_budget_counts_cpu_time_not_wall_time(tmp_path):
    """A notebook that waits 3 s (as it would behind other jobs) passes a 2 s CPU budget."""
    nb = _tiny_notebook(tmp_path / "99_waits.ipynb")
    clock = _run_within_budget(nb, tmp_path / "out.ipynb", "99_waits", budget=2.0, SLEEP=3.0)
    assert clock.wall > 3.0 > 2.0 > clock.cpu
