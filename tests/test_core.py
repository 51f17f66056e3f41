"""check, train, viz, device, cli."""

import json
import math
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import dlt
from dlt import check, train
from dlt.nets import MLP
from dlt.train import fit

ROOT = Path(__file__).resolve().parents[1]


def test_check_returns_a_verdict_that_displays_its_line(capsys):
    v = check.close("pi", 3.1416, math.pi, atol=1e-3)
    assert v == pytest.approx(3.1416) and isinstance(v, float)
    assert capsys.readouterr().out == ""  # nothing printed: the cell shows the returned verdict
    assert repr(v) == "✔ pi\n  measured 3.142, expected 3.142 ± 0.001"
    assert str(v) == "3.1416" and f"{v:.2f}" == "3.14" and type(v + 1) is float
    assert repr(check.show(v, [v])).count("✔ pi") == 2
    neg = check.less("no gain", 1.2, 1.5, kind="negative")
    assert repr(neg).startswith("⊘ negative result, as the text states: no gain")
    with pytest.raises(ValueError, match="kind"):
        check.less("x", 1, 2, kind="maybe")
    check.less("small", 0.1, 0.2)
    check.greater("big", 2, 1)
    check.between("mid", 0.5, 0, 1)
    assert check.slope("s", [1, 10, 100], [1, 0.1, 0.01], -1.0, 0.01) == pytest.approx(-1.0)


def test_a_check_leaves_structured_output_beside_its_line(monkeypatch):
    from dlt.book import verdict

    monkeypatch.setattr(verdict, "_CONTEXT", {"device": None, "scale": None})
    dlt.setup("cpu", 0, scale=3, style=False, quiet=True)
    v = check.close("pi", 3.14159, math.pi, atol=1e-3, id="pi", rejects="It is 3.")
    bundle = v._repr_mimebundle_()
    assert set(bundle) == {"text/plain", check.MIME}
    assert bundle["text/plain"] == repr(v)  # the readable line, as before
    (rec,) = bundle[check.MIME]["claims"]
    assert rec == {
        "id": "pi",
        "statement": "pi",
        "measured": "3.142",
        "value": 3.142,  # rounded as displayed, so re-executed notebooks compare equal
        "expected": "3.142 ± 0.001",
        "band": {"target": 3.142, "tol": 0.001},
        "rejects": "It is 3.",
        "kind": "confirmed",
        "passed": True,
        "scale": 3,
        "device": "cpu",
    }
    small = check.less("tiny", 1.234e-7, 1e-6)  # displayed in exponent form
    assert small.claim.value == 1.23e-7 and small.claim.band == {"op": "<", "bound": 1e-6}
    r = check.show(v, check.greater("g", 2, 1, kind="open"), check.claim("w", True))
    rb = r._repr_mimebundle_()
    assert rb["text/plain"] == repr(r)
    assert [c["kind"] for c in rb[check.MIME]["claims"]] == ["confirmed", "open", "confirmed"]
    assert [c["band"] for c in rb[check.MIME]["claims"]][1:] == [{"op": ">", "bound": 1.0}, None]
    assert rb[check.MIME]["claims"][2]["value"] is None  # "True": words, not a number
    # numpy tolerances give numpy booleans; the record is plain JSON all the same
    tol = check.close("np", 1.0, 1.0, atol=np.float64(0.1))._repr_mimebundle_()
    assert json.loads(json.dumps(tol[check.MIME]))["claims"][0]["passed"] is True
    with pytest.raises(ValueError, match="scale"):
        dlt.setup("cpu", 0, scale=0, style=False, quiet=True)
    with pytest.raises(TypeError, match="scale"):
        dlt.setup("cpu", 0, scale=1.5, style=False, quiet=True)


@pytest.mark.parametrize(
    "call,message",
    [
        (
            lambda: check.close("c", 1.2, 1.0, rtol=0.1),
            "claim: c; measured 1.200, expected 1.000 ± 0.100",
        ),
        (lambda: check.less("l", 3, 2), "claim: l; measured 3.000, expected < 2.000"),
        (lambda: check.greater("g", float("nan"), 2), "claim: g; measured nan"),
        (
            lambda: check.slope("NTK error ~ width^-1/2", [1, 10], [1, 0.9], -0.5, 0.15),
            "claim: NTK error ~ width^-1/2; measured slope -0.05, expected -0.50 ± 0.15",
        ),
        (
            lambda: check.claim("train accuracy is 100%", False, "0.98", "1.00"),
            "measured 0.98, expected 1.00",
        ),
    ],
)
def test_check_failures_are_readable(call, message):
    with pytest.raises(check.ClaimError) as err:
        call()
    assert message in str(err.value)


