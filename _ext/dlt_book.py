"""Local Sphinx extension of the dlt book (loaded through `local_extensions` in _config.yml).

sphinx-thebe 0.3.1 adds its inline configuration script (``const THEBE_JS_URL = ...``) once per
`env-before-read-docs` event, and Jupyter Book emits that event twice, so every page declared the
constant twice and the browser reported "Identifier 'THEBE_JS_URL' has already been declared".
This drops repeated identical inline scripts from each page.

It also puts the book's version (from git tags, as the package's) in the page footer and on the
PDF's title page, and makes the explorers print: in the LaTeX/PDF build an explorer (the HTML
output of ``dlt.viz.explore``) shows the frame it opens on (its ``start``: the one the text
discusses), followed by a line naming that frame's slider values and saying where the live
version is, the chapter's page in the published book (derived from ``repository.url``); and
prints the exercises' solutions at the end of their chapter instead of under each exercise
(the HTML keeps them in dropdowns).

Before each check cell of a chapter it puts a target (``claim-<chapter>-<id>``) that the
register of claims in the closing chapter links to.

And it stops the build when a chapter's explorer has lost its frames: a cell that calls
``explore(`` must carry the pre-computed explorer (one frame per point of its slider grid), not,
say, the widget view a live JupyterLab session saved in its place, which renders as nothing.
"""

import base64
import json
import re
import sys
from html import unescape as html_unescape
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from set_repository import pages_url  # noqa: E402  (the one derivation of the book's address)

_EXPLORER = 'class="dlt-explorer"'
_FIRST_FRAME = re.compile(r'class="dlt-explorer-frame"[^>]*src="data:image/png;base64,([^"]+)"')


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        body = (
            getattr(js, "attributes", {}).get("body") if not getattr(js, "filename", None) else None
        )
        key = ("inline", body) if body else ("file", str(js))
        if body and key in seen:
            continue
        seen.add(key)
        kept.append(js)
    context["script_files"] = kept


def book_version() -> str:
    """The version of the book being built: from git tags (setuptools-scm), as the package's."""
    try:
        from setuptools_scm import get_version

        return get_version(root=str(ROOT), fallback_version="0.0.0")
    except Exception:  # no setuptools-scm, or no git and no fallback: the installed package's
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("dlt-book")
        except PackageNotFoundError:
            return "0.0.0"


def _latex_macros(config):
    """The MathJax macros of _config.yml (``\\E``, ``\\R``, ...), defined for LaTeX too: one list."""
    macros = (config.mathjax3_config or {}).get("tex", {}).get("macros", {})
    lines = []
    for name, body in macros.items():
        if isinstance(body, list):  # [body, number of arguments]
            body, nargs = body[0], body[1]
        else:
            nargs = 0
        args = f"[{nargs}]" if nargs else ""
        lines.append(f"\\providecommand{{\\{name}}}{{}}\\renewcommand{{\\{name}}}{args}{{{body}}}")
    return "\n".join(lines)


def _latex_matter() -> str:
    """Number the PDF's chapters as the HTML book does: only the chapters of numbered parts.

    Jupyter Book's LaTeX builder turns each part of _toc.yml into ``\\part{caption}`` and every
    page into a numbered ``\\chapter``, so the notation page became chapter 1 and every chapter
    of the book was one more than on the web (and in its own exercise numbers). Here ``\\part``
    prints its caption alone (the captions already say "Part I.") and, counting the parts in the
    order of _toc.yml, switches chapter numbering on for the parts marked ``numbered: true`` and
    off for the others: an unnumbered ``\\chapter`` does not step the chapter counter.
    """
    import yaml

    parts = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8")).get("parts", [])
    numbered = [i for i, p in enumerate(parts) if p.get("numbered")]
    if not numbered:
        return ""
    cases = "\\or".join("\\dlt@secnum" if i in numbered else "-1" for i in range(len(parts)))
    return "\n".join(
        [
            "\\makeatletter",
            "\\let\\dlt@part\\part",
            "\\newcount\\dlt@secnum \\dlt@secnum=-100",
            "\\newcount\\dlt@partno \\dlt@partno=0",
            "\\def\\dlt@matter{\\ifnum\\dlt@secnum=-100 \\dlt@secnum=\\c@secnumdepth\\fi",
            f"  \\setcounter{{secnumdepth}}{{\\ifcase\\dlt@partno {cases}\\else -1\\fi}}%",
            "  \\advance\\dlt@partno by 1 }",
            "\\renewcommand{\\part}[1]{\\dlt@matter\\dlt@part*{#1}\\addcontentsline{toc}{part}{#1}}",
            "\\makeatother",
        ]
    )


