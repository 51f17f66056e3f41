"""Rewrite what is derived from the registry of the book (``dlt/book/registry.py``).

    python tools/registry.py          # rewrite the derived blocks in place
    python tools/registry.py --check  # exit 1, naming the file, if a block is out of date

Derived blocks sit between ``<!-- registry:NAME -->`` and ``<!-- registry:end -->`` in
Markdown files, and between ``.. registry:NAME`` and ``.. registry:end`` comments inside the
API page's reStructuredText; the list of topic faces in ``dlt/__init__.py``'s docstring sits
between ``Chapters find their methods under topic faces:`` and the blank line after it.
``tests/test_registry.py`` runs the same comparisons.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlt.book.registry import FACES, written  # noqa: E402


def chapter_table() -> str:
    rows = ["| chapter | what it shows |", "| --- | --- |"]
    rows += [f"| `{c.slug}` {c.title} | {c.summary} |" for c in written()]
    return "\n".join(rows)


def face_list() -> str:
    lines = ["A chapter finds its methods under its topic face:", ""]
    lines += [f"- `dlt.{f.name}`: {f.summary}" for f in FACES]
    return "\n".join(lines)


def api_sections() -> str:
    out = []
    for f in FACES:
        head = f"{f.title}: :mod:`dlt.{f.name}`"
        out += [head, "-" * len(head), "", f".. automodule:: dlt.{f.name}"]
        out.append("   :members:" + (" " + ", ".join(f.members) if f.members else ""))
        if f.exclude:
            out.append("   :exclude-members: " + ", ".join(f.exclude))
        out.append("")
    return "\n".join(out).rstrip("\n")


def init_faces() -> str:
    return "\n".join(f"- :mod:`dlt.{f.name}` {f.summary}" for f in FACES)


def _replace_md(text: str, name: str, body: str) -> str:
    pat = re.compile(rf"(<!-- registry:{name} -->\n).*?(\n<!-- registry:end -->)", re.S)
    if not pat.search(text):
        raise SystemExit(f"no <!-- registry:{name} --> block found")
    return pat.sub(lambda m: m.group(1) + body + m.group(2), text)


def _replace_rst(text: str, name: str, body: str) -> str:
    pat = re.compile(rf"(\.\. registry:{name}\n\n).*?(\n\n\.\. registry:end)", re.S)
    if not pat.search(text):
        raise SystemExit(f"no '.. registry:{name}' block found")
    return pat.sub(lambda m: m.group(1) + body + m.group(2), text)


def _replace_init(text: str, body: str) -> str:
    pat = re.compile(r"(Chapters find their methods under topic faces:\n\n).*?(\n\n)", re.S)
    if not pat.search(text):
        raise SystemExit("dlt/__init__.py: no face list found in the docstring")
    return pat.sub(lambda m: m.group(1) + body + m.group(2), text, count=1)


def derived() -> dict[Path, str]:
    """Each derived file with the text it should have."""
    readme = ROOT / "README.md"
    api = ROOT / "book" / "api.md"
    init = ROOT / "dlt" / "__init__.py"
    text = readme.read_text(encoding="utf-8")
    text = _replace_md(text, "chapters", chapter_table())
    text = _replace_md(text, "faces", face_list())
    return {
        readme: text,
        api: _replace_rst(api.read_text(encoding="utf-8"), "faces", api_sections()),
        init: _replace_init(init.read_text(encoding="utf-8"), init_faces()),
    }


def main(argv: list[str]) -> int:
    stale = []
    for path, text in derived().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path.relative_to(ROOT))
            if "--check" not in argv:
                path.write_text(text, encoding="utf-8")
    if stale and "--check" in argv:
        print("out of date with dlt/book/registry.py: " + ", ".join(map(str, stale)))
        print("run: python tools/registry.py")
        return 1
    for p in stale:
        print(f"rewrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
