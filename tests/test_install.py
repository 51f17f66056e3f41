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
