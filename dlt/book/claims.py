"""The register of claims: every check of the executed chapters, collected by chapter and id.

A check that is shown in a notebook (the last expression of its cell, or in
:func:`dlt.check.show`) leaves, beside its readable line, a structured output under the
vendor mime type ``dlt.check.MIME`` (see ``dlt.check.Claim.record``). This module
reads those outputs from executed ``.ipynb`` files, never their text, and writes the
register as JSON and CSV (``dlt claims``)::

    dlt claims                       # every chapter of book/, into _build/claims/
    dlt claims 01 02 --output-dir out
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .verdict import MIME

__all__ = ["COLUMNS", "collect", "chapter_claims", "write_register"]

#: The register's columns, in order (the CSV header; the JSON rows have the same keys).
COLUMNS = (
    "chapter",
    "id",
    "statement",
    "measured",
    "value",
    "expected",
    "band",
    "rejects",
    "kind",
    "scale",
    "device",
    "passed",
    "cell",
    "verified",
)


def _shows_a_check(out: dict[str, Any]) -> bool:
    """Whether an output's text has a check line (only to refuse outputs without data)."""
    plain = out.get("data", {}).get("text/plain", "")
    text = "".join(plain) if isinstance(plain, list) else str(plain)
    return any(line.startswith("  measured ") for line in text.splitlines())


def chapter_claims(nb: dict[str, Any] | str | Path, chapter: str | None = None) -> list[dict]:
    """The claims of one executed notebook, in order, each a row of the register.

    Parameters
    ----------
    nb : dict, str or Path
        The notebook (its JSON as a dict, or the path of an ``.ipynb``).
    chapter : str, optional
        The chapter's name in the rows; default the file's stem (``"03_ntk"``).

    Returns
    -------
    list of dict
        One row per shown check, with the keys of :data:`COLUMNS` (``cell`` is the index of
        the notebook cell that shows it).

    Raises
    ------
    ValueError
        If a check has no id, two checks of the notebook share an id, or a check's line
        has no structured output beside it (a notebook executed before checks had one).

    Examples
    --------
    >>> from dlt.book.check import close
    >>> v = close("one third", 0.3334, 1 / 3, atol=1e-3, id="third", rejects="it is 1/4")
    >>> out = {"output_type": "execute_result", "data": v._repr_mimebundle_(), "metadata": {}}
    >>> nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [out]}]}
    >>> [(r["chapter"], r["id"], r["value"]) for r in chapter_claims(nb, "00_demo")]
    [('00_demo', 'third', 0.333)]
    """
    if isinstance(nb, str | Path):
        path = Path(nb)
        chapter = chapter or path.stem
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    if not isinstance(nb, dict) or "cells" not in nb:
        raise TypeError("nb must be a notebook (a dict with 'cells') or the path of an .ipynb")
    chapter = chapter or "notebook"
    rows: list[dict] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {}).get(MIME)
            if data is None:
                if _shows_a_check(out):
                    raise ValueError(
                        f"{chapter}: cell {index} shows a check without its structured "
                        "output (executed before checks had one): re-execute the chapter"
                    )
                continue
            if isinstance(data, str):  # a notebook written with the JSON as a string
                data = json.loads(data)
            for rec in data.get("claims", []):
                cid = rec.get("id")
                if not cid:
                    raise ValueError(
                        f"{chapter}: the check {rec.get('statement')!r} (cell {index}) has no "
                        "id: give it id='short-label'"
                    )
                if cid in seen:
                    raise ValueError(
                        f"{chapter}: the id {cid!r} is used twice (cells {seen[cid]} and "
                        f"{index}): ids are unique within a chapter"
                    )
                seen[cid] = index
                row = {k: rec.get(k) for k in COLUMNS}
                row.update(chapter=chapter, cell=index)
                rows.append(row)
    return rows


def collect(notebooks: Iterable[str | Path]) -> list[dict]:
    """The register: the claims of every notebook, in the order given (see :func:`chapter_claims`).

    Raises
    ------
    ValueError
        If a check has no id, or an id repeats within a chapter (every such problem of every
        notebook is named, not only the first).

    Examples
    --------
    >>> import json, tempfile
    >>> from dlt.book.check import less
    >>> v = less("small", 0.01, 0.05, id="small", rejects="it is large")
    >>> out = {"output_type": "execute_result", "data": v._repr_mimebundle_(), "metadata": {}}
    >>> nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [out]}]}
    >>> path = Path(tempfile.mkdtemp()) / "07_demo.ipynb"
    >>> _ = path.write_text(json.dumps(nb))
    >>> [(r["chapter"], r["id"], r["band"]) for r in collect([path])]
    [('07_demo', 'small', {'op': '<', 'bound': 0.05})]
    """
    rows: list[dict] = []
    problems = []
    for path in notebooks:
        try:
            rows += chapter_claims(path)
        except ValueError as err:
            problems.append(str(err))
    if problems:
        raise ValueError("the register cannot be built:\n" + "\n".join(problems))
    return rows


def write_register(rows: list[dict], out_dir: str | Path) -> tuple[Path, Path]:
    """Write the register as ``claims.json`` and ``claims.csv`` in ``out_dir``; return both.

    In the CSV the band is its JSON text (``{"op": "<", "bound": 0.05}``) and empty cells
    stand for ``None``.

    Examples
    --------
    >>> import tempfile
    >>> row = dict.fromkeys(COLUMNS) | {"chapter": "07_demo", "id": "small", "value": 0.01}
    >>> js, cs = write_register([row], tempfile.mkdtemp())
    >>> cs.read_text().splitlines()[1]
    '07_demo,small,,,0.01,,,,,,,,,'
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    js, cs = out / "claims.json", out / "claims.csv"
    js.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    with open(cs, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow(
                {
                    k: ("" if r.get(k) is None else json.dumps(r[k]) if k == "band" else r[k])
                    for k in COLUMNS
                }
            )
    return js, cs
