"""Print pip's option for PyTorch's wheel index when it is in reach, else nothing and why.

    make install  ->  pip install ... $(python tools/torch_index.py $(TORCH_INDEX)) torch

Where the index answers, the option ``--extra-index-url URL`` adds it beside the default
index, and pip prefers its ``2.13.0+cpu`` to the public index's CUDA build. Where it does not
(a machine whose only way out is a package mirror), pip would retry it for every package of the
torch step, 81 s measured on such a machine, and then take what the other indexes and wheel
caches offer anyway; so the option is left out, with a warning on stderr that says which build
to expect. Standard library only: it runs before anything is installed.
"""

import sys
import urllib.error
import urllib.request
from pathlib import Path


def reachable(url: str, timeout: float = 15.0) -> bool:
    """Whether the index answers for torch (``URL/torch/``); a ``file:`` index must exist."""
    page = url.rstrip("/") + "/torch/"
    if page.startswith("file:"):
        return Path(urllib.request.url2pathname(page[len("file:") :])).is_dir()
    try:
        with urllib.request.urlopen(page, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tools/torch_index.py INDEX_URL", file=sys.stderr)
        return 2
    url = argv[0]
    if reachable(url):
        print(f"--extra-index-url {url}")
    else:
        print(
            f"torch index {url} is out of reach: torch comes from the configured indexes and "
            "wheel caches (on a plain PyPI, that is the CUDA build on Linux)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