def _configure(app, config):
    elements = dict(config.latex_elements or {})
    elements["preamble"] = (
        elements.get("preamble", "") + "\n" + _latex_macros(config) + "\n" + _latex_matter() + "\n"
    )
    config.latex_elements = elements
    v = book_version()
    config.version = config.release = v
    repo = config.html_theme_options.get("repository_url", "")
    if not config.html_theme_options.get("extra_footer"):
        config.html_theme_options["extra_footer"] = (
            f'<p class="dlt-version">Version {v}. Text and figures: '
            '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>; '
            f'code: MIT. <a href="{repo}">Source, licences and how to cite</a>.</p>'
        )


def _explorer_first_frames(app, docname, source):
    """Give explorer outputs executed before dlt.viz.explore carried a PNG their first frame as one.

    The chapters' committed notebooks are re-executed by `make execute`; this keeps the PDF right
    for any notebook that still has HTML-only explorer outputs (HTML builders still pick the HTML).
    """
    if "dlt-explorer" not in source[0] or not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    nb = json.loads(source[0])
    changed = False
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            if _EXPLORER in html and "image/png" not in data:
                m = _FIRST_FRAME.search(html)
                if m:
                    base64.b64decode(m.group(1), validate=True)
                    data["image/png"] = m.group(1)
                    changed = True
    if changed:
        source[0] = json.dumps(nb)


_SLIDER_VALUES = re.compile(r'class="dlt-explorer-slider"[^>]*data-values="([^"]*)"')


_CLAIMS_MIME = "application/vnd.dlt.claims+json"


def claim_targets(nb: dict, chapter: str) -> int:
    """Put a MyST target ``(claim-<chapter>-<id>)=`` before every cell that shows a check.

    The register of claims (the closing chapter) links each claim to its check; the target
    gives the check cell an id in the page (``dlt.book.register.anchor``). The targets go in
    a markdown cell of their own inserted before the check's cell, which renders as nothing.
    Returns the number of targets written.
    """
    from dlt.book.register import anchor

    cells, n = [], 0
    for cell in nb.get("cells", []):
        ids = []
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = out.get("data", {}).get(_CLAIMS_MIME)
            data = json.loads(data) if isinstance(data, str) else data
            ids += [rec["id"] for rec in (data or {}).get("claims", []) if rec.get("id")]
        if ids:
            targets = "\n".join(f"({anchor(chapter, i)})=" for i in ids)
            cells.append({"cell_type": "markdown", "metadata": {}, "source": targets + "\n"})
            n += len(ids)
        cells.append(cell)
    nb["cells"] = cells
    return n


def _claim_targets(app, docname, source):
    path = Path(str(app.env.doc2path(docname)))
    if path.suffix != ".ipynb" or _CLAIMS_MIME not in source[0]:
        return
    nb = json.loads(source[0])
    if claim_targets(nb, path.stem):
        source[0] = json.dumps(nb)


