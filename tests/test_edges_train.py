"""Edges of the training loop's promises: every option with every kind of model.

`fit` builds its optimizer from ``model.param_groups(lr)`` when the model declares parameter
groups (:class:`dlt.nets.MLP`) and from the plain parameter list otherwise. Each option must
reach both: these tests take one step (or a few) from a known start and compare with the
update written out by hand (not with a second torch optimizer), for SGD, Adam and AdamW, with
and without weight decay, full-batch and on minibatches, for a plain ``nn.Sequential`` and for
MLPs in the standard, NTK, mean-field and muP parameterizations (whose per-layer rates differ).
"""

import itertools
import math
import re

import pytest
import torch
from torch import nn

from dlt.nets import MLP
from dlt.train import fit, logistic_descent, minibatch_indices

KINDS = ["sequential", "mlp-standard", "mlp-ntk", "mlp-mean_field", "mlp-mup"]
OPTIMIZERS = ["sgd", "adam", "adamw"]


def _model(kind: str) -> nn.Module:
    torch.manual_seed(0)
    if kind == "sequential":
        return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    return MLP([3, 8, 1], "tanh", kind.split("-", 1)[1], sigma_b=0.5, seed=0, dtype=torch.float64)


def _data(n=12):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return X, torch.sin(X[:, 0]) + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)


def _rates(model: nn.Module, lr: float) -> list[tuple[nn.Parameter, float]]:
    """Each trainable parameter with its learning rate, from the model's own declaration."""
    if hasattr(model, "param_groups"):
        return [(p, g["lr"]) for g in model.param_groups(lr) for p in g["params"]]
    return [(p, lr) for p in model.parameters()]


def _by_hand(model, X, y, optimizer, lr, wd, batch=None):
    """θ after one step of ``optimizer`` from θ0, written out (Adam's first step included)."""
    xb, yb = (X, y) if batch is None else (X[batch], y[batch])
    out = model(xb)
    out = out[:, 0] if out.ndim == 2 else out
    loss = 0.5 * ((out - yb) ** 2).mean()
    params = [p for p, _ in _rates(model, lr)]
    grads = torch.autograd.grad(loss, params)
    eps = 1e-8  # torch's default for Adam and AdamW
    new = []
    for (p, rate), g in zip(_rates(model, lr), grads, strict=True):
        p = p.detach()
        if optimizer == "sgd":  # L2 term added to the gradient
            new.append(p - rate * (g + wd * p))
        elif optimizer == "adam":  # first step: m̂ = g', v̂ = g'², with g' = g + wd θ
            gp = g + wd * p
            new.append(p - rate * gp / (gp.abs() + eps))
        else:  # adamw: decoupled decay θ(1 − η λ), then the Adam step on g
            new.append(p * (1 - rate * wd) - rate * g / (g.abs() + eps))
    return new


@pytest.mark.parametrize(
    "kind, optimizer, wd", list(itertools.product(KINDS, OPTIMIZERS, [0.0, 0.3]))
)
def test_one_full_batch_step_matches_the_update_by_hand(kind, optimizer, wd):
    """Catches: weight_decay, or the per-layer rates, lost for models with ``param_groups``."""
    X, y = _data()
    lr = 0.05
    model = _model(kind)
    want = _by_hand(model, X, y, optimizer, lr, wd)
    fit(model, X, y, optimizer=optimizer, lr=lr, weight_decay=wd, steps=1)
    got = [p.detach() for p, _ in _rates(model, lr)]
    for a, b in zip(got, want, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12), (kind, optimizer, wd)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_one_minibatch_step_uses_the_first_seeded_batch(kind, optimizer):
    X, y = _data(12)
    lr, wd = 0.05, 0.1
    model = _model(kind)
    batch = next(minibatch_indices(12, 4, seed=7))
    want = _by_hand(model, X, y, optimizer, lr, wd, batch=batch)
    fit(model, X, y, optimizer=optimizer, lr=lr, weight_decay=wd, steps=1, batch_size=4, seed=7)
    for a, b in zip([p.detach() for p, _ in _rates(model, lr)], want, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12), kind


@pytest.mark.parametrize("kind", KINDS)
def test_weight_decay_alone_shrinks_every_parameter_geometrically(kind):
    """On a loss that is identically 0, SGD's decay alone gives θ_t = (1 − η_g λ)^t θ_0, with
    each group's own rate η_g (per-layer rates of muP and mean-field included)."""
    X, _ = _data()
    lr, wd, steps = 0.1, 0.5, 3
    model = _model(kind)
    start = [(p.detach().clone(), rate) for p, rate in _rates(model, lr)]
    fit(model, X, torch.zeros(len(X)), loss=lambda out, y: 0.0 * out.sum(), lr=lr,
        weight_decay=wd, steps=steps)  # fmt: skip
    for (p, _), (p0, rate) in zip(_rates(model, lr), start, strict=True):
        assert torch.allclose(p.detach(), (1 - rate * wd) ** steps * p0, rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_record_stop_and_callback_work_with_every_model_kind(kind):
    X, y = _data()
    model = _model(kind)
    seen = []
    h = fit(
        model,
        X,
        y,
        optimizer="adam",
        lr=0.01,
        weight_decay=0.01,
        steps=50,
        record_every=5,
        batch_size=6,
        record={"norm": lambda m: float(sum((p**2).sum() for p in m.parameters()))},
        callback=lambda step, m: seen.append(step),
        stop=lambda hist: len(hist.step) == 4,
    )
    assert h.step == [0, 5, 10, 15] and seen == h.step
    assert len(h["norm"]) == 4 and not h.diverged
    # the recorded loss is the full-data loss (full_loss=True), not the minibatch's
    with torch.no_grad():
        out = model(X)
        out = out[:, 0] if out.ndim == 2 else out
    assert h.train_loss[-1] == pytest.approx(0.5 * float(((out - y) ** 2).mean()), rel=1e-12)


def test_stop_ends_at_the_record_where_it_first_holds_and_no_step_after():
    X, y = _data()
    model = _model("mlp-ntk")
    h = fit(model, X, y, lr=0.1, steps=100, record_every=10, stop=lambda hist: hist.step[-1] == 30)
    assert h.step == [0, 10, 20, 30]
    again = _model("mlp-ntk")
    fit(again, X, y, lr=0.1, steps=30)
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)  # stopped before the 31st step


