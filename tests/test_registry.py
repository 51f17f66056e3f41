"""The registry of the book (dlt/book/registry.py) is the one list: every copy agrees with it.

Each test names the place that disagrees and how to fix it (``python tools/registry.py``
rewrites the derived blocks of the README, the API page and ``dlt/__init__.py``).
"""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import dlt
from dlt.book import registry
from dlt.book.registry import CHAPTERS, FACES, PARTS, written

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import registry as derive  # noqa: E402  (tools/registry.py)

#: faces of the shared pieces, not of a topic: they are in no chapter's row
SHARED_FACES = {"check", "viz", "lessons", "cli", "__init__", "__main__"}


def _title(path: Path) -> str:
    return next(
        ln[2:].strip()
        for ln in path.read_text(encoding="utf-8").splitlines()
        if ln.startswith("# ")
    )


def test_the_derived_blocks_are_up_to_date():
    for path, text in derive.derived().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} disagrees with dlt/book/registry.py: run python tools/registry.py"
        )


def test_the_tool_rewrites_a_stale_block_and_its_check_mode_passes_on_the_committed_files():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stale = readme.replace("| `03_ntk` ", "| `03_ntk` stale ", 1)
    assert (
        stale != readme and derive._replace_md(stale, "chapters", derive.chapter_table()) == readme
    )
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "registry.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout


def test_numbers_slugs_and_parts_are_consistent():
    assert [c.number for c in CHAPTERS] == list(range(1, len(CHAPTERS) + 1))
    for c in CHAPTERS:
        assert re.fullmatch(rf"{c.number:02d}_[a-z0-9_]+", c.slug), c.slug
        assert c.part in PARTS, f"{c.slug}: unknown part {c.part!r}"
    assert [PARTS.index(c.part) for c in CHAPTERS] == sorted(PARTS.index(c.part) for c in CHAPTERS)
    faces = {f.name for f in FACES}
    for c in written():
        assert set(c.faces) <= faces, (
            f"{c.slug} names faces {set(c.faces) - faces} that FACES lacks"
        )
    assert len({c.slug for c in CHAPTERS}) == len(CHAPTERS)


def test_the_chapters_on_disk_are_the_written_ones_with_their_titles_and_labels():
    on_disk = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.md"))
    assert on_disk == [c.slug for c in written()], (
        "book/NN_slug.md files vs the registry's written chapters"
    )
    for c in written():
        md = ROOT / "book" / f"{c.slug}.md"
        assert _title(md) == c.title, f"{md.name}: title {_title(md)!r}, registry {c.title!r}"
        assert f"({c.label})=" in md.read_text(encoding="utf-8"), (
            f"{md.name} lacks the label ({c.label})="
        )


def test_the_table_of_contents_lists_the_written_chapters_in_their_parts():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found = {}
    for part in toc["parts"]:
        for ch in part.get("chapters", []):
            stem = Path(ch["file"]).name
            if re.fullmatch(r"\d\d_.*", stem):
                found[stem] = part["caption"]
    assert found == {c.slug: c.part for c in written()}, (
        "_toc.yml's chapters and parts vs the registry"
    )


def test_every_topic_face_is_in_the_registry_and_every_registry_face_exists():
    on_disk = {p.stem for p in (ROOT / "dlt").glob("*.py")} - SHARED_FACES
    faces = {f.name for f in FACES}
    assert on_disk == faces, (
        f"topic faces on disk {sorted(on_disk)} vs the registry's FACES {sorted(faces)}: "
        "add the face to dlt/book/registry.py (or remove the module)"
    )
    for f in FACES:
        assert f.name in dlt.__all__, f"dlt.__all__ lacks the face {f.name!r}"
        mod = importlib.import_module(f"dlt.{f.name}")
        for name in f.exclude + f.members:
            assert name in mod.__all__, (
                f"registry names {name!r}, which dlt.{f.name} does not export"
            )


def test_the_lessons_index_lists_the_registry_lessons_in_order():
    lessons = [c for c in written() if c.lesson]
    for c in lessons:
        assert (ROOT / "lessons" / "source" / f"{c.slug}.md").exists(), (
            f"no lesson source for {c.slug}"
        )
        assert (ROOT / "lessons" / "student" / f"{c.slug}.ipynb").exists(), (
            f"no student copy of {c.slug}"
        )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| lesson |") :].split("\n\n")[0]
    listed = re.findall(r"^\| `(\d\d_[a-z0-9_]+)`", table, flags=re.M)
    assert listed == [c.slug for c in lessons], "README's lessons table vs the registry's lessons"
    on_disk = sorted(p.stem for p in (ROOT / "lessons" / "source").glob("*.md"))
    assert on_disk == [c.slug for c in lessons]


def test_each_chapter_names_test_files_that_exist():
    for c in written():
        assert c.tests, f"{c.slug} names no unit test files"
        for t in c.tests:
            assert (ROOT / "tests" / t).exists(), f"{c.slug} names tests/{t}, which does not exist"


def test_lookup_by_number_prefix_or_slug():
    assert registry.chapter(3) is registry.chapter("03") is registry.chapter("03_ntk")
    with pytest.raises(KeyError, match="03_ntk"):
        registry.chapter("99")
