"""The register of claims as the closing chapter shows it: one table, every check of the book.

The rows come from :func:`dlt.book.claims.collect` (the structured output every shown check
leaves in its executed notebook, never its text). This module adds what a reader of the whole
book needs: each claim's anchor in its chapter (the book's Sphinx extension puts a target
``claim-<chapter>-<id>`` before each check cell, so a link lands on the check), the verdicts
of other runs of the same claims (``SCALE = 2`` on a CPU, a GPU) matched by chapter and id,
counts by chapter and kind, and the table itself: grouped by part, sortable by any column and
filtered by a text box in the static page (a few lines of JavaScript in the output, like the
explorers), with a plain-text twin for the PDF.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .register_html import _HEAD, _KIND_MARK, _SCRIPT, _clip, _expected, _short_verdict, _verdict
from .registry import CHAPTERS, PARTS

__all__ = [
    "anchor",
    "book_folder",
    "collect_run",
    "counts",
    "load_run",
    "main",
    "parts_of",
    "runs_of",
    "verified_at",
    "with_larger_runs",
    "RegisterTable",
]


def anchor(chapter: str, cid: str) -> str:
    """The HTML id of a check's target in its chapter's page: ``claim-<chapter>-<id>``.

    Lowercase letters, digits and single hyphens, as docutils makes ids, so the label the
    book's extension writes and the id Sphinx gives it are the same string.

    Examples
    --------
    >>> anchor("03_ntk", "kernel-slope")
    'claim-03-ntk-kernel-slope'
    """
    text = re.sub(r"[^a-z0-9]+", "-", f"claim-{chapter}-{cid}".lower()).strip("-")
    return re.sub(r"-{2,}", "-", text)


def book_folder(start: str | Path | None = None) -> Path:
    """The folder of the executed chapters: ``start`` (default the working directory), its
    ``book/`` or that of a parent, the first that holds ``01_generalization.ipynb``.

    Raises
    ------
    FileNotFoundError
        Where none does (a chapter opened alone, as in Colab): the register is read from the
        other chapters' executed notebooks, so it needs a clone of the repository.

    Examples
    --------
    >>> import tempfile
    >>> try:
    ...     book_folder(tempfile.mkdtemp())
    ... except FileNotFoundError as err:
    ...     print(str(err).split(":")[0][:20])
    no executed chapters
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for candidate in (folder, folder / "book"):
            if (candidate / "01_generalization.ipynb").exists():
                return candidate
    raise FileNotFoundError(
        f"no executed chapters in {here} or above it: the register reads the other chapters' "
        "notebooks; open this chapter in a clone of the repository (make lab)"
    )