def test_zero_steps_records_the_start_and_changes_nothing():
    X, y = _data()
    model = _model("mlp-mup")
    before = [p.detach().clone() for p in model.parameters()]
    h = fit(model, X, y, steps=0)
    assert h.step == [0] and all(
        torch.equal(a, b) for a, b in zip(model.parameters(), before, strict=True)
    )


def test_a_diverging_run_stops_and_says_so():
    X, y = _data()
    model = _model("sequential")
    h = fit(model, X, 1e3 * y, lr=50.0, steps=200, record_every=1)
    assert h.diverged and not math.isfinite(h.train_loss[-1]) and len(h.step) < 200


def test_minibatches_cover_each_epoch_once_and_reshuffle():
    batches = minibatch_indices(10, 3, seed=0)
    epochs = [torch.cat([next(batches) for _ in range(3)]) for _ in range(4)]
    for e in epochs:
        assert len(set(e.tolist())) == 9  # 3 full batches, the remainder of 1 dropped
    assert len({tuple(e.tolist()) for e in epochs}) > 1


def test_progress_bar_is_on_for_long_live_runs_only(monkeypatch):
    from dlt.train import progress_enabled

    monkeypatch.delenv("DLT_PROGRESS", raising=False)
    assert progress_enabled(200) and not progress_enabled(199)
    monkeypatch.setenv("DLT_PROGRESS", "0")
    assert not progress_enabled(10_000)
    assert progress_enabled(5, progress=True) and not progress_enabled(10_000, progress=False)
    monkeypatch.setenv("DLT_PROGRESS", "1")
    assert progress_enabled(10_000)


def test_a_run_with_the_progress_bar_trains_exactly_as_without():
    X, y = _data()
    runs = []
    for progress in (True, False):
        model = _model("mlp-ntk")
        h = fit(model, X, y, lr=0.1, steps=30, record_every=10, progress=progress)
        runs.append((h.step, h.train_loss, [p.detach().clone() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0] == [0, 10, 20, 30] and runs[0][1] == runs[1][1]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][2], runs[1][2], strict=True))


def test_default_record_every_gives_about_a_hundred_records_and_the_last_step():
    X, y = _data()
    h = fit(_model("sequential"), X, y, lr=0.01, steps=250)
    assert h.step[:3] == [0, 2, 4] and h.step[-1] == 250 and len(h.step) == 126
    h = fit(_model("sequential"), X, y, lr=0.01, steps=7)
    assert h.step == list(range(8))


def test_full_loss_false_records_the_minibatch_loss():
    X, y = _data(12)
    full = fit(_model("sequential"), X, y, lr=0.05, steps=6, batch_size=4, record_every=3)
    mini = fit(_model("sequential"), X, y, lr=0.05, steps=6, batch_size=4, record_every=3,
               full_loss=False)  # fmt: skip
    assert full.step == mini.step == [0, 3, 6]
    assert full.train_loss[0] != mini.train_loss[0]
    model = _model("sequential")
    with torch.no_grad():
        assert full.train_loss[0] == pytest.approx(0.5 * float(((model(X)[:, 0] - y) ** 2).mean()))
    # a batch as large as the data is full-batch training
    a = fit(_model("sequential"), X, y, lr=0.05, steps=4, batch_size=12)
    b = fit(_model("sequential"), X, y, lr=0.05, steps=4)
    assert a.train_loss == b.train_loss


def test_fit_and_history_errors_name_the_argument():
    X, y = _data()
    model = _model("sequential")
    with pytest.raises(TypeError, match=r"^model must be a torch.nn.Module, got list"):
        fit([], X, y)
    with pytest.raises(TypeError, match=r"^X and y must be tensors"):
        fit(model, X.tolist(), y)
    with pytest.raises(
        ValueError,
        match=r"^X must have shape \(n, \.\.\.\), a sample dimension first, got shape \(12,\)",
    ):
        fit(model, X[:, 0], y)
    with pytest.raises(ValueError, match=r"^y must have 12 rows to match X, got shape \(11,\)"):
        fit(model, X, y[:11])
    for kw, name in (({"lr": 0.0}, "lr"), ({"steps": -1}, "steps"), ({"weight_decay": -1.0}, "weight_decay"),
                     ({"batch_size": 0}, "batch_size"), ({"record_every": 0}, "record_every"),
                     ({"optimizer": "lbfgs"}, "optimizer"), ({"loss": "hinge"}, "loss")):  # fmt: skip
        with pytest.raises(ValueError, match=rf"^{name}"):
            fit(model, X, y, steps=kw.pop("steps", 2), **kw)
    h = fit(model, X, y, steps=2, record={"zero": lambda m: 0.0})
    with pytest.raises(
        KeyError, match=r"'nope' was not recorded; recorded: \['step', 'train_loss', 'zero'\]"
    ):
        h["nope"]
    assert h.last("zero") == 0.0 and h["step"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match=r"^batch_size must be <= n = 3, got 4"):
        next(minibatch_indices(3, 4))
    with pytest.raises(ValueError, match=r"^n"):
        next(minibatch_indices(0, 1))


def test_a_custom_optimizer_gets_the_trainable_parameters_only():
    X, y = _data()
    model = _model("sequential")
    model[0].weight.requires_grad_(False)
    frozen = model[0].weight.detach().clone()
    seen = []

    def make(params):
        params = list(params)
        seen.extend(params)
        return torch.optim.SGD(params, lr=0.1)

    fit(model, X, y, optimizer=make, steps=3)
    assert len(seen) == 3 and all(p.requires_grad for p in seen)
    assert torch.equal(model[0].weight, frozen)


def test_the_progress_bar_counts_every_step(capsys, monkeypatch):
    X, y = _data()
    fit(_model("sequential"), X, y, lr=0.01, steps=30, progress=True)
    err = capsys.readouterr().err
    assert re.search(r"(^|\r)training: ", err) and "/30" in err and "60/30" not in err
    assert err.endswith("\r") and not err.endswith("\n")  # leave=False: erased when done
    monkeypatch.delenv("DLT_PROGRESS", raising=False)
    fit(_model("sequential"), X, y, lr=0.01, steps=30)  # live session, short run: no bar
    assert "training" not in capsys.readouterr().err


