"""The live path in a real browser: JupyterLab driven by headless Chromium (`make browser-test`).

Not collected by a plain `pytest tests` (the file name does not start with test_). It copies
a chapter and a student lesson into a temporary folder, starts JupyterLab on a free loopback
port (no token, no browser, MyST rendering by jupyterlab-myst), and drives it through
Playwright with Debian's Chromium, as a reader would:

1. open the chapter: its MyST markup renders (no raw ``:::{`` or ``{cite}`` left in the
   text of the rendered markdown cells); run all cells; every cell finishes without error;
   the explorer shows live sliders (ipywidgets); moving one with the keyboard changes the
   figure under it;
2. open a student lesson: run all cells; execution stops at the check of task 1, whose
   output is the task's message alone ("Task 1 is not solved yet ..."), a few lines, not a
   traceback through contextlib; the cells after it did not run;
3. the chapter's citations and cross-references read as text ("(Jacot et al. 2018)", "the
   figure above (...)"), not as raw keys: the copies are those `make lab` writes
   (tools/lab_copy.py), since jupyterlab-myst resolves neither a .bib file nor other cells'
   labels (executablebooks/jupyterlab-myst#127);
4. stop the server.

Screenshots go to _build/screenshots/lab_*.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import lab_copy  # noqa: E402  (tools/lab_copy.py)

SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("DLT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
CHAPTER = "01_generalization"  # the fastest chapter with an explorer
RUN_TIMEOUT_MS = 240_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    # the copies `make lab` opens: citations and cross-references written out (tools/lab_copy.py)
    lab_copy.main(work)
    lesson = sorted((ROOT / "lessons" / "student").glob("*.ipynb"))[0]
    # Lessons share their chapter's file name: the lesson goes in a folder of its own.
    (work / "lesson").mkdir()
    shutil.copy(lesson, work / "lesson")
    settings = work / "_settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (no windowing), so the test sees outputs that are scrolled off screen.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    notes = work / "_settings" / "@jupyterlab" / "apputils-extension"
    notes.mkdir(parents=True)
    (notes / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port = _free_port()
    env = dict(os.environ, DLT_STATIC="0", DLT_PROGRESS="0", DLT_DEVICE="cpu", OMP_NUM_THREADS="1")
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
        "--allow-root",
        f"--ServerApp.root_dir={work}", f"--LabApp.user_settings_dir={work / '_settings'}",
        f"--LabApp.workspaces_dir={work / '_workspaces'}", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    log = open(work / "lab.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail(
            f"JupyterLab did not start (90 s at most):\n{(work / 'lab.log').read_text()[-3000:]}"
        )
    yield {"url": url, "lesson": f"lesson/{lesson.name}", "work": work}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def page(lab):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set DLT_CHROMIUM)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        p = context.new_page()
        p.set_default_timeout(60_000)
        yield p
        browser.close()


def _open(page, lab, name: str) -> None:
    page.goto(f"{lab['url']}/lab/tree/{name}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    # the kernel is up when the toolbar's kernel status reads Idle
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');"
        " return s && s.getAttribute('data-status') === 'idle'; }",
        timeout=90_000,
    )


def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


_PROMPTS = (
    "() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell .jp-InputPrompt'))"
    ".map(e => e.textContent.trim())"
)


def _run_all(page) -> None:
    """Clear every output, run all cells, wait until the run has started and ended."""
    _menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(f"() => ({_PROMPTS})().every(p => p === '[ ]:' || p === '')")
    _menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        # a kernel that starts on a loaded machine may take over a minute to run its first cell
        f"() => ({_PROMPTS})().some(p => p !== '[ ]:' && p !== '')",
        timeout=RUN_TIMEOUT_MS,
    )
    page.wait_for_function(
        # the indicator may not be in the toolbar yet when this first runs: a null is "not yet",
        # not an error (wait_for_function gives up on a predicate that throws)
        f"() => !({_PROMPTS})().some(p => p.includes('*')) && "
        "document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator')"
        "?.getAttribute('data-status') === 'idle'",
        timeout=RUN_TIMEOUT_MS,
    )


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"lab_{name}.png"), full_page=False)


# The rendered text of the markdown cells. jupyterlab-myst renders into `.myst` elements inside
# the cell, beside an empty `.jp-MarkdownOutput`: reading only the latter read "" and saw nothing.
_MARKDOWN_JS = """() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell'))
  .map(c => { const m = c.querySelector('.myst') || c.querySelector('.jp-RenderedMarkdown');
              return m ? m.innerText : ''; })
  .join('\\n')"""
_LABEL = re.compile(r"\b(?:fig|eq|thm|explorer|ch|sec|tab|def|lem|prop|ex|sol):[A-Za-z0-9_-]+")


def _bib_keys() -> list[str]:
    return re.findall(r"@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text(encoding="utf-8"))


def _markdown_text(page) -> str:
    """The chapter's rendered markdown, once there is enough of it: jupyterlab-myst renders the
    cells one after another after the notebook opens, so a test that read as soon as a few
    cells existed read 658 characters of chapter 1 on a loaded machine (the rest still empty)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_function(
        "() => document.querySelectorAll('.jp-MarkdownCell .myst, .jp-MarkdownCell .jp-RenderedMarkdown').length > 5"
    )
    try:  # the text itself long enough, not just the cells present
        page.wait_for_function(f"() => ({_MARKDOWN_JS})().length > 2000", timeout=60_000)
    except PlaywrightTimeout:
        pass  # the assertion below says how much there was
    text = page.evaluate(_MARKDOWN_JS)
    assert len(text) > 2000, f"the rendered markdown of the chapter reads {len(text)} characters"
    return text