def test_check_argument_errors():
    with pytest.raises(ValueError, match="atol and rtol"):
        check.close("x", 1, 1)
    with pytest.raises(ValueError, match="positive"):
        check.fit_slope([0, 1], [1, 2])
    with pytest.raises(ValueError, match="scalar"):
        check.less("x", torch.ones(2), 3)


def test_fit_full_batch_decreases_loss_and_records():
    torch.manual_seed(0)
    x, y = torch.randn(32, 3), torch.randn(32)
    net = MLP([3, 64, 1], seed=0)
    h = fit(
        net,
        x,
        y,
        lr=1.0,
        steps=200,
        record={"norm": lambda m: sum(p.norm() for p in m.parameters())},
    )
    assert h.last() < 0.5 * h.train_loss[0]
    assert h["step"][0] == 0 and h["step"][-1] == 200
    assert len(h["norm"]) == len(h["step"])
    with pytest.raises(KeyError, match="was not recorded"):
        h["missing"]


def test_fit_minibatch_adam_and_classification():
    x = torch.randn(64, 2)
    y = (x[:, 0] > 0).long()
    net = MLP([2, 32, 2], seed=0)
    h = fit(net, x, y, loss="cross_entropy", optimizer="adam", lr=1e-2, steps=150, batch_size=16)
    acc = float((net(x).argmax(1) == y).float().mean())
    assert acc > 0.9 and h.last() < h.train_loss[0]


def test_fit_minibatch_loss_instead_of_full_loss_same_training():
    """full_loss=False records minibatch losses without a pass over X; training is unchanged."""
    x, y = torch.randn(64, 3), torch.randn(64)
    runs = {}
    for full in (True, False):
        net = MLP([3, 16, 1], seed=0)
        h = fit(net, x, y, lr=0.1, steps=20, batch_size=8, record_every=5, full_loss=full)
        runs[full] = (h, torch.cat([p.detach().flatten() for p in net.parameters()]))
    (h_full, w_full), (h_batch, w_batch) = runs[True], runs[False]
    assert torch.equal(w_full, w_batch), "the recorded loss must not change the training"
    assert h_full.step == h_batch.step
    with torch.no_grad():
        first = float(0.5 * (MLP([3, 16, 1], seed=0)(x)[:, 0] - y).pow(2).mean())
    assert h_full.train_loss[0] == pytest.approx(first), "full_loss=True: the loss on all of X"
    assert h_batch.train_loss[0] != pytest.approx(first), "full_loss=False: a minibatch's loss"
    assert all(math.isfinite(v) for v in h_batch.train_loss)


def test_fit_detects_divergence():
    x, y = torch.randn(16, 2), torch.randn(16)
    h = fit(MLP([2, 16, 1], seed=0), x, y, lr=1e4, steps=200, record_every=1)
    assert h.diverged


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(lr=0), "lr must be > 0"),
        (dict(steps=-1), "steps must be >= 0"),
        (dict(loss="hinge"), "loss must be one of"),
        (dict(optimizer="lbfgs"), "optimizer must be one of"),
    ],
)
def test_fit_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(MLP([2, 4, 1], seed=0), torch.randn(4, 2), torch.randn(4), **kwargs)


def test_fit_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="y must have 4 rows"):
        fit(MLP([2, 4, 1], seed=0), torch.randn(4, 2), torch.randn(5))


def test_static_explorer_has_one_frame_per_combination():
    from dlt import viz

    def draw(a, b):
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot(np.arange(3) * a + b)
        return fig

    out = viz.explore(draw, mode="static", a=[1, 2, 3], b=[0, 1])
    html = out.data
    assert html.count('class="dlt-explorer-frame"') == 6
    assert html.count('type="range"') == 2
    assert "addEventListener" in html
    with pytest.raises(ValueError, match="max_frames"):
        viz.explore(draw, mode="static", max_frames=4, a=[1, 2, 3], b=[0, 1])
    with pytest.raises(ValueError, match="non-empty list"):
        viz.explore(draw, mode="static", a=[])
    with pytest.raises(ValueError, match="mode must be"):
        viz.explore(draw, mode="dynamic", a=[1])


def test_device_honours_environment(monkeypatch):
    monkeypatch.setenv("DLT_DEVICE", "cpu")
    assert dlt.device() == torch.device("cpu")
    assert dlt.device("cpu") == torch.device("cpu")
    monkeypatch.setenv("DLT_DEVICE", "tpu")
    with pytest.raises(ValueError, match="DLT_DEVICE must be one of"):
        dlt.device()
    monkeypatch.delenv("DLT_DEVICE")
    with pytest.raises(ValueError, match="device must be one of"):
        dlt.device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            dlt.device("cuda")
        assert dlt.device("auto") == torch.device("cpu")