def test_documented_defaults_of_fit_and_minibatch_indices():
    """lr = 0.1, steps = 1000, seed = 0 (fit) and seed = 0 (minibatch_indices)."""
    X, y = _data(12)
    a, b = _model("sequential"), _model("sequential")
    ha = fit(a, X, y, batch_size=4, record_every=500)
    hb = fit(b, X, y, lr=0.1, steps=1000, seed=0, batch_size=4, record_every=500)
    assert ha.step == hb.step == [0, 500, 1000] and ha.train_loss == hb.train_loss
    assert ha.last() == ha.train_loss[-1] != ha.train_loss[-2]
    assert [next(minibatch_indices(10, 3)).tolist() for _ in range(2)] == [
        next(minibatch_indices(10, 3, seed=0)).tolist()
    ] * 2


def test_minibatches_are_full_and_sizes_one_are_allowed():
    batches = minibatch_indices(8, 3, seed=1)
    assert all(len(next(batches)) == 3 for _ in range(12))  # 2 per epoch, never a short one
    assert next(minibatch_indices(1, 1)).tolist() == [0]
    X, y = _data(12)
    h = fit(_model("sequential"), X, y, lr=0.01, steps=3, batch_size=1)
    assert h.step == [0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"^batch_size"):
        next(minibatch_indices(5, 0))


def test_full_batch_with_full_loss_false_and_the_callback_gets_the_model():
    X, y = _data()
    model = _model("sequential")
    got = []
    a = fit(model, X, y, lr=0.05, steps=4, full_loss=False, callback=lambda s, m: got.append(m))
    b = fit(_model("sequential"), X, y, lr=0.05, steps=4)
    assert a.train_loss == b.train_loss and all(m is model for m in got) and len(got) == 5
    h = fit(_model("sequential"), X, y, lr=0.01, steps=300)
    assert h.step[:2] == [0, 3]  # steps // 100


def test_fit_refuses_inputs_of_the_wrong_rank_or_not_finite():
    X, y = _data()
    model = _model("sequential")
    with pytest.raises(
        ValueError, match=r"^X must have shape \(n, \.\.\.\), a sample dimension first, got"
    ):
        fit(model, X.reshape(12, 3, 1, 1, 1, 1, 1, 1), y)
    with pytest.raises(
        ValueError, match=r"^X must have shape \(n, \.\.\.\), a sample dimension first, got"
    ):
        fit(model, torch.tensor(1.0, dtype=torch.float64), y)
    with pytest.raises(ValueError, match=r"^y must have shape \(n, \.\.\.\), got"):
        fit(model, X, torch.tensor(1.0, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^y must have shape \(n, \.\.\.\), got"):
        fit(model, X, y.reshape(12, 1, 1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"^X must be finite"):
        fit(model, X.clone().fill_(math.nan), y)
    with pytest.raises(ValueError, match=r"^y must be finite"):
        fit(model, X, y.clone().fill_(math.inf))


def test_minibatch_order_follows_the_seed():
    firsts = {tuple(next(minibatch_indices(10, 5, seed=s)).tolist()) for s in range(4)}
    assert len(firsts) == 4  # four seeds, four different first batches
    g = torch.Generator().manual_seed(3)
    assert (
        next(minibatch_indices(10, 5, seed=g)).tolist()
        == next(minibatch_indices(10, 5, seed=3)).tolist()
    )


# ---------------------------------------------------------------- the losses by name


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_losses_by_name_by_hand():
    """Each named loss on a few numbers worked out by hand, at the shapes fit passes them.

    Catches: a (n, 1) output broadcast against a (n,) target into an (n, n) table (mse,
    logistic), another constant, power or reduction, a member's loss averaged instead of summed.
    """
    from dlt.train import LOSSES

    mse, ce, logistic = LOSSES["mse"], LOSSES["cross_entropy"], LOSSES["logistic"]
    col = torch.tensor([[1.0], [3.0]], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0], dtype=torch.float64)
    assert float(mse(col, y)) == pytest.approx(0.5 * (1 + 4) / 2)  # entry by entry
    assert float(mse(col, y[:, None])) == pytest.approx(1.25)
    two = torch.tensor([[1.0, -1.0], [0.0, 2.0]], dtype=torch.float64)
    assert float(mse(two, torch.zeros(2, 2))) == pytest.approx(0.5 * 6 / 4)
    assert float(mse(torch.tensor([2.0, 0.0]), torch.tensor([0.0, 0.0]))) == pytest.approx(1.0)
    # cross-entropy of integer labels given as floats: -log softmax
    logits = torch.tensor([[0.0, math.log(3.0)], [math.log(4.0), 0.0]], dtype=torch.float64)
    labels = torch.tensor([1.0, 1.0])
    want = (-math.log(3 / 4) - math.log(1 / 5)) / 2
    assert float(ce(logits, labels)) == pytest.approx(want)
    # logistic of ±1 labels: mean softplus(-y f), a (n, 1) output taken entry by entry
    out = torch.tensor([[1.0], [-2.0]], dtype=torch.float64)
    pm = torch.tensor([1.0, 1.0], dtype=torch.float64)
    assert float(logistic(out, pm)) == pytest.approx((_softplus(-1.0) + _softplus(2.0)) / 2)
    assert float(logistic(out[:, 0], -pm)) == pytest.approx((_softplus(1.0) + _softplus(-2.0)) / 2)


def test_ensemble_losses_sum_each_members_mean_loss():
    from dlt.train import LOSSES, ensemble_logistic

    ens = LOSSES["ensemble_cross_entropy"]
    logits = torch.tensor([[[0.0, math.log(3.0)], [math.log(4.0), 0.0]],
                           [[0.0, 0.0], [0.0, math.log(2.0)]]], dtype=torch.float64)  # fmt: skip
    labels = torch.tensor([1.0, 0.0])  # shared by the members
    first = (-math.log(3 / 4) - math.log(4 / 5)) / 2
    second = (-math.log(1 / 2) - math.log(1 / 3)) / 2
    assert float(ens(logits, labels)) == pytest.approx(first + second)
    with pytest.raises(ValueError, match=r"^ensemble_cross_entropy needs outputs \(members, n, "
                       r"classes\), got \(2, 2\)$"):  # fmt: skip
        ens(logits[0], labels)
    assert LOSSES["ensemble_logistic"] is ensemble_logistic
    out = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.5, 0.0]], dtype=torch.float64)  # (n, M)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)  # shared
    want = sum(_softplus(-y[i] * out[i, m]) for i in range(2) for m in range(3)) / 2
    assert float(ensemble_logistic(out, y)) == pytest.approx(float(want))
    per = torch.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]], dtype=torch.float64)
    want = sum(_softplus(-per[i, m] * out[i, m]) for i in range(2) for m in range(3)) / 2
    assert float(ensemble_logistic(out, per)) == pytest.approx(float(want))
    with pytest.raises(ValueError, match=r"^out must be \(n, members\), got shape \(4,\)$"):
        ensemble_logistic(torch.zeros(4), torch.ones(4))
    with pytest.raises(ValueError, match=r"^y must have shape \(4, 2\) or \(4,\), got \(4, 3\)$"):
        ensemble_logistic(torch.zeros(4, 2), torch.ones(4, 3))
    with pytest.raises(ValueError, match=r"^y must have shape \(4, 2\) or \(4,\), got \(2,\)$"):
        ensemble_logistic(torch.zeros(4, 2), torch.ones(2))


