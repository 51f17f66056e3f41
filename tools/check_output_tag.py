"""Mark the cells whose printed output the tests compare with a tag instead of a comment.

A cell whose first line is ``# NBVAL_CHECK_OUTPUT`` loses that line and gets the cell tag
``nbval-check-output`` (the tag nbval's ``--nbval-lax`` mode honours for that comment: nbval
derives its metadata tags from the comment markers, lowercase with hyphens), which readers do not
see. Every chapter and lesson is converted: ``book/NN_slug.md`` and its ``.ipynb`` twin,
``lessons/source/NN_slug.md`` (then ``dlt lessons build`` refreshes the student copies). Each file
is rewritten only where such a cell remains, so the script is idempotent and can be run again
after a merge brings back cells with the comment. The ``.md`` is edited as text (only the
marked cells change); the ``.ipynb`` through its JSON, outputs kept.

    python tools/check_output_tag.py [ROOT]
"""

import json
import re
import sys
from pathlib import Path

COMMENT = "# NBVAL_CHECK_OUTPUT"
TAG = "nbval-check-output"

# A MyST code cell: the fence line, its options (``:key: value`` lines, then a blank line, or
# a ``---`` YAML block), its source, the closing fence.
_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_OPTIONS = re.compile(r"\A((?::[\w-]+:[^\n]*\n)+)\n")
_YAML = re.compile(r"\A---\n(.*?)---\n", re.S)


def _with_tag(options: str) -> str:
    """The ``:key: value`` option lines with the tag added to ``:tags:`` (created if absent)."""
    m = re.search(r"^:tags:[ \t]*\[(.*?)\][ \t]*$", options, re.M)
    if not m:
        return options + f":tags: [{TAG}]\n"
    tags = [t.strip() for t in m.group(1).split(",") if t.strip()]
    if TAG not in tags:
        tags.append(TAG)
    return options[: m.start()] + f":tags: [{', '.join(tags)}]" + options[m.end() :]


def _convert_md_cell(body: str) -> str:
    yaml = _YAML.match(body)
    if yaml:  # a figure cell's options: add the tag as a YAML key
        first, _, rest = body[yaml.end() :].partition("\n")
        if first.strip() != COMMENT:
            return body
        if re.search(r"^tags:", yaml.group(1), re.M):
            raise ValueError(f"a cell with YAML options and tags: tag it by hand:\n{body[:200]}")
        rest = rest.lstrip("\n")
        return f"---\n{yaml.group(1)}tags: [{TAG}]\n---\n{rest}"
    opts = _OPTIONS.match(body)
    options, source = (opts.group(1), body[opts.end() :]) if opts else ("", body)
    first, _, rest = source.partition("\n")
    if first.strip() != COMMENT:
        return body
    rest = rest.lstrip("\n")
    return _with_tag(options) + "\n" + rest


def convert_md(text: str) -> str:
    """The MyST notebook text with every commented cell turned into a tagged one."""
    return _CELL.sub(
        lambda m: m.group(0).replace(m.group("body"), _convert_md_cell(m.group("body")), 1),
        text,
    )


def convert_ipynb(nb: dict) -> bool:
    """Convert the notebook's cells in place; True when one changed."""
    changed = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell["source"]
        text = "".join(source) if isinstance(source, list) else source
        first, _, rest = text.partition("\n")
        if first.strip() != COMMENT:
            continue
        rest = rest.lstrip("\n")
        lines = rest.splitlines(keepends=True)
        cell["source"] = lines if isinstance(source, list) else rest
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if TAG not in tags:
            tags.append(TAG)
        changed = True
    return changed


def main(root: Path) -> int:
    files = sorted((root / "book").glob("[0-9][0-9]_*.md")) + sorted(
        (root / "lessons" / "source").glob("[0-9][0-9]_*.md")
    )
    n = 0
    for md in files:
        text = md.read_text(encoding="utf-8")
        new = convert_md(text)
        if new != text:
            md.write_text(new, encoding="utf-8")
            print(f"tagged: {md.relative_to(root)}")
            n += 1
        ipynb = md.with_suffix(".ipynb")
        if ipynb.exists():
            nb = json.loads(ipynb.read_text(encoding="utf-8"))
            if convert_ipynb(nb):
                ipynb.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", "utf-8")
                print(f"tagged: {ipynb.relative_to(root)}")
                n += 1
    print(f"{n} files changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]))
