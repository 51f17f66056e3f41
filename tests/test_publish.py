"""Publishing: the GitHub Actions workflows, one repository URL setting, versions, citation, licences.

Nothing here can reach GitHub, so the workflows are tested by what can be checked locally: their
structure (the test step runs exactly the README's test command, the cache key is what decides
the environment, the book step publishes the folder `make book` writes) and a dry run
(`make -n`) of every `make` command their steps run. `make lint` lints them (schema, zizmor,
actionlint).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def _tool(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


set_repository = _tool("set_repository", ROOT / "tools" / "set_repository.py")


def _workflow(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.DOTALL)
    assert block, "README.md has no bash block with the test command"
    commands = [ln.split("#")[0].strip() for ln in block.group(1).splitlines()]
    tests = [c for c in commands if c.startswith("make test")]
    assert len(tests) == 1, f"README's first bash block should name one test command: {commands}"
    return tests[0]


def _run_lines(job: dict) -> list[str]:
    lines = []
    for step in job["steps"]:
        lines += [ln.strip() for ln in step.get("run", "").splitlines() if ln.strip()]
    return lines


def test_test_workflow_runs_the_readme_test_command_on_push_and_pull_request():
    wf = _workflow("test.yml")
    assert {"push", "pull_request"} <= set(wf["on"])
    (job,) = wf["jobs"].values()
    assert job["steps"][-1]["run"].strip() == _readme_test_command() == "make test"
    assert job["timeout-minutes"] <= 90
    setup = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
    assert setup and str(setup[0]["with"]["python-version"]) == "3.11"


def test_test_workflow_caches_the_environment_on_what_decides_it():
    (job,) = _workflow("test.yml")["jobs"].values()
    (cache,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@")]
    paths = cache["with"]["path"].split()
    assert ".venv" in paths and "~/.cache/pip" in paths
    stamp = re.search(r"^\$\(STAMP\):(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert stamp, "Makefile has no $(STAMP) rule"
    deps = stamp.group(1).split()
    hashed = re.findall(
        r"'([^']+)'", re.search(r"hashFiles\(([^)]*)\)", cache["with"]["key"]).group(1)
    )
    assert sorted(hashed) == sorted(deps) == ["constraints/cpu.txt", "pyproject.toml"]


def test_book_workflow_publishes_what_make_book_writes():
    wf = _workflow("book.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["concurrency"]["group"]
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    assert "make book" in _run_lines(build)
    makefile = (ROOT / "Makefile").read_text()
    book_rule = re.search(r"^book: .*?(?=^\S)", makefile, re.MULTILINE | re.DOTALL).group(0)
    assert "jupyter-book build . " in book_rule  # writes _build/html (Jupyter Book's default)
    assert "open _build/html/index.html" in book_rule
    (upload,) = [
        s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@")
    ]
    assert upload["with"]["path"] == "_build/html"
    assert "cp _build/latex/book.pdf _build/html/book.pdf" in _run_lines(build)
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write", "contents": "read"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])
    for name in ("test.yml", "book.yml"):
        assert _workflow(name)["permissions"] == {"contents": "read"}


def _recipe(target: str) -> str | None:
    m = re.search(
        rf"^{re.escape(target)}:.*\n((?:\t.*\n|#.*\n)*)",
        (ROOT / "Makefile").read_text(),
        re.MULTILINE,
    )
    return m.group(1) if m else None


@pytest.mark.parametrize("name", ["test.yml", "book.yml"])
def test_workflow_steps_dry_run(name):
    """Every `make` command a workflow runs is a Makefile target, and `make -n` of it succeeds.

    `make -n` still runs recipe lines that call `$(MAKE)` (GNU make does, to show what the sub-make
    would do), so a target such as `test`, whose one recipe line calls `$(MAKE)`, is only checked
    to exist: dry-running it would run the whole test suite.
    """
    wf = _workflow(name)
    targets = []
    for job in wf["jobs"].values():
        for line in _run_lines(job):
            m = re.match(r"^(?:sudo )?make (\S+)$", line)
            if m:
                targets.append(m.group(1))
        for step in job["steps"]:
            uses = step.get("uses")
            if uses:
                assert re.match(r"^actions/[a-z-]+@(v\d+|[0-9a-f]{40})$", uses), uses
    assert targets, f"{name} runs no make target"
    for target in targets:
        recipe = _recipe(target)
        assert recipe is not None, (
            f"{name} runs `make {target}`, which the Makefile does not define"
        )
        if "$(MAKE)" in recipe:
            continue
        res = subprocess.run(
            ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert res.returncode == 0, f"make -n {target}: {res.stderr}"


def test_pages_url_is_derived_from_the_repository_url():
    assert (
        set_repository.pages_url("https://github.com/dlt-book/dlt")
        == "https://dlt-book.github.io/dlt/"
    )
    assert (
        set_repository.pages_url("https://github.com/Alice/notes/")
        == "https://alice.github.io/notes/"
    )
    assert (
        set_repository.pages_url("https://github.com/bob/bob.github.io") == "https://bob.github.io/"
    )
    with pytest.raises(ValueError, match="OWNER/REPO"):
        set_repository.pages_url("https://gitlab.com/a/b")


def test_every_derived_place_agrees_with_config():
    found = set_repository.problems(ROOT)
    assert not found, (
        "these places disagree with _config.yml's repository.url; run `python tools/set_repository.py`:\n"
        + "\n".join(found)
    )
    repo = set_repository.repository_url(ROOT)
    pages = set_repository.pages_url(repo)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert pages in readme.split("\n## ")[0], (
        "the README's first screen must say where the book lives"
    )


def test_a_fork_edits_one_line_and_the_script_rewrites_the_rest(tmp_path):
    for path in [ROOT / "_config.yml", *set_repository.derived_files(ROOT)]:
        dest = tmp_path / path.relative_to(ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
    config = tmp_path / "_config.yml"
    config.write_text(
        config.read_text().replace(
            "https://github.com/dlt-book/dlt", "https://github.com/alice/dl-notes"
        )
    )
    assert any("CITATION.cff" in p for p in set_repository.problems(tmp_path))
    script = ROOT / "tools" / "set_repository.py"
    res = subprocess.run(
        [sys.executable, script, "--root", tmp_path, "--check"], capture_output=True, text=True
    )
    assert res.returncode == 1 and "run: python tools/set_repository.py" in res.stdout
    res = subprocess.run(
        [sys.executable, script, "--root", tmp_path], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert not set_repository.problems(tmp_path)
    for path in set_repository.derived_files(tmp_path):
        text = path.read_text()
        assert "dlt-book.github.io" not in text and "github.com/dlt-book" not in text, path
    assert "https://alice.github.io/dl-notes/" in (tmp_path / "README.md").read_text()
    cff = yaml.safe_load((tmp_path / "CITATION.cff").read_text())
    assert cff["repository-code"] == "https://github.com/alice/dl-notes"
    assert cff["url"] == "https://alice.github.io/dl-notes/"


def test_citation_cff_is_valid_and_names_the_newest_release():
    import jsonschema

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    for key in ("version", "date-released"):  # YAML reads an unquoted date as a date
        cff[key] = str(cff[key])
    schema = json.loads(
        (ROOT / "tests" / "data" / "citation-file-format-1.2.0.schema.json").read_text()
    )
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(cff)
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["authors"] == [{"name": "The dlt authors"}]
    assert cff["preferred-citation"]["type"] == "book"
    assert set(cff["license"]) == {"MIT", "CC-BY-4.0"}
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    newest = re.search(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d\d-\d\d)$", changelog, re.MULTILINE)
    assert newest, "CHANGELOG.md has no released version ## [X.Y.Z] - YYYY-MM-DD"
    assert (cff["version"], cff["date-released"]) == newest.groups()
    assert cff["preferred-citation"]["version"] == cff["version"]


def test_licences_are_stated_in_the_readme_and_on_the_front_page():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    cc = (ROOT / "LICENSES" / "CC-BY-4.0.txt").read_text(encoding="utf-8")
    assert cc.startswith("Attribution 4.0 International")
    assert "Creative Commons Attribution 4.0 International Public License" in cc
    for page in ("README.md", "book/intro.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        assert "CC BY 4.0" in text and "MIT" in text, page


def test_version_comes_from_git_tags():
    import tomllib

    import dlt

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert any(r.startswith("setuptools-scm") for r in project["build-system"]["requires"])
    assert project["tool"]["setuptools_scm"]["fallback_version"] == "0.0.0"
    assert re.match(r"^\d+\.\d+", dlt.__version__), dlt.__version__
    ext = _tool("dlt_book_ext", ROOT / "_ext" / "dlt_book.py")
    assert re.match(r"^\d+\.\d+\.\d+", ext.book_version())


def test_static_explorer_carries_its_first_frame_as_png():
    import matplotlib.pyplot as plt
    from IPython.core.formatters import DisplayFormatter

    from dlt import viz

    def draw(a):
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, 1], [0, a])
        return fig

    out = viz.explore(draw, mode="static", dpi=20, a=[1, 2, 3])
    data, _ = DisplayFormatter().format(out)
    assert {"text/html", "image/png", "text/plain"} <= set(data)
    first = re.search(r'src="data:image/png;base64,([^"]+)"', data["text/html"]).group(1)
    png = data["image/png"]
    assert (png if isinstance(png, bytes) else base64.b64decode(png)) == base64.b64decode(first)


def test_static_explorer_opens_on_and_prints_its_start_frame():
    """``start`` picks the frame the static page opens on and the PDF prints (the one the text
    discusses), not the first of the grid."""
    import matplotlib.pyplot as plt
    from IPython.core.formatters import DisplayFormatter

    from dlt import viz

    def draw(a, b):
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, 1], [0, a * b])
        return fig

    out = viz.explore(draw, mode="static", dpi=20, start={"a": 3, "b": 20}, a=[1, 2, 3], b=[10, 20])
    data, _ = DisplayFormatter().format(out)
    html = data["text/html"]
    assert 'data-frame="5"' in html  # row-major: a index 2, b index 1 -> 2 * 2 + 1
    frames = re.findall(
        r'class="dlt-explorer-frame"[^>]*style="display:(\w+)[^"]*" src="data:image/png;base64,([^"]+)"',
        html,
    )
    assert [d for d, _ in frames] == ["none"] * 5 + ["block"]
    png = data["image/png"]
    assert (png if isinstance(png, bytes) else base64.b64decode(png)) == base64.b64decode(
        frames[5][1]
    )
    assert re.findall(r'value="(\d)"', html) == ["2", "1"]
    with pytest.raises(ValueError, match="start"):
        viz.explore(draw, mode="static", dpi=20, start={"c": 1}, a=[1], b=[1])
    with pytest.raises(ValueError, match="start"):
        viz.explore(draw, mode="static", dpi=20, start={"a": 5}, a=[1], b=[1])


def test_book_extension_gives_old_explorer_outputs_their_first_frame():
    """Notebooks executed before explorers carried a PNG still print right (HTML builders unaffected)."""
    ext = _tool("dlt_book_ext", ROOT / "_ext" / "dlt_book.py")
    html = '<div class="dlt-explorer"><img class="dlt-explorer-frame" alt="f" style="x" src="data:image/png;base64,QUJD"></div>'
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "outputs": [{"output_type": "execute_result", "data": {"text/html": [html]}}],
            }
        ]
    }
    source = [json.dumps(nb)]

    class App:
        class env:
            @staticmethod
            def doc2path(docname):
                return Path(docname + ".ipynb")

    ext._explorer_first_frames(App, "book/99_x", source)
    assert json.loads(source[0])["cells"][0]["outputs"][0]["data"]["image/png"] == "QUJD"


def test_latex_gets_the_mathjax_macros():
    ext = _tool("dlt_book_ext", ROOT / "_ext" / "dlt_book.py")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]

    class Config:
        mathjax3_config = config["mathjax3_config"]

    preamble = ext._latex_macros(Config)
    for name, body in config["mathjax3_config"]["tex"]["macros"].items():
        assert f"\\renewcommand{{\\{name}}}{{{body}}}" in preamble