def test_optimizers_by_name():
    from dlt.train import OPTIMIZERS

    assert OPTIMIZERS == {"sgd": torch.optim.SGD, "adam": torch.optim.Adam,
                          "adamw": torch.optim.AdamW}  # fmt: skip


# ------------------------------------------- batch_size at the data's size, untouched parameters


def test_a_batch_as_large_as_the_data_trains_full_batch():
    """``batch_size >= n`` is the full batch: the same steps, bit for bit, as ``batch_size=None``
    (a one-batch epoch would sum the samples in a permuted order and round differently)."""
    g = torch.Generator().manual_seed(2)
    X, y = torch.randn(7, 3, generator=g), torch.randn(7, generator=g)
    weights = []
    for bs in (None, 7, 8):
        model = nn.Linear(3, 1)
        with torch.no_grad():
            model.weight.copy_(torch.tensor([[0.3, -0.2, 0.1]]))
            model.bias.fill_(0.05)
        fit(model, X, y, lr=0.3, steps=5, batch_size=bs, progress=False)
        weights.append(torch.cat([model.weight.detach().ravel(), model.bias.detach()]))
    assert torch.equal(weights[0], weights[1]) and torch.equal(weights[0], weights[2])


class _BiasOnFirstCall(nn.Module):
    """``x @ w``, plus ``b`` at the first call only: after it the loss no longer reaches ``b``."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.5, -0.5]))
        self.b = nn.Parameter(torch.zeros(1))
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        out = x @ self.w
        return out + self.b if self.calls == 1 else out


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_parameter_the_loss_does_not_reach_is_left_alone(optimizer):
    """A step whose loss does not reach a parameter leaves it where it is: its gradient is
    None, not zero, so neither Adam's momentum nor weight decay moves it."""
    X = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    y = torch.tensor([1.0, 0.0])
    model = _BiasOnFirstCall()
    fit(model, X, y, optimizer=optimizer, lr=0.1, steps=1, weight_decay=0.5, progress=False)
    after_one = model.b.detach().clone()
    assert float(after_one) != 0.0
    model = _BiasOnFirstCall()
    fit(model, X, y, optimizer=optimizer, lr=0.1, steps=4, weight_decay=0.5, progress=False)
    assert model.calls >= 4 and torch.equal(model.b.detach(), after_one)


def test_losses_at_shapes_whose_sizes_all_differ():
    """Members, samples and classes of different sizes (2, 3, 4), and ±1 labels of both signs
    against an (n, 1) output: a size read from the wrong axis, or an (n, 1) output broadcast
    against (n,) labels into an (n, n) table, changes the value."""
    from dlt.train import LOSSES

    g = torch.Generator().manual_seed(7)
    out = torch.randn(2, 3, 4, generator=g, dtype=torch.float64)
    labels = torch.tensor([3.0, 0.0, 2.0])
    want = 0.0
    for m in range(2):
        for i in range(3):
            row = out[m, i].tolist()
            lse = math.log(sum(math.exp(v) for v in row))
            want += (lse - row[int(labels[i])]) / 3
    assert float(LOSSES["ensemble_cross_entropy"](out, labels)) == pytest.approx(want)
    col = torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)
    pm = torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)
    want = (_softplus(-1.0) + _softplus(-2.0) + _softplus(0.5)) / 3
    assert float(LOSSES["logistic"](col, pm)) == pytest.approx(want)


def test_the_progress_bar_ends_at_the_number_of_steps(monkeypatch):
    """The bar advances by one per step: at close it shows steps/steps (tqdm only redraws every
    0.1 s, so a short run's printed text may never show an overcount; its counter does)."""
    import tqdm.auto

    counts = []

    class Recording(tqdm.auto.tqdm):
        def close(self):
            counts.append((self.n, self.total))
            super().close()

    monkeypatch.setattr(tqdm.auto, "tqdm", Recording)
    X, y = _data()
    fit(_model("sequential"), X, y, lr=0.01, steps=30, progress=True)
    fit(_model("sequential"), X, y, lr=0.01, steps=7, batch_size=2, progress=True)
    assert set(counts) == {(30, 30), (7, 7)}  # close may run twice (again from __del__)


# ------------------------------------------------- learning-rate schedules and model-aware losses


def _sgd_by_hand(X, y, w, rates):
    """Full-batch SGD on ``0.5 mean((X w - y)^2)`` with the rate ``rates[t]`` at step t."""
    for rate in rates:
        w = w - rate * X.T @ (X @ w - y) / X.shape[0]
    return w


