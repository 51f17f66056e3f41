import pytest
import torch
import torch.nn.functional as F

from dlt import data, train
from dlt.nets import PatchCNN


def test_signal_noise_patches_structure():
    X, y, yc = data.signal_noise_patches(
        200, 30, signal_norm=2.5, noise=1.0, label_noise=0.2, n_patches=3, seed=0
    )
    assert X.shape == (200, 3, 30) and y.shape == yc.shape == (200,)
    # exactly one patch per input is the signal y_clean * mu, mu = 2.5 e_1; noise is orthogonal to mu
    signal = X[:, :, 1:].abs().sum(-1) == 0
    assert (signal.sum(1) == 1).all()
    assert torch.allclose(X[signal][:, 0], 2.5 * yc)
    assert (X[~signal][:, 0] == 0).all()
    flips = (y != yc).float().mean()
    assert 0.1 < flips < 0.3
    X2, y2, _ = data.signal_noise_patches(
        200, 30, signal_norm=2.5, label_noise=0.2, n_patches=3, seed=0
    )
    assert torch.equal(X, X2) and torch.equal(y, y2)


def test_signal_noise_patches_errors():
    with pytest.raises(ValueError, match="label_noise"):
        data.signal_noise_patches(10, 5, label_noise=0.5)
    with pytest.raises(ValueError, match="noise"):
        data.signal_noise_patches(10, 5, noise=0.0)
    with pytest.raises(ValueError, match="signal_norm"):
        data.signal_noise_patches(10, 5, signal_norm=-1.0)


def test_patch_cnn_matches_formula_and_models_are_independent():
    net = PatchCNN(6, width=4, n_models=2, init_std=1.0, seed=0)
    x = torch.randn(5, 2, 6)
    out = net(x)
    W, a = net.W.detach(), net.a.detach()
    want = torch.stack([(torch.relu(x @ W[k].T).sum(1) * a[k]).sum(-1) for k in range(2)], 1)
    assert out.shape == (5, 2) and torch.allclose(out, want, atol=1e-6)
    assert torch.allclose(a.abs(), torch.full_like(a, 0.25)) and (a.sum(-1) == 0).all()
    # per-model inputs; the gradient of model 0's loss does not touch model 1
    xm = torch.randn(5, 2, 2, 6)
    net(xm)[:, 0].sum().backward()
    assert net.W.grad[1].abs().sum() == 0 and net.W.grad[0].abs().sum() > 0
    assert net.a.requires_grad
    assert not PatchCNN(6, 4, train_second_layer=False).a.requires_grad


def test_patch_cnn_errors():
    with pytest.raises(ValueError, match="width"):
        PatchCNN(5, width=3)
    with pytest.raises(ValueError, match="x must have shape"):
        PatchCNN(5, 4)(torch.randn(3, 4))
    with pytest.raises(ValueError, match="n_models"):
        PatchCNN(5, 4, n_models=2)(torch.randn(3, 3, 2, 5))


def test_patch_cnn_interpolates_noisy_labels_and_generalizes_with_strong_signal():
    X, y, _ = data.signal_noise_patches(40, 200, signal_norm=6.0, label_noise=0.1, seed=1)
    Xt, _, yt = data.signal_noise_patches(400, 200, signal_norm=6.0, seed=2)
    net = PatchCNN(200, 20, seed=0)

    def loss(out, target):
        return F.softplus(-target * out[:, 0]).mean()

    train.fit(net, X, y, loss=loss, lr=1.0, steps=300)
    with torch.no_grad():
        assert (torch.sign(net(X)[:, 0]) == y).all()
        assert (torch.sign(net(Xt)[:, 0]) != yt).float().mean() < 0.05


def test_ensemble_logistic_is_the_sum_of_each_members_mean_loss():
    g = torch.Generator().manual_seed(0)
    out = torch.randn(7, 3, generator=g, dtype=torch.float64)
    y = torch.where(torch.rand(7, 3, generator=g) < 0.5, -1.0, 1.0).double()
    # brute force: one member at a time, log(1 + exp(-y f)) averaged over the samples
    want = sum(
        sum(torch.log1p(torch.exp(-y[i, m] * out[i, m])) for i in range(7)) / 7 for m in range(3)
    )
    assert torch.allclose(train.ensemble_logistic(out, y), want, rtol=1e-12)
    assert train.LOSSES["ensemble_logistic"] is train.ensemble_logistic
    # closed form at zero output: M log 2; shared labels (n,) broadcast over members
    assert torch.allclose(
        train.ensemble_logistic(torch.zeros(4, 5), torch.ones(4)),
        torch.tensor(5 * torch.log(torch.tensor(2.0)).item()),
    )
    # each member's gradient is that of its own mean loss, with the learning rate of one
    w = out.clone().requires_grad_(True)
    train.ensemble_logistic(w, y).backward()
    for m in range(3):
        wm = out[:, m].clone().requires_grad_(True)
        train.LOSSES["logistic"](wm, y[:, m]).backward()
        assert torch.allclose(w.grad[:, m], wm.grad, rtol=1e-12)
    with pytest.raises(ValueError, match="out must be"):
        train.ensemble_logistic(torch.zeros(4), torch.ones(4))
    with pytest.raises(ValueError, match="y must have shape"):
        train.ensemble_logistic(torch.zeros(4, 2), torch.ones(4, 3))