def explorer_problems(nb: dict) -> list[str]:
    """What is wrong with the explorers of an executed notebook (its JSON): one line per cell.

    A code cell whose source calls ``explore(`` must have an output whose HTML is a pre-computed
    explorer with as many frames as its sliders have combinations of values (at least one).
    """
    import html as html_lib

    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") != "code" or not re.search(r"\bexplore\(", source):
            continue
        found = None
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/html", "")
            text = "".join(text) if isinstance(text, list) else text
            if _EXPLORER in text:
                found = text
                break
        if found is None:
            kinds = sorted({k for o in cell.get("outputs", []) for k in o.get("data", {})})
            problems.append(
                f"cell {i} calls explore( but has no pre-computed explorer among its outputs "
                f"({', '.join(kinds) or 'none'})"
            )
            continue
        frames = found.count('class="dlt-explorer-frame"')
        expected = 1
        for values in _SLIDER_VALUES.findall(found):
            expected *= len(json.loads(html_lib.unescape(values)))
        if frames == 0 or frames != expected:
            problems.append(
                f"cell {i}: its explorer has {frames} frames, its sliders {expected} positions"
            )
    return problems


def _explorers_have_frames(app, docname, source):
    """Stop the build on a chapter whose explorer lost its frames (see explorer_problems)."""
    path = str(app.env.doc2path(docname))
    if not path.endswith(".ipynb"):
        return
    problems = explorer_problems(json.loads(source[0]))
    if problems:
        chapter = Path(path).stem[:2]
        raise ExtensionError(
            f"{docname}: " + "; ".join(problems) + ". Re-execute the committed notebook with "
            f"`make execute CH={chapter}` (a live session's widgets have no frames: run chapters live "
            "with `make lab`, which works on copies in _build/lab/)."
        )


_SLIDER = re.compile(
    r'<input type="range" class="dlt-explorer-slider" aria-label="([^"]+)"[^>]*?'
    r'value="(\d+)" data-values="([^"]+)"'
)


def _slider_positions(text):
    """Each slider of an explorer's HTML with the value it opens on (the printed frame's)."""
    out = []
    for name, index, values in _SLIDER.findall(text):
        labels = json.loads(html_unescape(values))
        out.append((html_unescape(name), labels[int(index)]))
    return out


def _docname_of(env, node):
    """The chapter a node comes from (the LaTeX builder inlines every chapter into one tree)."""
    while node is not None:
        source = getattr(node, "source", None) or (
            node.get("source") if isinstance(node, nodes.Element) else None
        )
        if source:
            return env.path2doc(source)
        node = node.parent
    return None


class ExplorerLiveLine(SphinxPostTransform):
    """In the PDF, say under each explorer's printed frame which it is and where its sliders are live.

    Runs before myst-nb's SelectMimeType (priority 4), while the output still holds its HTML.
    """

    default_priority = 3
    formats = ("latex",)

    def run(self, **kwargs):
        repo = self.config.html_theme_options.get("repository_url", "")
        try:
            base = pages_url(repo)
        except ValueError:
            base = ""
        for bundle in list(self.document.findall(nodes.container)):
            if bundle.get("nb_element") != "mime_bundle":
                continue
            html = [c for c in bundle.children if c.get("mime_type") == "text/html"]
            if not html or _EXPLORER not in html[0].astext():
                continue
            text = html[0].astext()
            sliders = _slider_positions(text)
            frames = text.count('class="dlt-explorer-frame"')
            source = _docname_of(self.env, bundle) or self.env.docname
            page = base + source + ".html" if base else ""
            para = nodes.paragraph(classes=["dlt-explorer-note"])
            at = ", ".join(f"{name} = {value}" for name, value in sliders)
            para += nodes.emphasis(
                text=f"Interactive figure, printed at {at}, one of its {frames} frames: move its "
                f"sliders ({', '.join(n for n, _ in sliders)}) in the online book"
                + (", " if page else ".")
            )
            if page:
                para += nodes.reference("", page, refuri=page)
                para += nodes.emphasis(text=", or in a live notebook.")
            bundle.parent.insert(bundle.parent.index(bundle) + 1, para)


class SolutionsAtChapterEnd(SphinxPostTransform):
    """In the PDF, print each chapter's exercise solutions at the end of the chapter.

    The HTML keeps each solution in a closed dropdown under its exercise; paper cannot close a
    dropdown, so the LaTeX build moves the solutions (sphinx-exercise's ``solution_node``, titled
    "Solution to Exercise k.n") in their order into a last section "Solutions" of their
    chapter, and leaves under each exercise a line saying where its solution is. Runs after
    sphinx-exercise has numbered and titled them (its post-transforms run at 20-22).
    """

    default_priority = 30
    formats = ("latex",)

    def run(self, **kwargs):
        from sphinx_exercise.nodes import solution_node

        chapters: dict[int, tuple[nodes.section, list]] = {}
        for solution in list(self.document.findall(solution_node)):
            doc = _docname_of(self.env, solution)
            chapter, node = None, solution.parent
            while node is not None:  # the outermost section that comes from the same page
                if isinstance(node, nodes.section) and _docname_of(self.env, node) == doc:
                    chapter = node
                node = node.parent
            if chapter is None:
                continue
            chapters.setdefault(id(chapter), (chapter, []))[1].append(solution)
        for chapter, solutions in chapters.values():
            section = nodes.section(ids=[f"dlt-solutions-{len(self.document.ids)}"])
            section += nodes.title(text="Solutions")
            for solution in solutions:
                pointer = nodes.paragraph(classes=["dlt-solution-pointer"])
                pointer += nodes.emphasis(text="The solution is at the end of the chapter.")
                solution.parent.replace(solution, pointer)
                section += solution
            chapter += section


def _static(app, config):
    """The book's own CSS and JS (_ext/static: code, check lines and equations readable whole at
    every width; the sidebar toggles working)."""
    config.html_static_path = [*config.html_static_path, str(Path(__file__).parent / "static")]


def setup(app):
    app.connect("config-inited", _static)
    app.add_css_file("dlt.css")
    app.add_js_file("dlt.js")  # the sidebar toggles of the two themes (see static/dlt.js)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("config-inited", _configure)
    app.connect("source-read", _explorers_have_frames)
    app.connect("source-read", _explorer_first_frames)
    app.connect("source-read", _claim_targets)
    app.add_post_transform(ExplorerLiveLine)
    app.add_post_transform(SolutionsAtChapterEnd)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