def _linear64(w0):
    model = nn.Linear(3, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(w0[None])
    return model


@pytest.mark.parametrize("steps", [1, 4])
def test_cosine_and_callable_schedules_step_by_step_by_hand(steps):
    """Step t uses lr * 0.5 (1 + cos(pi t / steps)) (cosine) or lr * schedule(t) (a callable),
    t = 0 .. steps - 1, on the optimizer's own rate."""
    g = torch.Generator().manual_seed(8)
    X = torch.randn(6, 3, generator=g, dtype=torch.float64)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    w0 = torch.tensor([0.2, -0.1, 0.3], dtype=torch.float64)
    lr = 0.3
    cosine = [lr * 0.5 * (1 + math.cos(math.pi * t / steps)) for t in range(steps)]
    model = _linear64(w0)
    fit(model, X, y, lr=lr, steps=steps, lr_schedule="cosine", progress=False)
    assert torch.allclose(model.weight[0].detach(), _sgd_by_hand(X, y, w0, cosine), atol=1e-13)
    model = _linear64(w0)
    fit(model, X, y, lr=lr, steps=steps, lr_schedule=lambda t: 1 / (t + 2), progress=False)
    want = _sgd_by_hand(X, y, w0, [lr / (t + 2) for t in range(steps)])
    assert torch.allclose(model.weight[0].detach(), want, atol=1e-13)


def test_schedule_errors_name_the_argument():
    X, y = torch.zeros(3, 2), torch.zeros(3)
    with pytest.raises(ValueError, match=r"^lr_schedule must be one of \['cosine'\], got 'cos'$"):
        fit(nn.Linear(2, 1), X, y, steps=1, lr_schedule="cos")
    with pytest.raises(
        TypeError, match=r"^lr_schedule must be 'cosine', a callable or None, got 3$"
    ):
        fit(nn.Linear(2, 1), X, y, steps=1, lr_schedule=3)
    with pytest.raises(TypeError, match=r"^loss must be a name of \['cross_entropy', .*got 3$"):
        fit(nn.Linear(2, 1), X, y, steps=1, loss=3)


def test_a_loss_that_takes_the_model_gets_the_batch_and_the_step():
    """A loss with ``takes_model = True`` is called as ``loss(model, X_batch, y_batch, step)``:
    each step on its minibatch, each record on all of X, and trains as the plain loss does."""
    g = torch.Generator().manual_seed(9)
    X = torch.randn(6, 3, generator=g, dtype=torch.float64)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    w0 = torch.tensor([0.2, -0.1, 0.3], dtype=torch.float64)
    calls = []

    def loss(model, xb, yb, step):
        calls.append((step, xb.shape[0], yb.shape[0]))
        return 0.5 * ((model(xb)[:, 0] - yb) ** 2).mean()

    loss.takes_model = True
    aware, plain = _linear64(w0), _linear64(w0)
    h = fit(aware, X, y, loss=loss, steps=3, batch_size=2, record_every=1, seed=1)
    fit(plain, X, y, steps=3, batch_size=2, record_every=1, seed=1)
    assert torch.equal(aware.weight, plain.weight) and h.step == [0, 1, 2, 3]
    assert calls[:6] == [(0, 2, 2), (0, 6, 6), (1, 2, 2), (1, 6, 6), (2, 2, 2), (2, 6, 6)]
    calls.clear()
    fit(_linear64(w0), X, y, loss=loss, steps=0)
    assert calls == [(0, 6, 6)]  # no step taken: the record of the start is step 0


# ---------------------------------------------------------------- sequence losses


def test_sequence_cross_entropy_takes_masked_logits_and_checks_targets():
    """Logits may be -inf (a masked symbol): out is not required finite; targets must be integer
    of shape (n, T), a float tensor or a transposed one raising the exact message."""
    from dlt.train.sequence import sequence_cross_entropy

    out = torch.tensor([[[[0.0, -math.inf], [0.0, 0.0]]]], dtype=torch.float64)  # (1, 1, 2, 2)
    loss = sequence_cross_entropy(out, torch.tensor([[0, 1]]))
    assert float(loss) == pytest.approx(math.log(2) / 2)
    for bad, got in ((torch.tensor([[0.0, 1.0]]), r"torch\.float32 \(1, 2\)"),
                     (torch.tensor([[0], [1]]), r"torch\.int64 \(2, 1\)")):  # fmt: skip
        with pytest.raises(
            ValueError, match=rf"^targets must be int64 of shape \(1, 2\), got {got}$"
        ):
            sequence_cross_entropy(out, bad)


def test_fresh_batch_loss_lengths_seeds_and_errors():
    """Step t draws k uniformly from min_length..max_length (both ends, nothing else) with the
    generator seeded seed * 1_000_003 + t (seed 0 by default, batch_size 1 valid); each argument
    error has its exact message (a class: no @validate_params)."""
    from dlt.data.sequences import copy_task
    from dlt.train.sequence import FreshBatchLoss

    seen = []

    def task(n, k, seed, device):
        seen.append((k, int(torch.randint(0, 10**9, (1,), generator=seed))))
        return copy_task(n, k, seed=0, device=device)

    net = torch.nn.Sequential(torch.nn.Embedding(40, 40))
    net.forward = lambda x: torch.nn.Sequential.forward(net, x)[None]  # (1, n, T, vocab)
    loss = FreshBatchLoss(task, 1, 2, 4)
    assert loss.seed == 0
    for step in range(60):
        loss(net, None, None, step)
    assert {k for k, _ in seen} == {2, 3, 4}
    for step in (0, 7):
        g = torch.Generator().manual_seed(0 * 1_000_003 + step)
        k = int(torch.randint(2, 5, (1,), generator=g))
        assert seen[step] == (k, int(torch.randint(0, 10**9, (1,), generator=g)))
    seen.clear()
    FreshBatchLoss(task, 1, 3, 3, seed=2)(net, None, None, 5)
    g = torch.Generator().manual_seed(2 * 1_000_003 + 5)
    int(torch.randint(3, 4, (1,), generator=g))
    assert seen == [(3, int(torch.randint(0, 10**9, (1,), generator=g)))]
    cases = [
        ((3, 1, 1, 2), TypeError, r"^task must be callable, got int$"),
        ((task, 0, 1, 2), ValueError, r"^batch_size must be >= 1, got 0$"),
        ((task, 1, 0, 2), ValueError, r"^min_length must be >= 1, got 0$"),
        ((task, 1, 3, 2), ValueError, r"^max_length must be >= 3, got 2$"),
        ((task, 1, 1, 2, -1), ValueError, r"^seed must be >= 0, got -1$"),
    ]
    for args, error, match in cases:
        with pytest.raises(error, match=match):
            FreshBatchLoss(*args)


# ---------------------------------------------------------------- accuracies


def test_member_accuracy_of_one_model_and_its_errors():
    """(n, classes) outputs are one model: a scalar accuracy; each error has its exact message
    (a list for y, 4-d outputs, a y of the wrong length or of shape (n, 1), a NaN output)."""
    from dlt.train.accuracy import member_accuracy

    acc = member_accuracy(torch.tensor([[0.0, 1.0], [2.0, 1.0]]), torch.tensor([1, 1]))
    assert acc.shape == () and acc.item() == 0.5
    cases = [
        (lambda: member_accuracy(torch.zeros(2, 3), [0, 1]), TypeError,
         r"^outputs and y must be tensors$"),
        (lambda: member_accuracy(torch.zeros(1, 1, 2, 3), torch.zeros(2)), ValueError,
         r"^outputs must have shape \(n_models, n, classes\) or \(n, classes\), got \(1, 1, 2, 3\)$"),
        (lambda: member_accuracy(torch.zeros(3, 2, 4), torch.zeros(5)), ValueError,
         r"^y must have shape \(2,\), got \(5,\)$"),
        (lambda: member_accuracy(torch.zeros(2, 4), torch.zeros(2, 1)), ValueError,
         r"^y must have shape \(2,\), got \(2, 1\)$"),
        (lambda: member_accuracy(torch.full((2, 4), math.nan), torch.zeros(2)), ValueError,
         r"^outputs must be finite$"),
    ]  # fmt: skip
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


class _OneMember(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 3)

    def forward(self, x):
        return self.lin(x)[None]  # (1, n, classes)


def test_fit_accuracy_takes_one_adamw_step_with_its_arguments():
    """Two steps of fit_accuracy are two AdamW steps (lr, betas, weight_decay as given; the
    first step of Adam does not depend on the betas) on the cross-entropy, recorded at steps
    0, 1, 2 with the fit's history; steps = record_every = 1 are valid."""
    import copy

    from dlt.train.accuracy import fit_accuracy

    X = torch.tensor([[1.0, 0.5], [-1.0, 2.0], [0.3, -0.7]])
    y = torch.tensor([0, 1, 2])
    torch.manual_seed(0)
    net = _OneMember()
    ref = copy.deepcopy(net)
    c = fit_accuracy(net, X, y, X, y, lr=0.1, betas=(0.5, 0.6), weight_decay=0.3, steps=2,
                     record_every=1)  # fmt: skip
    opt = torch.optim.AdamW(ref.parameters(), lr=0.1, betas=(0.5, 0.6), weight_decay=0.3)
    for _ in range(2):
        opt.zero_grad()
        nn.functional.cross_entropy(ref.lin(X), y).backward()
        opt.step()
    for a, b in zip(net.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    assert c.step.tolist() == [0, 1, 2] and c.history.step == [0, 1, 2]
    one = fit_accuracy(_OneMember(), X, y, X, y, steps=1, record_every=1)
    assert one.step.tolist() == [0, 1]


def test_fit_accuracy_stops_at_an_accuracy_reached_exactly():
    """stop_at = 1 is met by an accuracy of exactly 1 (>=): a model right from the start stops
    at the first record instead of training all 5 steps."""
    from dlt.train.accuracy import fit_accuracy

    net = _OneMember()
    with torch.no_grad():
        net.lin.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]]))
        net.lin.bias.zero_()
    X, y = torch.tensor([[1.0, 0.0], [-1.0, 0.0]]), torch.tensor([0, 1])
    c = fit_accuracy(net, X, y, X, y, lr=1e-3, steps=5, record_every=1, stop_at=1.0)
    assert c.step.tolist() == [0] and c.test.tolist() == [[1.0]]


