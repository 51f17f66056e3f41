"""The package installs as users install it: a built wheel into a fresh environment that
already has torch (as Colab has), without replacing that torch, and ``import dlt`` works."""

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.install


def _run(*cmd: str, cwd: Path | None = None) -> str:
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, (
        f"{' '.join(cmd)} failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
    )
    return res.stdout


def test_wheel_installs_beside_an_existing_torch(tmp_path):
    _run(
        sys.executable,
        "-m",
        "build",
        "--wheel",
        "--no-isolation",
        "--outdir",
        str(tmp_path / "dist"),
        str(ROOT),
    )
    wheel = next((tmp_path / "dist").glob("dlt_book-*.whl"))
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith("METADATA"))).decode()
    assert "Name: dlt-book" in meta
    torch_req = [ln for ln in meta.splitlines() if ln.startswith("Requires-Dist: torch")]
    assert torch_req and "==" not in torch_req[0], f"the package must not pin torch: {torch_req}"
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env)
    py = str(env / "bin" / "python")
    pip = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run(*pip, "torch==2.13.0")  # the user's torch, there before dlt (Colab ships its own build)
    before = _run(py, "-c", "import torch; print(torch.__version__)").strip()
    _run(*pip, str(wheel))
    after = _run(py, "-c", "import torch; print(torch.__version__)").strip()
    assert after == before, f"installing dlt-book replaced torch {before} by {after}"
    out = _run(
        py,
        "-c",
        "import dlt, torch; print(dlt.__file__); print(dlt.kernels.relu_nngp(torch.eye(2))[0, 0].item())",
        cwd=tmp_path,
    )
    path, value = out.strip().splitlines()
    assert str(env) in path, f"dlt was imported from {path}, not from the fresh environment"
    assert abs(float(value) - 0.25) < 1e-12  # E[relu(u)^2] = 1/4 for u ~ N(0, 1/2)


