"""The ``dlt`` command: run chapters with papermill, list them, collect their claims, build the lessons.

::

    dlt list
    dlt run 03_ntk --scale 4 --device cuda
    dlt run --all
    dlt claims                   # the register of every check: _build/claims/claims.{json,csv}
    dlt claims 01 02 --output-dir out
    dlt lessons build            # write lessons/student/ from lessons/source/
    dlt lessons build --check    # exit 1 when a student copy is stale
    dlt lessons nbgrader COURSE  # an nbgrader course source folder, cell metadata included
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["main", "chapters", "run_chapter", "describe_failure", "failed_output"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _root() -> Path:
    """The repository root: the nearest folder above the working directory with ``_toc.yml``."""
    here = Path.cwd().resolve()
    for p in (here, *here.parents):
        if (p / "_toc.yml").exists() and (p / "book").is_dir():
            return p
    raise SystemExit(
        "dlt: `dlt list` and `dlt run` read the chapters of a clone of the repository, which the "
        "package does not ship: run them inside a clone (git clone <repository URL>; cd dlt; "
        "make install). No _toc.yml was found above the current folder."
    )


def chapters(root: Path | None = None) -> list[Path]:
    """The chapter notebooks ``book/NN_slug.ipynb``, in order."""
    root = root or _root()
    return sorted(p for p in (root / "book").glob("[0-9][0-9]_*.ipynb"))


def _title(nb_path: Path) -> str:
    with open(nb_path, encoding="utf-8") as f:
        nb = json.load(f)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return nb_path.stem


def _resolve(name: str, root: Path) -> Path:
    """A chapter by its slug (``03_ntk``), its number (``03`` or ``3``) or its number and a prefix."""
    key = name.zfill(2) if name.isdigit() else name
    found = [
        p
        for p in chapters(root)
        if p.stem == key or p.stem.startswith(f"{key}_") or p.stem[:2] == key
    ]
    if len(found) != 1:
        known = ", ".join(p.stem for p in chapters(root))
        raise SystemExit(f"dlt: unknown chapter {name!r}; chapters: {known}")
    return found[0]


def failed_output(out_dir: Path, nb_path: Path) -> Path:
    """Where a failed run of a chapter leaves its partial output: ``NN_slug.failed.ipynb``.

    Examples
    --------
    >>> failed_output(Path("_build/runs"), Path("book/03_ntk.ipynb")).name
    '03_ntk.failed.ipynb'
    """
    return Path(out_dir) / f"{nb_path.stem}.failed.ipynb"


def _check_device(device: str) -> None:
    """Refuse a device this machine lacks before any kernel starts (``dlt.device``'s rule)."""
    from ..core.device import device as pick

    pick(device)


def run_chapter(
    nb_path: Path,
    out_dir: Path,
    *,
    device: str = "auto",
    scale: int = 1,
    seed: int = 0,
    progress: bool | None = None,
) -> float:
    """Execute one chapter with papermill, parameters injected; return the wall time in seconds.

    The executed notebook replaces ``out_dir/NN_slug.ipynb`` only when the run succeeds: a failed
    run leaves the previous good output in place and its partial output in
    :func:`failed_output` (``out_dir/NN_slug.failed.ipynb``), which a later success removes.

    Raises
    ------
    ValueError
        If ``device`` (or ``DLT_DEVICE``, for ``"auto"``) asks for CUDA on a machine without
        it, before any kernel starts.
    """
    import papermill as pm

    _check_device(device)
    os.environ.setdefault("DLT_PROGRESS", "0")
    os.environ.setdefault("DLT_STATIC", "1")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / nb_path.name
    partial = failed_output(out_dir, nb_path)
    start = time.perf_counter()
    pm.execute_notebook(
        str(nb_path),
        str(partial),
        parameters={"DEVICE": device, "SCALE": scale, "SEED": seed},
        kernel_name="python3",
        cwd=str(nb_path.parent),
        progress_bar=progress if progress is not None else sys.stderr.isatty(),
    )
    os.replace(partial, out)
    return time.perf_counter() - start


def _failing_line(err: BaseException, source: str) -> tuple[int, list[str]] | None:
    """The line of the cell where the error was raised (1-based) and the excerpt to show.

    IPython's traceback names the executed cell's frame first (``Cell In[5], line 12``); the
    excerpt is that line with the one before it, the failing one marked ``-->``.
    """
    tb = getattr(err, "traceback", None) or []
    text = _ANSI.sub("", "\n".join(str(t) for t in tb))
    m = re.search(r"Cell In\[\d+\], line (\d+)", text)
    lines = str(source).splitlines()
    if not m or not 1 <= int(m.group(1)) <= len(lines):
        return None
    n = int(m.group(1))
    excerpt = [f"    {k:4d}  {lines[k - 1]}" for k in range(max(1, n - 1), n)]
    excerpt.append(f"--> {n:4d}  {lines[n - 1]}")
    return n, excerpt


def describe_failure(err: BaseException, out: Path) -> str:
    """What went wrong in a chapter run: the error's name and value, the failing line, the output.

    The cell's line where the error was raised is shown with the line before it (from IPython's
    traceback); when the traceback does not name it, the cell's first four lines.

    Examples
    --------
    >>> print(describe_failure(ValueError("x must be finite"), Path("runs/03_ntk.ipynb")))
    ValueError: x must be finite
      partial output: runs/03_ntk.ipynb
    """
    ename = getattr(err, "ename", None) or type(err).__name__
    evalue = getattr(err, "evalue", None)
    if evalue is None:
        evalue = str(err).strip()
    lines = [f"{ename}: {evalue}".rstrip(": ")]
    source = getattr(err, "source", None)
    if source:
        count = getattr(err, "exec_count", None)
        cell = getattr(err, "cell_index", None)
        where = f"in cell {cell}" + (f" (execution count {count})" if count else "")
        found = _failing_line(err, str(source))
        if found:
            lines.append(f"  {where}, line {found[0]}:")
            lines += [f"  {ln}" for ln in found[1]]
        else:
            code = [ln for ln in str(source).splitlines() if ln.strip()][:4]
            lines.append(f"  {where}, which starts:")
            lines += [f"    {ln}" for ln in code]
    lines.append(f"  partial output: {out}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("dlt-book")
    except PackageNotFoundError:
        __version__ = "0+unknown"

    parser = argparse.ArgumentParser(
        prog="dlt", description="Run and list the chapters of the dlt book."
    )
    parser.add_argument("--version", action="version", version=f"dlt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the chapters")
    run = sub.add_parser("run", help="execute chapters with papermill")
    run.add_argument("chapter", nargs="?", help="chapter name or number, e.g. 03_ntk or 03")
    run.add_argument("--all", action="store_true", help="run every chapter")
    run.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    run.add_argument(
        "--scale",
        type=_at_least(1),
        default=1,
        help="problem-size multiplier, >= 1 (default 1: a 2-core CPU)",
    )
    run.add_argument("--seed", type=_at_least(0), default=0)
    run.add_argument("--output-dir", default="_build/runs", help="where executed notebooks go")
    reg = sub.add_parser(
        "claims", help="collect every check of the executed chapters into a register (JSON, CSV)"
    )
    reg.add_argument("chapter", nargs="*", help="chapter names or numbers (default: every chapter)")
    reg.add_argument(
        "--notebooks",
        default="book",
        help="folder of the executed chapters, e.g. _build/runs after `dlt run` (default book)",
    )
    reg.add_argument("--output-dir", default="_build/claims", help="where the register goes")
    lessons = sub.add_parser("lessons", help="build the student copies of the lessons")
    lsub = lessons.add_subparsers(dest="lessons_command", required=True)
    lbuild = lsub.add_parser(
        "build", help="write lessons/student/NN_slug.ipynb from lessons/source/NN_slug.md"
    )
    lbuild.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a student copy is stale"
    )
    lgrader = lsub.add_parser("nbgrader", help="write an nbgrader course source folder")
    lgrader.add_argument(
        "course_dir", help="the nbgrader course folder (source/<lesson>/ is written inside)"
    )
    args = parser.parse_args(argv)

    if args.command == "lessons":
        return _lessons(args)
    root = _root()
    width = max((len(p.stem) for p in chapters(root)), default=0) + 2
    if args.command == "list":
        for p in chapters(root):
            print(f"{p.stem:{width}s}{_title(p)}")
        return 0
    if args.command == "claims":
        return _claims(args, root)
    if args.all == bool(args.chapter):
        run.error("give one chapter or --all")
    targets = chapters(root) if args.all else [_resolve(args.chapter, root)]
    try:
        _check_device(args.device)
    except ValueError as err:
        raise SystemExit(f"dlt run: {err}; run with --device cpu (or auto)") from None
    out_dir = Path(args.output_dir)
    if not out_dir.is_absolute():
        out_dir = root / out_dir
    failed = []
    for nb in targets:
        print(
            f"{nb.stem:{width}s}running (device={args.device}, scale={args.scale}) ...", flush=True
        )
        try:
            t = run_chapter(nb, out_dir, device=args.device, scale=args.scale, seed=args.seed)
            print(f"{nb.stem:{width}s}ok     {t:7.1f} s", flush=True)
        except Exception as err:  # report every chapter, then fail
            failed.append(nb.stem)
            print(f"{nb.stem:{width}s}FAILED", flush=True)
            print(describe_failure(err, failed_output(out_dir, nb)), flush=True)
            if (out_dir / nb.name).exists():
                print(f"  the last good output is kept: {out_dir / nb.name}", flush=True)
    if failed:
        print(f"{len(failed)} of {len(targets)} chapters failed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def _claims(args: argparse.Namespace, root: Path) -> int:
    from .claims import collect, write_register

    names = [_resolve(c, root).name for c in args.chapter] or [p.name for p in chapters(root)]
    folder = Path(args.notebooks)
    folder = folder if folder.is_absolute() else root / folder
    missing = [n for n in names if not (folder / n).exists()]
    if missing:
        raise SystemExit(f"dlt: no executed notebook {', '.join(missing)} in {folder}")
    try:
        rows = collect(folder / n for n in names)
    except ValueError as err:
        print(f"dlt: {err}", file=sys.stderr)
        return 1
    from .register import load_run, verified_at

    # the scales and devices at which each claim held: this run and the recorded ones
    rows = verified_at(
        rows, [load_run(p) for p in sorted((root / "book" / "claims").glob("*.json"))]
    )
    out = Path(args.output_dir)
    out = out if out.is_absolute() else root / out
    js, cs = write_register(rows, out)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["chapter"]] = counts.get(r["chapter"], 0) + 1
    for n in names:
        print(f"{Path(n).stem:24s} {counts.get(Path(n).stem, 0):3d} claims")
    print(
        f"{len(rows)} claims: {js.relative_to(root) if js.is_relative_to(root) else js}, "
        f"{cs.relative_to(root) if cs.is_relative_to(root) else cs}"
    )
    return 0


def _lessons(args: argparse.Namespace) -> int:
    from . import lessons

    root = lessons._root()
    if args.lessons_command == "nbgrader":
        for p in lessons.write_nbgrader(args.course_dir, root):
            print(f"wrote {p}")
        return 0
    changed = lessons.build(root, check=args.check)
    for p in changed:
        rel = p.relative_to(root)
        print(
            f"stale: {rel} (run `dlt lessons build` or `make lessons`)"
            if args.check
            else f"wrote {rel}"
        )
    if not changed:
        print(f"{len(lessons.sources(root))} student copies up to date")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
