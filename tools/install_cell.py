"""Insert (or refresh) the Colab/Binder install cell after the parameters cell of every chapter.

It rewrites that one cell of every book/NN_slug.md; then `make execute` (or jupytext --sync)
carries it into the .ipynb twins.
"""

import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
url = re.search(
    r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:[ \t]*(\S+)",
    (ROOT / "_config.yml").read_text(),
    re.M,
).group(1)
# Where the install fails (no network, a proxy), the cell stops with what to run, instead of the
# next cell's bare ModuleNotFoundError. The package accepts the ipywidgets Colab ships (7.7), so
# installing it upgrades nothing that a running session has already imported.
CELL = f"""```{{code-cell}} ipython3
:tags: [remove-cell]

# Colab, Binder: install the library where it is missing (else this does nothing)
try:
    import dlt
except ImportError:
    %pip install --quiet "dlt-book @ git+{url}"
    import importlib

    importlib.invalidate_caches()
    try:
        import dlt
    except ImportError:
        raise RuntimeError(
            "dlt could not be installed (pip's message is above). Run this in a cell:\\n"
            '    %pip install "dlt-book @ git+{url}"\\n'
            "then restart the kernel and run the notebook again. Offline, install it "
            "from a clone of the repository: make install; make lab."
        ) from None
```"""
for md in sorted((ROOT / "book").glob("[0-9][0-9]_*.md")):
    t = md.read_text()
    t = re.sub(
        r"```\{code-cell\} ipython3\n:tags: \[remove-cell\]\n\n# Colab(?:,| and) Binder: install.*?\n```\n\n",
        "",
        t,
        flags=re.S,
    )
    m = re.search(r"```\{code-cell\} ipython3\n:tags: \[parameters\]\n.*?\n```\n", t, re.S)
    if not m:
        print("no parameters cell:", md)
        continue
    t = t[: m.end()] + "\n" + CELL + "\n" + t[m.end() :]
    md.write_text(t)
    print("install cell:", md.name)
