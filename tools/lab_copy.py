"""Copy the chapters for JupyterLab, with the cross-references Lab cannot resolve written out.

``make lab`` opens working copies of the chapters (``_build/lab/``), never ``book/`` itself.
JupyterLab renders MyST through jupyterlab-myst, which resolves neither citations against a
``.bib`` file nor labels defined in other cells or other notebooks: ``{cite}`jacot2018neural```
shows as its raw key with a warning sign (executablebooks/jupyterlab-myst#127). The book's
HTML and PDF resolve them with Sphinx. This script writes each chapter's copy with every such
role replaced by the text the reader needs, computed from the sources the book uses:

* ``{cite}`a,b``` (and ``{cite:p}``) -> "(Jacot et al. 2018; Lee et al. 2019)", ``{cite:t}``
  -> "Jacot et al. (2018)", from ``references.bib``;
* ``{numref}``/``{ref}`` to a figure -> "the figure above ("its caption's first sentence")",
  or "a figure of chapter N (...)" when it is in another chapter;
* ``{ref}`` to a chapter -> "chapter N (Title)"; to an explorer -> "the explorer above/below";
  ``{ref}`text <label>``` -> text; ``{prf:ref}`` -> "the theorem "Title"" (its kind and title);
  to an exercise -> "exercise k" (numbered in the chapter, as the book numbers them);
* ``{eq}`` -> "(k)", where each labelled display equation ``$$ ... $$ (label)`` of the chapter
  gets ``\\tag{k}`` in order of appearance (and another chapter's: "(k) of chapter N");
* ``{func}``/``{class}``/``{meth}`` -> inline code.

Only the copies change; the committed notebooks keep their roles for Sphinx. The copies are
``.ipynb`` only (a ``.md`` twin beside a copy would pair with it through Jupytext and could
overwrite it), and nothing else in ``_build/lab/`` is touched.

Usage: ``python tools/lab_copy.py [DEST]`` (default ``_build/lab``).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

_ROLE = re.compile(r"\{(cite(?::[pt])?|numref|ref|eq|prf:ref|func|class|meth|mod)\}`([^`]*)`")
_EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)
_EQUATION = re.compile(r"\$\$(?P<body>(?:(?!\$\$).)+?)\$\$[ \t]*\((?P<label>[^)\s]+)\)", re.S)
_TARGET = re.compile(r"^\((?P<label>[^)\s]+)\)=\s*$", re.M)
_PRF = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?:prf:)?(?P<kind>[a-z]+)\}[ \t]*(?P<title>[^\n]*)\n(?P<opts>(?::[^\n]*\n)*)",
    re.M,
)
_ENTRY = re.compile(r"@\w+\{(?P<key>[^,\s]+),(?P<body>.*?)\n\}", re.S)


@dataclass
class Target:
    """What a label points at: its text for a reader, and where it is."""

    kind: str  # chapter, section, figure, equation, explorer, prf
    text: str
    chapter: int
    cell: int


def _field(body: str, name: str) -> str:
    m = re.search(rf"\b{name}\s*=\s*\{{(?P<v>(?:[^{{}}]|\{{[^{{}}]*\}})*)\}}", body, re.I)
    return re.sub(r"[{}]", "", m.group("v")).strip() if m else ""


def _surname(author: str) -> str:
    author = author.strip()
    if "," in author:
        return author.split(",", 1)[0].strip()
    return author.split()[-1] if author.split() else author


def bibliography(path: Path = ROOT / "references.bib") -> dict[str, tuple[str, str]]:
    """Each key of the ``.bib`` file -> (authors as cited, year): "Jacot et al.", "2018"."""
    out = {}
    for m in _ENTRY.finditer(path.read_text(encoding="utf-8")):
        body = m.group("body")
        names = [_surname(a) for a in re.split(r"\s+and\s+", _field(body, "author")) if a]
        if not names:
            names = [_field(body, "organization") or _field(body, "title") or m.group("key")]
        if len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        out[m.group("key")] = (who, _field(body, "year") or "n.d.")
    return out


def _first_sentence(caption: str, limit: int = 90) -> str:
    s = re.split(r"(?<=[.;:])\s", caption.strip(), maxsplit=1)[0].rstrip(".;:")
    return s if len(s) <= limit else s[: limit - 1].rsplit(" ", 1)[0] + "…"


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def targets(notebooks: dict[int, dict]) -> dict[str, Target]:
    """Every label of the chapters: chapters, sections, figures, equations, explorers, proofs."""
    out: dict[str, Target] = {}
    for number, nb in notebooks.items():
        k = 0
        counts: dict[str, int] = {}
        for i, cell in enumerate(nb["cells"]):
            src = _source(cell)
            if cell["cell_type"] == "code":
                fig = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
                if fig.get("name"):
                    out[fig["name"]] = Target(
                        "figure", _first_sentence(fig.get("caption", "")), number, i
                    )
                continue
            for m in _TARGET.finditer(src):
                rest = src[m.end() :].lstrip("\n")
                heading = re.match(r"#+\s+(.*)", rest)
                label = m.group("label")
                if label.startswith("explorer:"):
                    out[label] = Target("explorer", "the explorer", number, i)
                elif heading and label.startswith("ch:"):
                    out[label] = Target("chapter", heading.group(1).strip(), number, i)
                elif heading:
                    out[label] = Target("section", heading.group(1).strip(), number, i)
            for m in _EQUATION.finditer(src):
                k += 1
                out[m.group("label")] = Target("equation", str(k), number, i)
            for m in _PRF.finditer(src):
                opt = re.search(r"^:label:\s*(\S+)", m.group("opts"), re.M)
                kind = m.group("kind")
                counts[kind] = counts.get(kind, 0) + 1
                if opt:
                    title = m.group("title").strip()
                    if kind in ("exercise", "solution"):
                        text = f"{kind} {counts[kind]}"
                    else:
                        text = f"the {kind} “{title}”" if title else f"the {kind}"
                    out[opt.group(1)] = Target("prf", text, number, i)
    return out


def _where(t: Target, chapter: int, cell: int) -> str:
    if t.chapter != chapter:
        return f"of chapter {t.chapter}"
    return "above" if t.cell < cell else "below"


def resolve(
    text: str, chapter: int, cell: int, labels: dict[str, Target], bib: dict[str, tuple[str, str]]
) -> str:
    """``text`` of one markdown cell with its roles written out (see the module's docstring)."""

    def cite(role: str, keys: str) -> str:
        parts = []
        for key in (k.strip() for k in keys.split(",")):
            if key not in bib:
                raise KeyError(f"chapter {chapter}: citation {key!r} is not in references.bib")
            who, year = bib[key]
            parts.append(f"{who} ({year})" if role == "cite:t" else f"{who} {year}")
        return ", ".join(parts) if role == "cite:t" else "(" + "; ".join(parts) + ")"

    def ref(role: str, body: str) -> str:
        explicit = _EXPLICIT.match(body)
        shown, label = (explicit.group(1), explicit.group(2)) if explicit else ("", body.strip())
        t = labels.get(label)
        if t is None:
            raise KeyError(f"chapter {chapter}: the label {label!r} is defined nowhere")
        if shown and "%s" not in shown and "{number}" not in shown:
            return shown
        where = _where(t, chapter, cell)
        if t.kind == "figure":
            return f"the figure {where} (“{t.text}”)"
        if t.kind == "equation":
            return f"({t.text})" if t.chapter == chapter else f"({t.text}) of chapter {t.chapter}"
        if t.kind == "chapter":
            return f"chapter {t.chapter} ({t.text})"
        if t.kind == "explorer":
            return f"the explorer {where}"
        if t.kind == "section":
            return f"the section “{t.text}”" + ("" if t.chapter == chapter else f" {where}")
        return t.text + ("" if t.chapter == chapter else f" {where}")

    def role(m: re.Match[str]) -> str:
        name, body = m.group(1), m.group(2)
        if name.startswith("cite"):
            return cite(name, body)
        if name in ("func", "class", "meth", "mod"):
            return f"`{body.lstrip('~')}`"
        return ref(name, body)

    def tag(m: re.Match[str]) -> str:
        t = labels[m.group("label")]
        return f"$$\n{m.group('body').strip()}\n\\tag{{{t.text}}}\n$$"

    return _ROLE.sub(role, _EQUATION.sub(tag, text))


def lab_notebook(nb: dict, chapter: int, labels: dict[str, Target], bib) -> dict:
    """A copy of a chapter's notebook whose markdown cells read without Sphinx."""
    nb = json.loads(json.dumps(nb))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            cell["source"] = resolve(_source(cell), chapter, i, labels, bib)
    nb.get("metadata", {}).pop("jupytext", None)  # a copy pairs with nothing
    return nb


def main(dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    paths = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
    notebooks = {int(p.name[:2]): json.loads(p.read_text(encoding="utf-8")) for p in paths}
    labels, bib = targets(notebooks), bibliography()
    written = []
    for p in paths:
        (dest / p.with_suffix(".md").name).unlink(missing_ok=True)
        out = dest / p.name
        nb = lab_notebook(notebooks[int(p.name[:2])], int(p.name[:2]), labels, bib)
        out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(out)
    for run in sorted((BOOK / "claims").glob("*.json")):  # the closing chapter's other runs
        (dest / "claims").mkdir(exist_ok=True)
        (dest / "claims" / run.name).write_bytes(run.read_bytes())
    return written


if __name__ == "__main__":
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "lab"
    n = len(main(dest))
    print(f"JupyterLab opens copies of the {n} chapters in {dest}/ (refreshed from book/ by every")
    print("make lab; citations and cross-references written out, since Lab cannot resolve them)")