def test_chapter_runs_live_and_its_explorer_responds(lab, page):
    _open(page, lab, f"{CHAPTER}.ipynb")
    rendered = _markdown_text(page)
    assert ":::{" not in rendered and "```{prf:" not in rendered, (
        "MyST blocks show raw in JupyterLab"
    )
    assert "{cite}" not in rendered, "MyST citations show raw in JupyterLab"
    _run_all(page)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    tracebacks = [e for e in errors.all_inner_texts() if "Error" in e or "Traceback" in e]
    assert not tracebacks, f"the chapter raised in JupyterLab: {tracebacks[:1]}"
    # a check's output bundle holds text/plain and the claims' vendor JSON type, which Lab has
    # no renderer for: Lab must show the check line as text, and nothing for the JSON
    checks = page.locator(
        ".jp-OutputArea-output[data-mime-type='text/plain']", has_text="✔"
    ).all_inner_texts()
    assert any("measured" in t for t in checks), "no check line shows as text in JupyterLab"
    outputs = page.locator(".jp-OutputArea-output")
    kinds = {o.get_attribute("data-mime-type") for o in outputs.all()}
    assert "application/vnd.dlt.claims+json" not in kinds, kinds
    assert not [t for t in outputs.all_inner_texts() if "No renderer" in t], (
        "JupyterLab reports an output it cannot render"
    )
    slider = page.locator(".widget-slider .noUi-handle, .widget-slider .slider-handle").first
    try:
        slider.wait_for(state="visible", timeout=60_000)
    except Exception:
        _shot(page, "chapter_no_slider")
        html = page.evaluate(
            "() => Array.from(document.querySelectorAll('.jupyter-widgets, .jp-OutputArea-output'))"
            ".slice(-6).map(e => e.className + ' :: ' + e.outerHTML.slice(0, 300)).join('\\n')"
        )
        pytest.fail(f"no live slider in the explorer's output; the last outputs:\n{html}")
    widget = page.locator(".jupyter-widgets.widget-interact, .widget-interact").first
    image = widget.locator("img").first
    image.wait_for(state="visible", timeout=60_000)
    before = image.get_attribute("src")
    slider.scroll_into_view_if_needed()
    _shot(page, "chapter_before")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(before) => { const w = document.querySelector('.widget-interact');"
        " const i = w && w.querySelector('img'); return i && i.getAttribute('src') !== before; }",
        arg=before,
        timeout=60_000,
    )
    _shot(page, "chapter_after_slider")


def test_student_lesson_stops_at_task_1_with_its_message(lab, page):
    _open(page, lab, lab["lesson"])
    _run_all(page)
    errors = page.locator(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    )
    errors.first.wait_for(state="visible", timeout=60_000)
    first = errors.all_inner_texts()[0]
    errors.first.scroll_into_view_if_needed()
    _shot(page, "lesson_task1")
    assert "Task 1" in first and ("not solved yet" in first or "wrong" in first), first
    assert "contextlib" not in first and "Traceback" not in first, (
        f"a traceback, not the message:\n{first}"
    )
    assert len(first.strip().splitlines()) <= 6, (
        f"the message is {len(first.splitlines())} lines long"
    )
    prompts = page.evaluate(_PROMPTS)
    failed = next(i for i, p in enumerate(prompts) if p not in ("[ ]:", ""))
    ran = [p for p in prompts if p not in ("[ ]:", "")]
    assert prompts[-1] in ("[ ]:", ""), "cells after the failing check ran"
    assert ran, f"no cell ran: {prompts}"
    assert failed < len(prompts) - 1


def test_citations_and_references_read_in_lab(lab, page):
    _open(page, lab, f"{CHAPTER}.ipynb")
    rendered = _markdown_text(page)
    _shot(page, "chapter_citations")
    raw = sorted({k for k in _bib_keys() if k in rendered} | set(_LABEL.findall(rendered)))
    assert not raw, f"raw citation keys and labels in JupyterLab: {raw[:8]}"