def test_cli_lists_chapters():
    out = subprocess.run(
        [sys.executable, "-m", "dlt", "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "02_nngp" in out and "03_ntk" in out


def test_cli_rejects_unknown_chapter():
    res = subprocess.run(
        [sys.executable, "-m", "dlt", "run", "99_nothing"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode != 0 and "unknown chapter" in res.stderr


def test_integer_arguments_accept_numpy_integers():
    from dlt.core.validate import check_int

    assert check_int(np.int64(3), "n", minimum=1) == 3
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int(2.5, "n")
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int(True, "n")


class _Recorder(torch.nn.Module):
    """Records which samples (X[i] = i) each training step sees."""

    def __init__(self, batch_size: int):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.batch_size, self.seen = batch_size, []

    def forward(self, x):
        if x.shape[0] == self.batch_size:
            self.seen.append(x[:, 0].long().tolist())
        return x[:, 0] * self.w


def test_fit_shuffles_minibatches_every_epoch():
    """Planted-bug guard: minibatches must be a fresh permutation each epoch, not range(n) in order."""
    n, bs = 12, 4
    model = _Recorder(bs)
    fit(
        model,
        torch.arange(n, dtype=torch.float32)[:, None],
        torch.zeros(n),
        batch_size=bs,
        steps=9,
        seed=0,
    )
    epochs = [sum(model.seen[i : i + n // bs], []) for i in range(0, 9, n // bs)]
    assert all(sorted(e) == list(range(n)) for e in epochs), "an epoch must visit every sample once"
    assert epochs[0] != list(range(n)), (
        "the first epoch is in index order: minibatches are not shuffled"
    )
    assert len({tuple(e) for e in epochs}) == 3, (
        "two epochs in the same order: no fresh permutation per epoch"
    )
    again = _Recorder(bs)
    fit(
        again,
        torch.arange(n, dtype=torch.float32)[:, None],
        torch.zeros(n),
        batch_size=bs,
        steps=9,
        seed=0,
    )
    assert again.seen == model.seen, "the order must be reproducible from the seed"


def test_minibatch_indices_are_uniform_over_positions():
    """Each sample is equally likely at each position of an epoch (a biased shuffle would fail)."""
    batches = train.minibatch_indices(4, 4, seed=0)
    counts = torch.zeros(4, 4)
    for _ in range(4000):
        counts[torch.arange(4), next(batches)] += 1
    assert (counts - 1000).abs().max() < 5 * math.sqrt(1000 * 0.75 * 0.25) * 2


def _notebook(path, *cells):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell('DEVICE = "auto"\nSCALE = 1\nSEED = 0')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path


@pytest.mark.notebook
def test_dlt_run_reports_the_failing_line_and_keeps_the_last_good_output(tmp_path):
    """`dlt run` is the GPU workflow's only feedback: it must say what failed, on which line of
    which cell, and where the partial output is, and a failed run must not replace a good one."""
    from dlt.book.cli import describe_failure, failed_output, run_chapter

    path = tmp_path / "99_broken.ipynb"
    out = tmp_path / "out"
    _notebook(path, "x = 1\nprint('good run')")
    run_chapter(path, out, device="cpu", progress=False)
    good = (out / path.name).read_text()
    assert "good run" in good and not failed_output(out, path).exists()
    _notebook(
        path,
        "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nraise ValueError('width must be > 0, got -1')\nf = 6",
    )
    with pytest.raises(Exception) as err:
        run_chapter(path, out, device="cpu", progress=False)
    text = describe_failure(err.value, failed_output(out, path))
    assert "ValueError: width must be > 0, got -1" in text
    assert "line 6:" in text and "-->    6  raise ValueError" in text, text
    assert "a = 1" not in text and "e = 5" in text, "the failing line and the one before, only"
    assert f"partial output: {failed_output(out, path)}" in text
    assert failed_output(out, path).exists()
    assert (out / path.name).read_text() == good, "a failed run replaced the last good output"


def test_describe_failure_without_a_traceback_shows_the_cell_start():
    from dlt.book.cli import describe_failure

    class Err(Exception):
        ename, evalue, source, cell_index, exec_count = "KeyError", "'k'", "a\nb\nc\nd\ne", 3, 3

    text = describe_failure(Err(), Path("o.ipynb"))
    assert "which starts:" in text and "    d" in text and "    e" not in text


def test_dlt_run_refuses_cuda_before_starting_a_kernel(monkeypatch, capsys):
    import papermill

    from dlt.book import cli

    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "03", "--device", "cuda"])
    assert "CUDA is not available" in str(exit_.value) and "--device cpu" in str(exit_.value)
    with pytest.raises(ValueError, match="CUDA is not available"):
        cli.run_chapter(ROOT / "book" / "03_ntk.ipynb", ROOT / "_build" / "x", device="cuda")
    monkeypatch.setenv("DLT_DEVICE", "cuda")
    with pytest.raises(SystemExit, match="DLT_DEVICE is 'cuda'"):
        cli.main(["run", "03", "--device", "auto"])


def test_dlt_run_finds_a_chapter_by_its_number():
    from dlt.book.cli import _resolve

    assert _resolve("3", ROOT).stem == "03_ntk"
    assert _resolve("03", ROOT).stem == "03_ntk"
    assert _resolve("03_ntk", ROOT).stem == "03_ntk"
    assert _resolve("11", ROOT).stem.startswith("11_")
    with pytest.raises(SystemExit, match="unknown chapter '30'"):
        _resolve("30", ROOT)


def test_dlt_list_columns_fit_the_longest_slug(capsys, monkeypatch):
    from dlt.book import cli

    monkeypatch.chdir(ROOT)
    assert cli.main(["list"]) == 0
    rows = capsys.readouterr().out.splitlines()
    slugs = [p.stem for p in cli.chapters(ROOT)]
    assert len(rows) == len(slugs)
    col = max(map(len, slugs)) + 2
    for row, slug in zip(rows, slugs, strict=True):
        assert row.startswith(slug) and row[len(slug) : col].strip() == "" and row[col] != " "


def test_dlt_version_and_scale_usage():
    out = subprocess.run(
        [sys.executable, "-m", "dlt", "--version"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("dlt ")
    bad = subprocess.run(
        [sys.executable, "-m", "dlt", "run", "03", "--scale", "-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "dlt run: error: argument --scale: must be >= 1" in bad.stderr


@pytest.mark.parametrize("span", [(2, 64), (20, 80), (0.2, 0.9), (16, 4096), (1e-5, 1e-2)])
def test_log_axis_tick_labels_do_not_collide(span):
    """With the book's style, no two tick labels of a log axis overlap at the figure width."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from dlt.viz import use_style

    use_style()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    x = np.geomspace(*span, 6)
    ax.loglog(x, 1 / x, "o")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for axis in (ax.xaxis, ax.yaxis):
        labels = [t for t in axis.get_ticklabels() + axis.get_ticklabels(minor=True)]
        boxes = [t.get_window_extent(renderer) for t in labels if t.get_text() and t.get_visible()]
        boxes = [b for b in boxes if b.width > 0]
        assert boxes, f"no tick labels on a log axis spanning {span}"
        overlaps = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.overlaps(b)]
        assert not overlaps, f"{len(overlaps)} overlapping tick labels spanning {span}"
    plt.close(fig)


def test_relative_error_in_each_norm_against_hand_computed_values():
    from dlt.core.numeric import relative_error

    a = torch.tensor([[1.0, 2.0], [3.0, 5.0]])
    b = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert relative_error(a, b) == pytest.approx(1 / math.sqrt(30))
    assert relative_error(a, b, norm="max") == pytest.approx(1 / 4)
    assert relative_error(a, b, norm="elementwise") == pytest.approx(1 / 4)
    # the max norm divides by the largest reference entry, the elementwise one by each entry
    c = torch.tensor([0.1, 10.0])
    assert relative_error(c + torch.tensor([0.1, 0.0]), c, norm="max") == pytest.approx(0.01)
    assert relative_error(c + torch.tensor([0.1, 0.0]), c, norm="elementwise") == pytest.approx(1.0)
    # Python numbers and lists are compared in float64 too (not rounded to float32 first)
    x, y = 2.1730769230769234, 2.173076923076923  # one float64 ulp apart
    assert relative_error(x, y) == abs(x - y) / y > 0
    assert relative_error([x, 1.0], [y, 1.0]) == pytest.approx(abs(x - y) / math.hypot(y, 1))
    # scale-invariant, and not symmetric
    assert relative_error(3 * a, 3 * b) == pytest.approx(relative_error(a, b))
    assert relative_error(b, a) != pytest.approx(relative_error(a, b))
    with pytest.raises(ValueError, match="same shape"):
        relative_error(a, b[0])
    with pytest.raises(ValueError, match="reference is zero"):
        relative_error(a, torch.zeros(2, 2))
    with pytest.raises(ValueError, match="zero entry"):
        relative_error(c, torch.tensor([0.0, 1.0]), norm="elementwise")
    with pytest.raises(ValueError, match="norm"):
        relative_error(a, b, norm="l1")
    with pytest.raises(ValueError, match="estimate"):
        relative_error(torch.tensor([float("nan"), 1.0]), c)
