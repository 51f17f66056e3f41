"""Compare the printed outputs of executed chapters between a git revision and the working tree.

    python tools/printed_numbers.py REV [CHAPTER ...]

For every chapter notebook (``book/NN_slug.ipynb``; or only those named, by slug or number),
prints each code cell whose text output differs between ``REV`` and the working tree, with
the old and new lines. Cells are matched by their position among the cells that print text,
so an edit that adds a printing cell shows as a shift: read the cell's first source line,
printed beside it. Exit status 1 when anything differs, so a script can stop on drift.

Use it after re-executing chapters (``make execute``) to list every printed number that
moved, as the closing note of a change must.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _printed(nb: dict) -> list[tuple[str, str]]:
    """(first source line, text output) of every code cell that prints text."""
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        text = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                text.append("".join(o.get("text", "")))
            elif o.get("output_type") in ("execute_result", "display_data"):
                plain = o.get("data", {}).get("text/plain")
                if plain and not any(k.startswith("image/") or k == "text/html" for k in o["data"]):
                    text.append("".join(plain))
        if text:
            src = "".join(cell.get("source", "")).strip().splitlines()
            head = next((ln for ln in src if not ln.startswith("#")), src[0] if src else "")
            out.append((head[:70], "".join(text)))
    return out


def _at(rev: str, path: Path) -> dict | None:
    rel = path.relative_to(ROOT).as_posix()
    res = subprocess.run(["git", "show", f"{rev}:{rel}"], cwd=ROOT, capture_output=True, text=True)
    return json.loads(res.stdout) if res.returncode == 0 else None


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    rev, names = argv[0], argv[1:]
    paths = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    if names:
        paths = [p for p in paths if any(p.stem == n or p.stem[:2] == n.zfill(2) for n in names)]
    changed = 0
    for path in paths:
        old_nb = _at(rev, path)
        if old_nb is None:
            print(f"{path.stem}: new at this revision")
            continue
        old, new = _printed(old_nb), _printed(json.loads(path.read_text(encoding="utf-8")))
        for i in range(max(len(old), len(new))):
            a = old[i] if i < len(old) else ("(none)", "")
            b = new[i] if i < len(new) else ("(none)", "")
            if a[1] != b[1]:
                changed += 1
                print(f"== {path.stem}, printing cell {i + 1}: {b[0] or a[0]}")
                for line in difflib.unified_diff(
                    a[1].splitlines(), b[1].splitlines(), lineterm="", n=0
                ):
                    if not line.startswith(("---", "+++", "@@")):
                        print("   " + line)
    print(f"{changed} printing cell(s) differ from {rev}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