def load_run(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a register written by ``dlt claims`` (``claims.json``); [] if it is absent.

    Examples
    --------
    >>> load_run("no/such/register.json")
    []
    """
    p = Path(path)
    if not p.exists():
        return []
    rows = json.loads(p.read_text(encoding="utf-8"))
    if not isinstance(rows, list):
        raise ValueError(f"{p}: a register is a JSON list of rows, got {type(rows).__name__}")
    return rows


def runs_of(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Index a run's rows by (chapter, id), the key that matches a claim across runs.

    Examples
    --------
    >>> list(runs_of([{"chapter": "03_ntk", "id": "slope", "passed": True}]))
    [('03_ntk', 'slope')]
    """
    return {(str(r["chapter"]), str(r["id"])): r for r in rows}


def verified_at(
    rows: Iterable[Mapping[str, Any]], runs: Iterable[Iterable[Mapping[str, Any]]] = ()
) -> list[dict[str, Any]]:
    """The rows with ``verified``: the scales and devices of the runs in which each claim held.

    A row's own run counts when it passed; each further run (a register of the same chapters
    run at another scale or on another device, as ``book/claims/*.json``) counts where it has
    the same (chapter, id) and passed there. Entries read ``SCALE 2 cpu`` and are joined by
    ``"; "``; a claim that held nowhere gets ``""``.

    Examples
    --------
    >>> base = [{"chapter": "03_ntk", "id": "slope", "passed": True, "scale": 1, "device": "cpu"}]
    >>> big = [dict(base[0], scale=2)]
    >>> verified_at(base, [big])[0]["verified"]
    'SCALE 1 cpu; SCALE 2 cpu'
    >>> verified_at(base, [[dict(big[0], passed=False)]])[0]["verified"]
    'SCALE 1 cpu'
    """
    indexed = [runs_of(run) for run in runs]
    out = []
    for r in rows:
        where = [r] + [g for run in indexed if (g := run.get((str(r["chapter"]), str(r["id"]))))]
        held = [f"SCALE {g.get('scale')} {g.get('device')}" for g in where if g.get("passed")]
        out.append(dict(r) | {"verified": "; ".join(dict.fromkeys(held))})
    return out


def with_larger_runs(
    rows: Iterable[Mapping[str, Any]], runs: Iterable[Iterable[Mapping[str, Any]]] = ()
) -> list[dict[str, Any]]:
    """The default run's rows, and after each chapter's rows the claims that only further runs
    make: checks a chapter runs only at a larger ``SCALE`` (its text says why), each marked
    ``only_at`` with the run that made it (``"SCALE 2 cpu"``; the first run that has it).

    Examples
    --------
    >>> base = [{"chapter": "03_ntk", "id": "slope", "scale": 1, "device": "cpu"},
    ...         {"chapter": "04_a", "id": "b", "scale": 1, "device": "cpu"}]
    >>> big = [dict(base[0], scale=2), {"chapter": "03_ntk", "id": "wide", "scale": 2,
    ...                                 "device": "cpu"}]
    >>> [(r["id"], r.get("only_at")) for r in with_larger_runs(base, [big])]
    [('slope', None), ('wide', 'SCALE 2 cpu'), ('b', None)]
    """
    out = [dict(r) for r in rows]
    seen = set(runs_of(out))
    extra: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        for r in run:
            key = (str(r["chapter"]), str(r["id"]))
            if key not in seen:
                seen.add(key)
                where = f"SCALE {r.get('scale')} {r.get('device')}"
                extra.setdefault(key[0], []).append(dict(r) | {"only_at": where})
    merged: list[dict[str, Any]] = []
    for i, r in enumerate(out):
        merged.append(r)
        chapter = str(r["chapter"])
        if i + 1 == len(out) or str(out[i + 1]["chapter"]) != chapter:
            merged += extra.pop(chapter, [])
    return merged + [r for rows_ in extra.values() for r in rows_]


def counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """The number of claims of each chapter by kind (confirmed, negative, open).

    Examples
    --------
    >>> counts([{"chapter": "01_a", "kind": "confirmed"}, {"chapter": "01_a", "kind": "open"}])
    {'01_a': {'confirmed': 1, 'negative': 0, 'open': 1}}
    """
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        c = out.setdefault(str(r["chapter"]), dict.fromkeys(("confirmed", "negative", "open"), 0))
        c[str(r["kind"])] = c.get(str(r["kind"]), 0) + 1
    return out


class RegisterTable:
    """The register as a table: HTML (sortable, filterable, grouped by part) and plain text.

    Parameters
    ----------
    rows : iterable of dict
        The register at the book's default run (``SCALE = 1``, CPU): rows of
        :func:`dlt.book.claims.collect`.
    runs : mapping of str to list of dict, optional
        Other runs of the same claims, by column title (``{"SCALE 2 (CPU)": rows2}``); each
        claim shows that run's verdict, and an empty cell where the run has no such claim.

    Examples
    --------
    >>> row = {"chapter": "03_ntk", "id": "slope", "statement": "the slope", "measured": "-0.5",
    ...        "value": -0.5, "expected": None, "band": {"op": "<", "bound": -0.4},
    ...        "rejects": "it is flat", "kind": "confirmed", "passed": True}
    >>> t = RegisterTable([row], {"GPU": []})
    >>> 'href="03_ntk.html#claim-03-ntk-slope"' in t._repr_html_()
    True
    >>> print(t.text())
    GPU: no run recorded
    claim, measured, expected
    Part II. Infinite width
     03_ntk
      ✔ slope                      -0.5        < -0.4
    """

    def __init__(
        self,
        rows: Iterable[Mapping[str, Any]],
        runs: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.rows = list(rows)
        self.runs = {name: runs_of(r) for name, r in (runs or {}).items()}

    def _cells(self, r: Mapping[str, Any]) -> list[tuple[str, str]]:
        chapter, cid = str(r["chapter"]), str(r["id"])
        # a claim made only by a larger run has no check output in the page: link the chapter
        only = r.get("only_at")
        href = f"{chapter}.html" if only else f"{chapter}.html#{anchor(chapter, cid)}"
        statement = (f"[only at {only}] " if only else "") + str(r.get("statement") or "")
        number = chapter.split("_", 1)[0]
        measured = r.get("measured") if r.get("measured") is not None else r.get("value")
        kind = str(r.get("kind"))
        cells = [
            (f'<a href="{chapter}.html">{number}</a>', chapter),
            (f'<a href="{href}"><code>{html.escape(cid)}</code></a>', cid),
            (html.escape(statement), ""),
            (html.escape("" if measured is None else str(measured)), ""),
            (html.escape(_expected(r)), ""),
            (html.escape(_KIND_MARK.get(kind, kind)), kind),
            (html.escape(str(r.get("rejects") or "")), ""),
        ]
        for run in self.runs.values():
            text, key = _verdict(run.get((chapter, cid)))
            cells.append((html.escape(text), key))
        return cells

    def _repr_html_(self) -> str:
        head = "".join(f'<th scope="col">{h}</th>' for h in (*_HEAD, *self.runs))
        parts = {c.slug: c.part for c in CHAPTERS}
        body, part = [], None
        for r in self.rows:
            p = parts.get(str(r["chapter"]), "")
            if p != part:
                part = p
                body.append(
                    f'<tr class="dlt-part"><th colspan="{len(_HEAD) + len(self.runs)}">'
                    f"{html.escape(p)}</th></tr>"
                )
            tds = "".join(
                f'<td data-sort="{html.escape(k)}">{v}</td>' if k else f"<td>{v}</td>"
                for v, k in self._cells(r)
            )
            key = f"{r['chapter']}/{r['id']}"
            body.append(f'<tr class="dlt-claim" data-claim="{html.escape(key)}">{tds}</tr>')
        return (
            '<div class="dlt-register">'
            '<p><input class="dlt-register-filter" type="search" '
            'placeholder="filter: a word, a chapter, an id, open, failed" '
            'aria-label="filter the claims"> <span class="dlt-register-count"></span> '
            "(click a column's title to sort)</p>"
            '<div class="dlt-register-scroll"><table class="dlt-register-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div></div>"
            + _SCRIPT
        )

    def text(self) -> str:
        """The table as the PDF prints it: by part and chapter, one line of at most 78
        characters per claim (its mark, id, measured value, expected band, and its verdict in
        each other run that has rows; a run without rows is named once at the top). A claim
        that only a larger run makes is marked ``+``."""
        parts = {c.slug: c.part for c in CHAPTERS}
        live = {name: run for name, run in self.runs.items() if run}
        cols = "  ".join(f"{i + 1}: {name}" for i, name in enumerate(live))
        lines = [f"{name}: no run recorded" for name, run in self.runs.items() if not run]
        lines.append("claim, measured, expected" + (f"; other runs ({cols})" if cols else ""))
        if any(r.get("only_at") for r in self.rows):
            lines.append("+: checked only in a larger run (its chapter says why)")
        part = chapter = None
        for r in self.rows:
            ch, cid = str(r["chapter"]), str(r["id"])
            if parts.get(ch, "") != part:
                part = parts.get(ch, "")
                lines.append(part)
            if ch != chapter:
                chapter = ch
                lines.append(f" {ch}")
            measured = r.get("measured") if r.get("measured") is not None else r.get("value")
            kind = str(r.get("kind"))
            mark = _KIND_MARK.get(kind, kind).split(" ")[0] + ("+" if r.get("only_at") else "")
            other = " ".join(
                f"{i + 1}:{_short_verdict(run.get((ch, cid)))}"
                for i, run in enumerate(live.values())
            )
            line = (
                f"  {mark:2s}{_clip(cid, 26):26s} {_clip(str(measured), 11):11s} "
                f"{_clip(_expected(r), 13):13s} {other}"
            )
            lines.append(line.rstrip())
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/html": self._repr_html_(), "text/plain": self.text()}


def parts_of(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The number of claims in each part of the book, in the order of the parts.

    Examples
    --------
    >>> parts_of([{"chapter": "03_ntk"}, {"chapter": "02_nngp"}])
    {'Part II. Infinite width': 2}
    """
    parts = {c.slug: c.part for c in CHAPTERS}
    out = dict.fromkeys(PARTS, 0)
    for r in rows:
        out[parts[str(r["chapter"])]] += 1
    return {p: n for p, n in out.items() if n}


def collect_run(
    folder: str | Path, skip: Iterable[str] = ("21_where_theory_stands",)
) -> list[dict]:
    """The claims of a run of the chapters (``dlt run --all --output-dir folder``).

    A chapter whose run failed left only ``NN_slug.failed.ipynb``: its claims up to the
    failure are taken from it, so the claims after it read as not run, not as held.

    Examples
    --------
    >>> import tempfile
    >>> collect_run(tempfile.mkdtemp())
    []
    """
    from .claims import chapter_claims

    rows: list[dict] = []
    base = Path(folder)
    names = sorted({p.name.split(".")[0] for p in base.glob("[0-9][0-9]_*.ipynb")})
    for name in names:
        if name in skip:
            continue
        done, failed = base / f"{name}.ipynb", base / f"{name}.failed.ipynb"
        path = failed if failed.exists() and not done.exists() else done
        rows += chapter_claims(path, name)
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m dlt.book.register RUN_FOLDER OUT.json``: a run's claims as a register file.

    Examples
    --------
    >>> main(["only-one-argument"])
    2
    """
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m dlt.book.register RUN_FOLDER OUT.json", file=sys.stderr)
        return 2
    rows = collect_run(args[0])
    out = Path(args[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(rows)} claims of {len({r['chapter'] for r in rows})} chapters: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