# The CPU build of torch (issue: a fresh machine resolved PyPI's CUDA build and its nvidia-*
# packages). The Makefile's torch command is read from `make -n`, so the test checks the command
# that runs, not a copy of it.
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _make_torch_command(tmp_path: Path, *overrides: str) -> str:
    """The Makefile's torch install line, as `make -n` prints it for a fresh environment, with
    this interpreter in place of the fresh environment's (a shell line: it asks
    tools/torch_index.py whether the index answers)."""
    venv = tmp_path / "v"
    out = subprocess.run(
        ["make", "-n", "-B", "install", f"VENV={venv}", *overrides],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [
        ln for ln in out.splitlines() if "pip install" in ln and ln.rstrip().endswith(" torch")
    ]
    assert len(lines) == 1, f"one torch install line expected in `make -n install`:\n{out}"
    return lines[0].replace(f"{venv}/bin/python", sys.executable)


def test_make_installs_torch_from_the_cpu_index(tmp_path):
    line = _make_torch_command(tmp_path)
    assert f"$({sys.executable} tools/torch_index.py {CPU_INDEX}) torch" in line, line
    assert " -c constraints/cpu.txt " in line
    assert (ROOT / "constraints" / "cpu.txt").read_text().count("torch==2.13.0") == 1
    cuda = "https://download.pytorch.org/whl/cu130"
    assert f"tools/torch_index.py {cuda})" in _make_torch_command(tmp_path, f"TORCH_INDEX={cuda}")


def test_torch_index_is_added_only_where_it_answers(tmp_path):
    """Out of reach, pip retried the index for every package of the torch step (81 s here)."""
    (tmp_path / "cpu" / "torch").mkdir(parents=True)
    probe = [sys.executable, str(ROOT / "tools" / "torch_index.py")]
    ok = subprocess.run([*probe, (tmp_path / "cpu").as_uri()], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.split() == [
        "--extra-index-url",
        (tmp_path / "cpu").as_uri(),
    ]
    for url in ((tmp_path / "none").as_uri(), "http://127.0.0.1:9/whl/cpu"):
        off = subprocess.run([*probe, url], capture_output=True, text=True, timeout=60)
        assert off.returncode == 0 and off.stdout == "", off.stdout
        assert "out of reach" in off.stderr and "CUDA build" in off.stderr


def _wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    import zipfile

    dist = f"{name.replace('-', '_')}-{version}"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    wheel = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as z:
        z.writestr(f"{dist}.dist-info/METADATA", meta)
        z.writestr(f"{dist}.dist-info/WHEEL", wheel)
        z.writestr(f"{dist}.dist-info/RECORD", "")


def _simple_index(root: Path, files: Path, wheels: dict[str, list[str]]) -> str:
    """A PEP 503 index on disk: root/<project>/index.html linking its wheels in `files`."""
    for project, names in wheels.items():
        (root / project).mkdir(parents=True, exist_ok=True)
        links = "".join(f'<a href="{(files / f).as_uri()}">{f}</a>\n' for f in names)
        (root / project / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")
    return root.as_uri()


def _dry_run(line: str, index_url: str, report: Path) -> dict[str, str]:
    """Run the install line as a dry run against `index_url` alone; {name: version}."""
    import json
    import os
    import shlex

    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # not this machine's find-links and mirrors
    line += " --dry-run --ignore-installed --report " + shlex.quote(str(report))
    line += " --index-url " + shlex.quote(index_url)
    res = subprocess.run(
        ["bash", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert res.returncode == 0, f"{line} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    items = json.loads(report.read_text())["install"]
    return {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in items}


def test_the_cpu_index_wins_over_a_cuda_build_of_the_same_version(tmp_path):
    """Offline: the public index as PyPI serves Linux (torch 2.13.0 requiring an nvidia package),
    the CPU index with 2.13.0+cpu. The Makefile's command resolves the CPU build and no nvidia-*;
    the same command without the CPU index (the old Makefile) resolves the CUDA build."""
    files = tmp_path / "files"
    _wheel(files, "torch", "2.13.0", ("nvidia-cublas==13.1.1.3", "filelock"))
    _wheel(files, "nvidia-cublas", "13.1.1.3")
    _wheel(files, "filelock", "3.20.0")
    _wheel(files, "torch", "2.13.0+cpu", ("filelock",))
    _wheel(files, "torch", "2.14.0")  # a newer release: the constraint keeps 2.13.0
    pypi = _simple_index(
        tmp_path / "pypi",
        files,
        {
            "torch": ["torch-2.13.0-py3-none-any.whl", "torch-2.14.0-py3-none-any.whl"],
            "nvidia-cublas": ["nvidia_cublas-13.1.1.3-py3-none-any.whl"],
            "filelock": ["filelock-3.20.0-py3-none-any.whl"],
        },
    )
    cpu = _simple_index(tmp_path / "cpu", files, {"torch": ["torch-2.13.0+cpu-py3-none-any.whl"]})
    line = _make_torch_command(tmp_path, f"TORCH_INDEX={cpu}")
    got = _dry_run(line, pypi, tmp_path / "cpu.json")
    assert got.get("torch") == "2.13.0+cpu", got
    assert not [n for n in got if n.startswith("nvidia")], got
    # the CPU index out of reach (or the old Makefile, without it): the public index's CUDA build
    line = _make_torch_command(tmp_path, f"TORCH_INDEX={(tmp_path / 'gone').as_uri()}")
    old = _dry_run(line, pypi, tmp_path / "old.json")
    assert old.get("torch") == "2.13.0" and "nvidia-cublas" in old, old


def _reachable(host: str) -> bool:
    import socket

    try:
        socket.create_connection((host, 443), timeout=5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(
    not (_reachable("download.pytorch.org") and _reachable("pypi.org")),
    reason="PyPI or PyTorch's CPU index is out of reach: the offline test above checks the logic",
)
def test_the_public_indexes_resolve_no_nvidia_package(tmp_path):
    """Online: the Makefile's torch command against PyPI and PyTorch's CPU index themselves
    (pip fetches the chosen wheels' metadata, a few hundred MB where an index has no PEP 658
    metadata files)."""
    got = _dry_run(_make_torch_command(tmp_path), "https://pypi.org/simple", tmp_path / "r.json")
    assert got.get("torch", "").endswith("+cpu"), got
    assert not [n for n in got if n.startswith("nvidia") or n == "triton"], got


# Colab and Binder: the install cell of every chapter, and the oldest ipywidgets it accepts.


def _install_cell() -> str:
    import jupytext

    nb = jupytext.read(ROOT / "book" / "01_generalization.md")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "%pip install" in code[1].source
    return code[1].source


def test_the_install_cell_stops_with_what_to_run_when_the_install_fails(tmp_path):
    """Without network the cell used to print pip's error and let the next cell die with a bare
    ModuleNotFoundError; now it raises, naming the command to run."""
    import re

    import nbclient
    import nbformat

    cell = _install_cell()
    url = re.search(r'git\+(\S+?)"', cell).group(1)
    broken = cell.replace(f"git+{url}", f"git+{(tmp_path / 'no-such-repo').as_uri()}")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    hide = "import sys\nsys.modules['dlt'] = None  # as if dlt were not installed"
    nb.cells = [nbformat.v4.new_code_cell(hide), nbformat.v4.new_code_cell(broken)]
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    )
    with pytest.raises(nbclient.exceptions.CellExecutionError) as err:
        client.execute()
    assert err.value.ename == "RuntimeError", err.value
    assert "dlt could not be installed" in err.value.evalue
    assert f'%pip install "dlt-book @ git+{tmp_path.as_uri()}' in err.value.evalue
    assert "restart the kernel" in err.value.evalue


_LIVE_PROBE = """
import os, sys
import nbclient, nbformat
cells = [
    '''import os
os.environ["DLT_STATIC"] = "0"
import ipywidgets, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from dlt import viz
from dlt.book import explorer
calls = []
def draw(a, b):
    calls.append((a, b))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, a * b])
    return fig
w = viz.explore(draw, a=[1, 2, 3], b=[10, 20])
assert explorer._live_available() and type(w).__name__ == "interactive", type(w)
w.children[0].value = 3
w.children[1].value = 20
assert calls[-2:] == [(3, 10), (3, 20)], calls
print("live explorer ok with ipywidgets", ipywidgets.__version__, ipywidgets.__file__)''',
]
nb = nbformat.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute()
print(nb.cells[-1].outputs[0]["text"])
"""


def test_the_live_explorer_works_with_the_oldest_ipywidgets_the_package_accepts(tmp_path):
    """The package accepts the ipywidgets Colab ships; the explorer's sliders redraw with it."""
    import os
    import re
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    floor = re.fullmatch(r"ipywidgets>=(\d+\.\d+)", next(d for d in deps if "ipywidgets" in d))
    assert floor, deps
    target = tmp_path / "old"
    # ipywidgets 7's own requirements, without the kernel and IPython it shares with the venv
    _run(
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--target", str(target), f"ipywidgets=={floor.group(1)}.*",
        "widgetsnbextension~=3.6.0", "jupyterlab-widgets<3", "ipython_genutils~=0.2.0",
    )  # fmt: skip
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), str(ROOT)]))
    res = subprocess.run(
        [sys.executable, "-c", _LIVE_PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"ipywidgets {floor.group(1)}." in res.stdout and str(target) in res.stdout, res.stdout
