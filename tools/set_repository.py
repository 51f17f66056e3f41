#!/usr/bin/env python3
"""One repository URL setting: `_config.yml`'s ``repository.url``; every other place derives from it.

A fork publishes its own book by changing that one line and running

    python tools/set_repository.py https://github.com/OWNER/REPO   # writes _config.yml too
    python tools/set_repository.py                                 # after editing _config.yml by hand

which rewrites every derived place: the repository URL and the published book's URL
(GitHub Pages, ``https://OWNER.github.io/REPO/``) in the README, the book's front page,
CITATION.cff, the pyproject's project URLs, the chapters' Colab/Binder install cells, and the
lessons (sources and student copies).
``--check`` changes nothing and exits 1 when a derived place disagrees (tests/test_publish.py
runs it). Standard library only, so it runs before any environment exists.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "_config.yml"
CITATION = ROOT / "CITATION.cff"
#: the value the project started with: a clone that has never been re-pointed carries it
ORIGIN = "https://github.com/dlt-book/dlt"

_REPO = re.compile(r"^https://github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)/?$")
_CONFIG_LINE = re.compile(r"^(repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:[ \t]*)(\S+)", re.MULTILINE)
_PAGES_ANY = re.compile(r"https://[a-z0-9-]+\.github\.io(?:/[A-Za-z0-9._-]+)?/?")


def derived_files(root: Path = ROOT) -> list[Path]:
    """Every file that names the repository or the published book."""
    files = [
        root / "README.md",
        root / "CITATION.cff",
        root / "pyproject.toml",
        root / "book" / "intro.md",
        root / "CHANGELOG.md",
    ]
    files += sorted((root / "book").glob("[0-9][0-9]_*.md"))  # the chapters' install cells
    files += sorted((root / "book").glob("[0-9][0-9]_*.ipynb"))
    files += sorted((root / "lessons" / "source").glob("*.md"))
    files += sorted((root / "lessons" / "student").glob("*.ipynb"))
    return [f for f in files if f.exists()]


def repository_url(root: Path = ROOT) -> str:
    """The one setting: ``repository.url`` in _config.yml."""
    m = _CONFIG_LINE.search((root / "_config.yml").read_text(encoding="utf-8"))
    if not m:
        raise SystemExit("_config.yml has no `repository:` block with a `url:` line")
    return m.group(2)


def pages_url(repo_url: str) -> str:
    """The GitHub Pages address of a repository's book, with a trailing slash.

    >>> pages_url("https://github.com/dlt-book/dlt")
    'https://dlt-book.github.io/dlt/'
    >>> pages_url("https://github.com/Alice/alice.github.io")
    'https://alice.github.io/'
    """
    m = _REPO.match(repo_url)
    if not m:
        raise ValueError(
            f"repository URL must look like https://github.com/OWNER/REPO, got {repo_url!r}"
        )
    owner, repo = m.group(1).lower(), m.group(2)
    if repo.lower() == f"{owner}.github.io":
        return f"https://{owner}.github.io/"
    return f"https://{owner}.github.io/{repo}/"


def _recorded_url(root: Path) -> str:
    """The URL the derived places were last written for (CITATION.cff's repository-code)."""
    cff = root / "CITATION.cff"
    if cff.exists():
        m = re.search(
            r"^repository-code:\s*\"?([^\"\s]+)", cff.read_text(encoding="utf-8"), re.MULTILINE
        )
        if m:
            return m.group(1)
    return ORIGIN


def problems(root: Path = ROOT) -> list[str]:
    """Derived places that disagree with _config.yml (empty when all agree)."""
    repo = repository_url(root)
    pages = pages_url(repo)
    out = []
    recorded = _recorded_url(root)
    if recorded != repo:
        out.append(f"CITATION.cff: repository-code is {recorded}, _config.yml says {repo}")
    for path in derived_files(root):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root)
        for old in {recorded, ORIGIN} - {repo}:
            if old in text:
                out.append(f"{rel}: names {old}, _config.yml says {repo}")
        for m in _PAGES_ANY.finditer(text):
            if not (m.group(0).rstrip("/") + "/").startswith(pages):
                out.append(f"{rel}: names {m.group(0)}, the book's address is {pages}")
    readme = (root / "README.md").read_text(encoding="utf-8")
    if pages not in readme:
        out.append(f"README.md: does not say where the book is published ({pages})")
    return out


def rewrite(new_repo: str, root: Path = ROOT) -> list[Path]:
    """Write ``new_repo`` into _config.yml and every derived place; returns the files changed."""
    new_pages = pages_url(new_repo)
    changed = []
    config = (root / "_config.yml").read_text(encoding="utf-8")
    new_config = _CONFIG_LINE.sub(lambda m: m.group(1) + new_repo, config, count=1)
    if new_config != config:
        (root / "_config.yml").write_text(new_config, encoding="utf-8")
        changed.append(root / "_config.yml")
    olds = {_recorded_url(root), ORIGIN} - {new_repo}
    for path in derived_files(root):
        text = path.read_text(encoding="utf-8")
        new = text
        for old in olds:
            new = new.replace(pages_url(old), new_pages).replace(
                pages_url(old).rstrip("/"), new_pages.rstrip("/")
            )
            new = new.replace(old, new_repo)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "url",
        nargs="?",
        help="https://github.com/OWNER/REPO (default: _config.yml's repository.url)",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a derived place disagrees"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        found = problems(args.root)
        for line in found:
            print(line)
        if found:
            print(
                "run: python tools/set_repository.py   (rewrites every place from _config.yml's repository.url)"
            )
        return 1 if found else 0
    url = (args.url or repository_url(args.root)).rstrip("/")
    pages_url(url)  # validates
    for path in rewrite(url, args.root):
        print(f"rewrote {path.relative_to(args.root)}")
    print(f"repository: {url}\nbook:       {pages_url(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