def test_fit_accuracy_argument_errors():
    """betas are checked in the body (no declaration); stop_after needs stop_at; labels of the
    wrong shape are named, with X's number of rows (3, not its 2 columns)."""
    from dlt.train.accuracy import fit_accuracy

    X, y = torch.zeros(3, 2), torch.tensor([0, 1, 2])
    net = _OneMember()
    cases = [
        ({"betas": (0.9, 1.0)}, (y, y), r"^betas must be in \[0, 1\), got 1\.0$"),
        (
            {"stop_after": 3},
            (y, y),
            r"^stop_after needs stop_at \(the accuracy after which to count\)$",
        ),
        ({"stop_at": 0.5, "stop_after": -1}, (y, y), r"^stop_after must be >= 0, got -1$"),
        ({}, (y[:, None], y), r"^y_train must be integer labels of shape \(3,\)$"),
        ({}, (y, y[:2]), r"^y_test must be integer labels of shape \(3,\)$"),
    ]
    for kwargs, (y_train, y_test), match in cases:
        with pytest.raises(ValueError, match=match):
            fit_accuracy(net, X, y_train, X, y_test, **kwargs)


def test_fit_accuracy_defaults_lr_weight_decay_and_record_every():
    """The defaults lr = 1e-2, weight_decay = 1 and record_every = 10, seen on a run stopped 25
    steps after an accuracy of 1 (records 0, 10, 20, 30) against the same run with them given."""
    import copy

    from dlt.train.accuracy import fit_accuracy

    net = _OneMember()
    with torch.no_grad():
        net.lin.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5]]))
        net.lin.bias.zero_()
    twin = copy.deepcopy(net)
    X, y = torch.tensor([[1.0, 0.0], [-1.0, 0.0]]), torch.tensor([0, 1])
    c = fit_accuracy(net, X, y, X, y, stop_at=1.0, stop_after=25)
    d = fit_accuracy(twin, X, y, X, y, lr=1e-2, weight_decay=1.0, record_every=10, stop_at=1.0,
                     stop_after=25)  # fmt: skip
    assert c.step.tolist() == d.step.tolist() == [0, 10, 20, 30]
    for a, b in zip(net.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


# ----- logistic_descent: the long runs of chapter 8 (dlt/train/linear.py) -----------------


def _Z(n=6, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    Z = 0.3 * torch.randn(n, d, generator=g, dtype=torch.float64)
    Z[:, 0] += 1.0
    return Z


def _sigma(m):
    return 1.0 / (1.0 + torch.exp(m))


def test_sigmoid_of_minus_between_zero_and_one():
    """sigma(-m) on 0 < m < 1, where the two branches e/(1+e) and 1/(1+e) differ; a branch
    boundary moved from m >= 0 to m >= 1 returns sigma(+m) there (0.62 at m = 0.5, not 0.38)."""
    import numpy as np

    from dlt.train.linear import _sigmoid_of_minus

    m = np.array([-0.5, -1e-9, 0.0, 1e-9, 0.25, 0.5, 0.999])
    ref = np.array([1.0 / (1.0 + math.exp(v)) for v in m])
    assert np.allclose(_sigmoid_of_minus(m), ref, rtol=1e-14, atol=0)


def test_logistic_descent_one_and_two_steps_by_hand_with_decay():
    """From w0 = 0 every margin is 0, so g0 = -mean(z)/2 and w1 = lr * mean(z)/2; the second
    step uses eta_1 = lr / 2**decay and sigma(-z w1) written out. A schedule lr * (t+1)**decay,
    lr / t**decay or lr / (t+2)**decay takes other steps."""
    Z = _Z()
    lr, decay = 0.7, 0.5
    p = logistic_descent(Z, "gd", lr=lr, steps=2, decay=decay, record=[1, 2])
    w1 = lr * Z.mean(0) / 2
    g1 = -(Z.T @ _sigma(Z @ w1)) / len(Z)
    w2 = w1 - lr / 2**decay * g1
    assert torch.allclose(p.w, torch.stack([w1, w2]), rtol=1e-13, atol=0)
    assert p.step.tolist() == [1, 2]
    loss = torch.nn.functional.softplus(-(Z @ torch.stack([w1, w2]).T)).mean(0)
    assert torch.allclose(p.loss, loss, rtol=1e-13, atol=0)
    one = logistic_descent(Z, "gd", lr=lr, steps=1)  # one step is allowed (steps >= 1)
    assert one.step.tolist() == [1] and torch.allclose(one.w[0], w1, rtol=1e-13, atol=0)


def test_logistic_descent_defaults_and_default_record_grid():
    """Defaults lr = 1 and steps = 1000; the default record starts at step 1, ends at the
    last step, is increasing and log-spaced (at most 60 steps), and its rows are the iterates
    a run asked for those steps records."""
    Z = _Z()
    p = logistic_descent(Z)
    steps = p.step.tolist()
    assert steps[0] == 1 and steps[-1] == 1000 and 30 <= len(steps) <= 60
    gaps = torch.tensor(steps, dtype=torch.float64)
    assert bool((gaps[1:] > gaps[:-1]).all())
    ratios = gaps[len(steps) // 2 + 1 :] / gaps[len(steps) // 2 : -1]
    assert float(ratios.max()) < 1.2  # log-spaced at the top: 1000**(1/59) = 1.124
    q = logistic_descent(Z, "gd", lr=1.0, steps=1000, record=steps)
    assert torch.equal(p.w, q.w) and torch.equal(p.loss, q.loss)
    assert p.w.dtype == torch.float64 and p.loss.dtype == torch.float64
    assert p.step.dtype == torch.int64  # steps are integers, not floats
    assert len(p.w) == len(p.loss) == len(steps)


def test_logistic_descent_record_and_betas_errors_name_the_argument():
    Z = _Z()
    for bad in ([0, 3], [-1], []):
        with pytest.raises(ValueError, match=r"^record must"):
            logistic_descent(Z, steps=5, record=bad)
    with pytest.raises(ValueError, match=r"^steps must be >= 1"):
        logistic_descent(Z, steps=0)
    for i, betas in ((0, (1.0, 0.999)), (1, (0.9, 1.0)), (0, (-0.1, 0.5)), (1, (0.5, 1.5))):
        with pytest.raises(ValueError, match=rf"^betas\[{i}\] must be in \[0, 1\)"):
            logistic_descent(Z, "adam", steps=2, betas=betas)
    p = logistic_descent(Z, "adam", lr=0.1, steps=2, betas=(0.0, 0.0), record=[2])
    assert torch.isfinite(p.w).all()  # betas = 0 is allowed: Adam is then sign-like


def test_sign_and_adam_leave_a_coordinate_without_gradient_at_zero():
    """A zero column of Z has gradient exactly 0: sign(0) = 0 and Adam's m/sqrt(v) = 0/0 with
    eps = 0 must not move it (dividing by sign(g), or dividing where sqrt(v) + eps = 0, gives
    inf or nan there)."""
    Z = _Z(d=3)
    Z[:, 2] = 0.0
    for opt, kw in (("sign", {}), ("adam", {"eps": 0.0}), ("gd", {})):
        p = logistic_descent(Z, opt, lr=0.1, steps=50, record=[1, 50], **kw)
        assert torch.isfinite(p.w).all(), opt
        assert torch.equal(p.w[:, 2], torch.zeros(2, dtype=torch.float64)), opt
        assert float(p.w[-1, 0]) > 0, opt


def test_adam_with_a_large_eps_matches_torch_adam_past_positive_margins():
    """Adam's eps enters as sqrt(v_hat) + eps; the loop stores m and v scaled by e^s (s the
    smallest margin), so eps must be scaled the same way: eps * e^s, not eps / e^s or - eps.
    A large eps (0.05, comparable to sqrt(v_hat) once every margin is positive) makes the
    difference visible within 300 steps."""
    Z = _Z(n=8, d=3, seed=2).abs()
    lr, eps, steps = 0.05, 0.05, 300
    p = logistic_descent(Z, "adam", lr=lr, steps=steps, eps=eps, record=[steps])
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([w], lr=lr, eps=eps)
    for _ in range(steps):
        w.grad = -(Z.T @ torch.sigmoid(-(Z @ w.detach()))) / len(Z)
        adam.step()
    assert float((Z @ w.detach()).min()) > 1.0  # the scaled branch (s > 0) was taken
    assert torch.allclose(p.w[-1], w.detach(), rtol=1e-9, atol=0)


def test_adam_past_margin_1000_follows_its_momentum_in_closed_form():
    """After one Adam step of size lr = 1000 every margin is >= 1000, so each later gradient is
    e^-1000 times smaller than the first and Adam moves on its moments alone:
    w_t = w_1 + lr * sum_{k=2..t} (1-b1) b1^(k-1) / (1-b1^k) / sqrt((1-b2) b2^(k-1) / (1-b2^k)).
    Storing the moments scaled by e^s (s the smallest margin) overflows there unless the scale
    is chosen with care: an earlier version stopped at w_1 (eps = 0) or returned nan (eps > 0)."""
    import warnings

    Z = torch.tensor([[1.0, 0.0], [1.0, 0.2]], dtype=torch.float64)
    lr, b1, b2, steps = 1000.0, 0.9, 0.999, 30
    ks = torch.arange(2, steps + 1, dtype=torch.float64)
    moves = (
        (1 - b1)
        * b1 ** (ks - 1)
        / (1 - b1**ks)
        / torch.sqrt((1 - b2) * b2 ** (ks - 1) / (1 - b2**ks))
    )
    want = lr * (1 + torch.cat([torch.zeros(1, dtype=torch.float64), moves.cumsum(0)]))
    for eps in (0.0, 1e-8):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            p = logistic_descent(Z, "adam", lr=lr, steps=steps, eps=eps, record=range(1, steps + 1))
        rtol = 1e-12 if eps == 0 else 1e-6  # eps = 1e-8 beside gradients of 0.5 and 0.05
        assert torch.allclose(p.w, want[:, None].expand(-1, 2), rtol=rtol, atol=0), eps


def test_adam_with_eps_far_past_overflow_stops_without_a_warning():
    """With betas = (0, 0) Adam's step is lr * g / (|g| + eps): sign-like while |g| >> eps,
    nothing once eps dominates. From margins of 1000 on, |g| ~ e^-1000 and eps * e^s overflows:
    no step, no RuntimeWarning; with eps = 0 it keeps taking steps of lr at any margin."""
    import warnings

    Z = torch.tensor([[1.0, 0.0], [1.0, 0.2]], dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = logistic_descent(Z, "adam", lr=1000.0, steps=4, eps=1e-8, betas=(0.0, 0.0),
                             record=[1, 2, 4])  # fmt: skip
        q = logistic_descent(Z, "adam", lr=1000.0, steps=4, eps=0.0, betas=(0.0, 0.0),
                             record=[1, 2, 4])  # fmt: skip
    assert torch.equal(p.w[0], p.w[1]) and torch.equal(p.w[1], p.w[2])
    assert float(p.w[0, 0]) == pytest.approx(1000.0 * 0.5 / (0.5 + 1e-8), rel=1e-12)
    assert torch.allclose(q.w[:, 0], torch.tensor([1000.0, 2000.0, 4000.0], dtype=torch.float64),
                          rtol=1e-12)  # fmt: skip


def _adam_reference(Z, lr, steps, betas, eps):
    """Adam on the logistic loss in 50-digit arithmetic (mpmath's exponent range is unbounded:
    nothing underflows at margins of thousands), every iterate as float64."""
    mpmath = pytest.importorskip("mpmath")
    ctx = mpmath.mp.clone()
    ctx.dps = 50
    b1, b2 = (ctx.mpf(b) for b in betas)
    rows = [[ctx.mpf(float(x)) for x in r] for r in Z.tolist()]
    n, d = len(rows), len(rows[0])
    w, m, v, out = [ctx.mpf(0)] * d, [ctx.mpf(0)] * d, [ctx.mpf(0)] * d, []
    for t in range(1, steps + 1):
        s = [1 / (1 + ctx.exp(sum(r[j] * w[j] for j in range(d)))) for r in rows]
        g = [-sum(rows[i][j] * s[i] for i in range(n)) / n for j in range(d)]
        m = [b1 * m[j] + (1 - b1) * g[j] for j in range(d)]
        v = [b2 * v[j] + (1 - b2) * g[j] ** 2 for j in range(d)]
        w = [w[j] - lr * (m[j] / (1 - b1**t)) / (ctx.sqrt(v[j] / (1 - b2**t)) + eps)
             for j in range(d)]  # fmt: skip
        out.append([float(x) for x in w])
    return torch.tensor(out, dtype=torch.float64)


@pytest.mark.parametrize(
    ("betas", "lr", "steps", "eps", "margin"),
    [
        ((0.9, 0.999), 100.0, 40, 0.0, 400),  # torch's defaults, large steps
        ((0.0, 0.01), 2.0, 800, 0.0, 1200),  # sign-like: margins grow to 1215
        ((0.3, 0.01), 2.0, 800, 1e-8, 7500),  # b1^2 > b2: m / sqrt(v) grows without bound
    ],
)
def test_adam_matches_a_50_digit_reference_far_past_float64_underflow(
    betas, lr, steps, eps, margin
):
    """Every iterate of Adam agrees with a 50-digit reference to 1e-11 while the margins pass
    the float64 underflow of e^-m (745) and of the gradient's square (372). The moments are kept
    at a scale of the implementation's choosing; a scale chosen badly (from v alone, when
    m / sqrt(v) is unbounded, or off by a factor e^L) overflows to nan there, and a step taken
    on the unscaled gradient stops."""
    Z = torch.tensor([[1.0, 0.3], [0.8, -0.1], [1.2, 0.5]], dtype=torch.float64)
    ref = _adam_reference(Z, lr, steps, betas, eps)
    p = logistic_descent(Z, "adam", lr=lr, steps=steps, eps=eps, betas=betas,
                         record=range(1, steps + 1))  # fmt: skip
    assert float((Z @ ref[-1]).min()) > margin
    assert torch.allclose(p.w, ref, rtol=1e-11, atol=0)


def test_adam_and_sign_descent_stay_at_zero_where_the_gradient_is_zero():
    """Rows z and -z: the gradient at w0 = 0 is exactly 0, and so are m and v; no method may
    move, nor warn (a rescaling of the zero moments by e^(inf) makes nan, which the mask
    denom > 0 then drops with a RuntimeWarning)."""
    import warnings

    Z = torch.tensor([[1.0, 0.5], [-1.0, -0.5]], dtype=torch.float64)
    for opt in ("gd", "sign", "adam"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            p = logistic_descent(Z, opt, lr=0.1, steps=3, eps=1e-8, record=[3])
        assert torch.equal(p.w, torch.zeros(1, 2, dtype=torch.float64)), opt
        assert float(p.loss[0]) == pytest.approx(math.log(2.0), rel=1e-15)
