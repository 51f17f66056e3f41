"""The common test: what every public function of dlt promises, tested once for all of them.

As scikit-learn's ``check_estimator`` runs on every estimator, each public function here
gets a case (valid arguments) and is checked for:

1. a docstring with an ``Examples`` section (the doctests run them);
2. reproducibility: two calls with the same arguments and seed give identical results;
3. dtype: float64 inputs give float64 results, float32 inputs float32 results (or float64
   where the function documents that it always computes in float64);
4. non-finite input: NaN in any tensor argument raises a ``ValueError`` naming it.

A public function without a case fails the test: add one when you add a function.
"""

import dataclasses
import importlib
import inspect
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import dlt
from dlt import data, icl, interpolation, kernels, nets, scaling, solve
from dlt.core import activations, modules, numeric  # noqa: F401  (used as dlt.core.x below)
from dlt.core.params import declared_params
from dlt.nets import parameterization

KINDS = (
    "core",
    "data",
    "solve",
    "theory",
    "nets",
    "attack",
    "prune",
    "sample",
    "train",
    "measure",
    "procedures",
    "book",
)
SKIP_MODULES = {
    "dlt.core.validate",
    "dlt.core.params",
    "dlt.book.lessons",
    "dlt.book.tasks",
    "dlt.book.cli",
}  # tested in test_core / test_lessons


def _modules() -> list[str]:
    """Every module of every kind folder of dlt (new modules are found without editing this file)."""
    root = Path(dlt.__file__).parent
    names = []
    for kind in KINDS:
        for path in sorted((root / kind).glob("*.py")):
            mod = f"dlt.{kind}" if path.stem == "__init__" else f"dlt.{kind}.{path.stem}"
            if mod not in SKIP_MODULES and not path.stem.startswith("_"):  # private modules
                names.append(mod)
    return names


def _public() -> dict[str, Any]:
    out = {}
    for name in _modules():
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", []):
            obj = getattr(mod, attr)
            if callable(obj) and getattr(obj, "__module__", "").startswith("dlt"):
                out[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return out


PUBLIC = _public()


def t64(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def spd(n, seed=0):
    a = t64(n, n, seed=seed)
    return a @ a.T / n + torch.eye(n, dtype=torch.float64)


@dataclasses.dataclass
class Case:
    fn: Callable[..., Any]
    kwargs: Callable[[], dict[str, Any]]
    poison: tuple[str, ...] = ()  # tensor arguments that must refuse NaN
    dtype: str = (
        "follows"  # "follows" the inputs, "float64" always, or "none" (no float tensor out)
    )


def P(n=6, d=3, noise=0.1):
    return icl.sample_regression_tasks(5, n, d, noise, seed=0, dtype=torch.float64)[0]  # noqa: E731


CASES: dict[str, Case] = {
    # core
    "dlt.core.numeric.relative_error": Case(
        dlt.core.numeric.relative_error,
        lambda: dict(estimate=t64(3, 2), reference=t64(3, 2, seed=1)),
        poison=("estimate", "reference"),
        dtype="none",
    ),
    "dlt.core.numeric.bisect_threshold": Case(
        dlt.core.numeric.bisect_threshold,
        lambda: dict(fails=lambda c: c > 0.3, lo=0.0, hi=1.0, tol=1e-3),
        dtype="none",
    ),
    # train
    "dlt.train.losses.ensemble_logistic": Case(
        dlt.train.ensemble_logistic,
        lambda: dict(out=t64(5, 3), y=torch.sign(t64(5, 3, seed=1))),
        (),  # a loss passes NaN on, so that fit records a diverging run instead of stopping
    ),
    "dlt.core.activations.relu_expectations": Case(
        activations.relu_expectations,
        lambda: dict(
            k11=torch.ones(2, dtype=torch.float64),
            k22=torch.ones(3, dtype=torch.float64),
            k12=0.1 * t64(2, 3),
        ),
    ),
    "dlt.core.activations.erf_expectations": Case(
        activations.erf_expectations,
        lambda: dict(
            k11=torch.ones(2, dtype=torch.float64),
            k22=torch.ones(3, dtype=torch.float64),
            k12=0.1 * t64(2, 3),
        ),
    ),
    "dlt.core.activations.identity_expectations": Case(
        activations.identity_expectations,
        lambda: dict(
            k11=torch.ones(2, dtype=torch.float64),
            k22=torch.ones(3, dtype=torch.float64),
            k12=0.1 * t64(2, 3),
        ),
    ),
    "dlt.core.activations.get_activation": Case(
        activations.get_activation, lambda: dict(name="erf"), dtype="none"
    ),
    "dlt.core.device.device": Case(dlt.device, lambda: dict(preference="cpu"), dtype="none"),
    # data
    "dlt.data.inputs.sphere": Case(
        data.sphere, lambda: dict(n=5, dim=3, seed=1, dtype=torch.float64)
    ),
    "dlt.data.inputs.circle": Case(
        data.circle, lambda: dict(angles=t64(4), dtype=torch.float64), ("angles",)
    ),
    "dlt.data.inputs.teacher_regression": Case(
        data.teacher_regression, lambda: dict(n=5, dim=3, noise=0.1, seed=1, dtype=torch.float64)
    ),
    "dlt.data.inputs.gaussian_mixture": Case(
        data.gaussian_mixture, lambda: dict(n=5, dim=3, seed=1, dtype=torch.float64)
    ),
    "dlt.data.patches.signal_noise_patches": Case(
        data.signal_noise_patches, lambda: dict(n=5, dim=4, seed=1, dtype=torch.float64)
    ),
    "dlt.data.prompts.sample_regression_tasks": Case(
        data.sample_regression_tasks,
        lambda: dict(
            n_tasks=3, n_context=4, dim=2, noise=0.1, seed=1, covariance=spd(2), dtype=torch.float64
        ),
    ),
    "dlt.data.masked_prompts.sample_task_mixture": Case(
        data.sample_task_mixture,
        lambda: dict(
            n_tasks=3,
            n_context=4,
            dim=3,
            weights={"dense": 1.0, "sparse": 1.0},
            noise=0.1,
            task_pool=t64(2, 3),
            seed=1,
            dtype=torch.float64,
        ),
    ),
    "dlt.data.masked_prompts.MixturePrompts": Case(
        data.MixturePrompts,
        lambda: dict(
            tokens=t64(1, 2, 4),
            targets=t64(1, 1),
            targets_a=t64(1, 1),
            targets_b=t64(1, 1),
            family=torch.zeros(1),
            n=torch.ones(1),
        ),
        dtype="none",
    ),
    "dlt.data.prompts.prompt_parts": Case(data.prompt_parts, lambda: dict(prompts=P())),
    "dlt.data.masked_prompts.linear_prompts": Case(
        data.linear_prompts,
        lambda: dict(
            tokens=data.sample_task_mixture(
                3, 4, 2, {"dense": 1.0}, seed=0, dtype=torch.float64
            ).tokens
        ),
    ),
    # solve
    "dlt.solve.least_squares.min_norm_interpolator": Case(
        solve.min_norm_interpolator, lambda: dict(X=t64(4, 6), y=t64(4, seed=1)), ("X", "y")
    ),
    "dlt.solve.least_squares.ridge": Case(
        solve.ridge, lambda: dict(X=t64(4, 6), y=t64(4, seed=1), lam=0.1), ("X", "y")
    ),
    "dlt.solve.least_squares.ridge_path": Case(
        solve.ridge_path, lambda: dict(X=t64(4, 6), y=t64(4, seed=1), lams=[0.0, 0.1]), ("X", "y")
    ),
    "dlt.solve.lasso.lasso": Case(
        solve.lasso,
        lambda: dict(X=t64(2, 5, 3), y=t64(2, 5, seed=1), lam=0.1),
        dtype="float64",
    ),
    "dlt.solve.kernel.kernel_regression": Case(
        solve.kernel_regression,
        lambda: dict(k_train=spd(4), y=t64(4), k_test_train=t64(2, 4), ridge=0.1),
        dtype="float64",
    ),
    "dlt.solve.kernel.gp_posterior": Case(
        solve.gp_posterior,
        lambda: dict(
            k_train=spd(4),
            y=t64(4),
            k_test_train=t64(2, 4),
            k_test_diag=torch.ones(2, dtype=torch.float64) * 5,
            noise=0.1,
        ),
        dtype="float64",
    ),
    # theory
    **{
        f"dlt.theory.kernels.{f}": Case(
            getattr(kernels, f),
            lambda: dict(x1=t64(3, 2), x2=t64(4, 2, seed=1), depth=2),
            ("x1", "x2"),
            "float64",
        )
        for f in ("nngp", "ntk", "relu_nngp", "relu_ntk", "erf_nngp", "erf_ntk")
    },
    **{
        f"dlt.theory.kernels.{f}": Case(
            getattr(kernels, f),
            lambda: dict(x1=t64(3, 2), x2=t64(4, 2, seed=1), depth=2, sigma_b=0.1),
            ("x1", "x2"),
            "float64",
        )
        for f in ("nngp_ntk", "textbook_kernels")
    },
    "dlt.theory.kernels.Kernels": Case(
        kernels.Kernels, lambda: dict(nngp=spd(3), ntk=spd(3, 1)), dtype="none"
    ),
    "dlt.theory.kernel_dynamics.kernel_gd_dynamics": Case(
        kernels.kernel_gd_dynamics,
        lambda: dict(
            theta_train=spd(4),
            theta_test_train=t64(2, 4),
            y=t64(4),
            f0_train=t64(4, seed=1),
            f0_test=t64(2, seed=2),
            t=[1.0, 10.0],
        ),
        dtype="float64",
    ),
    "dlt.theory.risk.mp_stieltjes": Case(
        interpolation.mp_stieltjes, lambda: dict(z=-0.5, gamma=[0.5, 2.0]), dtype="none"
    ),
    "dlt.theory.risk.asymptotic_risk_isotropic": Case(
        interpolation.asymptotic_risk_isotropic,
        lambda: dict(gamma=[0.5, 2.0], signal=1.0, noise=0.5, lam=0.1),
        dtype="none",
    ),
    "dlt.theory.risk.optimal_ridge_risk": Case(
        interpolation.optimal_ridge_risk,
        lambda: dict(gamma=[0.5, 2.0], signal=1.0, noise=0.5),
        dtype="none",
    ),
    "dlt.theory.benign.effective_ranks": Case(
        interpolation.effective_ranks, lambda: dict(eigenvalues=[3.0, 1.0, 0.5], k=1), dtype="none"
    ),
    "dlt.theory.benign.critical_index": Case(
        interpolation.critical_index, lambda: dict(eigenvalues=[3.0, 1.0, 0.5], n=2), dtype="none"
    ),
    "dlt.theory.benign.bll_risk_bound": Case(
        interpolation.bll_risk_bound,
        lambda: dict(eigenvalues=[3.0, 1.0, 0.5] + [0.01] * 100, n=10, noise=1.0),
        dtype="none",
    ),
    "dlt.theory.benign.BLLBound": Case(
        interpolation.BLLBound,
        lambda: dict(k_star=1, bias=1.0, variance=1.0, total=2.0),
        dtype="none",
    ),
    "dlt.theory.icl.gd_construction": Case(
        icl.gd_construction, lambda: dict(dim=3, lr=0.5 * spd(3)), ("lr",)
    ),
    "dlt.theory.icl.one_step_gd_predictor": Case(
        icl.one_step_gd_predictor, lambda: dict(prompts=P(), lr=0.1)
    ),
    "dlt.theory.icl.gd_predictor": Case(
        icl.gd_predictor, lambda: dict(prompts=P(), lr=0.1, steps=3)
    ),
    "dlt.theory.icl.optimal_one_step_preconditioner": Case(
        icl.optimal_one_step_preconditioner,
        lambda: dict(n_context=8, dim=3, covariance=spd(3), noise=0.1),
        dtype="float64",
    ),
    "dlt.theory.icl.one_step_risk": Case(
        icl.one_step_risk,
        lambda: dict(preconditioner=spd(3), n_context=8, covariance=spd(3, seed=1), noise=0.1),
        dtype="none",
    ),
    "dlt.theory.icl.least_squares_predictor": Case(
        icl.least_squares_predictor, lambda: dict(prompts=P())
    ),
    "dlt.theory.icl.ridge_predictor": Case(icl.ridge_predictor, lambda: dict(prompts=P(), lam=0.1)),
    "dlt.theory.icl.lasso_predictor": Case(icl.lasso_predictor, lambda: dict(prompts=P(), lam=0.1)),
    "dlt.theory.bayes.bayes_predictor": Case(
        icl.bayes_predictor,
        lambda: dict(prompts=P(), weights={"dense": 0.5, "sparse": 0.5}, sparsity=1, noise=0.1),
    ),
    "dlt.theory.bayes.discrete_prior_predictor": Case(
        icl.discrete_prior_predictor,
        lambda: dict(prompts=P(), tasks=t64(4, 3), noise=0.1),
    ),
    # nets
    "dlt.nets.mlp.MLP": Case(
        lambda **kw: nets.MLP(**kw)(t64(3, 2, seed=5).to(kw["dtype"])),
        lambda: dict(widths=[2, 8, 1], sigma_b=0.1, seed=1, dtype=torch.float64),
    ),
    "dlt.nets.mlp.Layer": Case(
        lambda **kw: (
            nets.MLP([2, 4, 1], seed=0, **kw).layers[0].preactivation(t64(3, 2).to(kw["dtype"]))
        ),
        lambda: dict(dtype=torch.float64),
    ),
    "dlt.nets.mlp.Trace": Case(
        lambda **kw: (
            nets.MLP([2, 4, 1], seed=0, **kw)
            .forward_trace(t64(3, 2).to(kw["dtype"]))
            .output.detach()
        ),
        lambda: dict(dtype=torch.float64),
    ),
    "dlt.nets.parameterization.layer_scales": Case(
        parameterization.layer_scales,
        lambda: dict(parameterization="mup", widths=[3, 16, 16, 1]),
        dtype="none",
    ),
    "dlt.nets.cnn.PatchCNN": Case(
        lambda **kw: nets.PatchCNN(4, width=4, seed=1, dtype=kw["dtype"])(
            t64(3, 2, 4).to(kw["dtype"])
        ).detach(),
        lambda: dict(dtype=torch.float64),
    ),
    "dlt.nets.icl_attention.LinearSelfAttention": Case(
        lambda **kw: (
            nets.LinearSelfAttention(3, 2, seed=1).to(kw["prompts"].dtype)(kw["prompts"]).detach()
        ),
        lambda: dict(prompts=P()),
        ("prompts",),
    ),
    "dlt.nets.icl_attention.SoftmaxTransformer": Case(
        lambda **kw: (
            nets.SoftmaxTransformer(2, 8, 1, 2, seed=1)
            .to(kw["tokens"].dtype)(kw["tokens"])
            .detach()
        ),
        lambda: dict(
            tokens=data.sample_task_mixture(
                3, 4, 2, {"dense": 1.0}, seed=0, dtype=torch.float64
            ).tokens
        ),
        ("tokens",),
    ),
    "dlt.nets.features.random_features": Case(
        nets.random_features, lambda: dict(X=t64(4, 3), n_features=5, seed=1)
    ),
    "dlt.nets.wrappers.linearize": Case(
        lambda **kw: nets.linearize(nets.MLP([2, 8, 1], seed=0, dtype=kw["dtype"]))(
            t64(3, 2).to(kw["dtype"])
        ).detach(),
        lambda: dict(dtype=torch.float64),
    ),
    "dlt.nets.wrappers.Linearized": Case(
        lambda **kw: nets.Linearized(nets.MLP([2, 8, 1], seed=0, dtype=kw["dtype"]))(
            t64(3, 2).to(kw["dtype"])
        ).detach(),
        lambda: dict(dtype=torch.float64),
    ),
    "dlt.nets.wrappers.OutputScaled": Case(
        lambda **kw: nets.OutputScaled(nets.MLP([2, 8, 1], seed=0, dtype=kw["dtype"]), 2.0)(
            t64(3, 2).to(kw["dtype"])
        ).detach(),
        lambda: dict(dtype=torch.float64),
    ),
    "dlt.core.modules.trainable_parameters": Case(
        lambda **kw: dlt.core.modules.trainable_parameters(
            nets.MLP([2, 4, 1], seed=0, dtype=kw["dtype"])
        )["weights.0"],
        lambda: dict(dtype=torch.float64),
    ),
    # train and measure
    "dlt.train.loop.fit": Case(
        lambda **kw: (
            dlt.train.fit(
                nets.MLP([2, 8, 1], seed=0, dtype=torch.float64),
                kw["X"],
                kw["y"],
                steps=5,
                batch_size=2,
                seed=3,
            ).train_loss
        ),
        lambda: dict(X=t64(4, 2), y=t64(4, seed=1)),
        ("X", "y"),
        "none",
    ),
    "dlt.train.loop.minibatch_indices": Case(
        lambda **kw: torch.stack(
            [next(b) for b in [dlt.train.minibatch_indices(**kw)] for _ in range(3)]
        ),
        lambda: dict(n=6, batch_size=2, seed=4),
        dtype="none",
    ),
    "dlt.train.loop.History": Case(
        dlt.train.History, lambda: dict(step=[0], train_loss=[1.0]), dtype="none"
    ),
    "dlt.train.loop.progress_enabled": Case(
        dlt.train.progress_enabled, lambda: dict(steps=10), dtype="none"
    ),
    "dlt.measure.ntk.empirical_ntk": Case(
        lambda **kw: dlt.ntk.empirical_ntk(
            nets.MLP([2, 8, 1], seed=0, dtype=kw["x1"].dtype), kw["x1"], kw["x2"]
        ),
        lambda: dict(x1=t64(3, 2), x2=t64(2, 2, seed=1)),
    ),
    "dlt.measure.ntk.kernel_distance": Case(
        dlt.ntk.kernel_distance,
        lambda: dict(theta_a=spd(3), theta_b=spd(3, 1)),
        dtype="none",
    ),
}

CASES.update(  # chapter 10
    {
        "dlt.theory.sgd.sgd_risk": Case(
            scaling.sgd_risk,
            lambda: dict(
                eigenvalues=1 / torch.arange(1.0, 5.0, dtype=torch.float64),
                init=torch.ones(4, dtype=torch.float64),
                noise=0.1,
                batch_size=[1, 4],
                lr=[0.1, 0.5],
                steps=3,
            ),
        ),
        "dlt.theory.sgd.steps_to_target": Case(
            scaling.steps_to_target,
            lambda: dict(
                eigenvalues=1 / torch.arange(1.0, 5.0, dtype=torch.float64),
                init=torch.ones(4, dtype=torch.float64),
                noise=0.1,
                batch_sizes=[1, 4],
                lrs=[0.1, 0.5],
                targets=[0.5],
            ),
        ),
        "dlt.theory.sgd.StepsToTarget": Case(
            scaling.StepsToTarget,
            lambda: dict(
                batch_sizes=torch.ones(1),
                targets=torch.ones(1),
                steps=torch.ones(1, 1),
                lr=torch.ones(1, 1),
                examples=torch.ones(1, 1),
            ),
            dtype="none",
        ),
        "dlt.theory.sgd.fit_critical_batch": Case(
            scaling.fit_critical_batch,
            lambda: dict(
                batch_sizes=torch.tensor([1.0, 2.0, 4.0, 8.0], dtype=torch.float64),
                steps=torch.tensor([50.0, 27.0, 16.0, 10.0], dtype=torch.float64),
            ),
            ("batch_sizes", "steps"),
            "none",
        ),
        "dlt.theory.sgd.HyperbolaFit": Case(
            scaling.HyperbolaFit,
            lambda: dict(s_min=1.0, b_crit=2.0, e_min=2.0, rms_log_error=0.0),
            dtype="none",
        ),
        "dlt.theory.noise_scales.gradient_noise_scales": Case(
            scaling.gradient_noise_scales,
            lambda: dict(
                eigenvalues=1 / torch.arange(1.0, 5.0, dtype=torch.float64),
                second_moments=t64(3, 4) ** 2,
                noise=0.1,
            ),
        ),
        "dlt.theory.noise_scales.NoiseScales": Case(
            scaling.NoiseScales, lambda: dict(b_simple=t64(2), b_noise=t64(2)), dtype="none"
        ),
        "dlt.data.linear.gaussian_linear_regression": Case(
            scaling.gaussian_linear_regression,
            lambda: dict(
                n=5,
                eigenvalues=torch.tensor([1.0, 0.5], dtype=torch.float64),
                w_star=t64(2),
                noise=0.1,
                seed=1,
                dtype=torch.float64,
            ),
        ),
    }
)


def _Z(**kw):
    return dict(Z=torch.tensor([[1.0, 1.0], [1.0, -0.5], [2.0, 0.3]], dtype=torch.float64), **kw)


CASES.update(
    {  # chapter 08
        "dlt.data.separable.separable_classes": Case(
            dlt.data.separable_classes, lambda: dict(n=5, dim=3, seed=1, dtype=torch.float64)
        ),
        "dlt.solve.margins.max_margin_l2": Case(dlt.solve.max_margin_l2, _Z, dtype="float64"),
        "dlt.solve.margins.max_margin_linf": Case(dlt.solve.max_margin_linf, _Z, dtype="float64"),
        "dlt.solve.margins.max_margin_linf_spread": Case(
            dlt.solve.max_margin_linf_spread, _Z, ("Z",), "float64"
        ),
        "dlt.solve.margins.MaxMargin": Case(
            dlt.solve.MaxMargin,
            lambda: dict(direction=t64(2), margin=torch.tensor(1.0, dtype=torch.float64)),
        ),
        "dlt.solve.margins.min_l1_interpolator": Case(
            dlt.solve.min_l1_interpolator,
            lambda: dict(X=t64(2, 4), y=t64(2, seed=1)),
            dtype="float64",
        ),
        "dlt.measure.margins.margin": Case(
            dlt.implicit_bias.margin,
            lambda: dict(w=t64(3, 2, seed=2), **_Z(norm=float("inf"))),
        ),
        "dlt.train.linear.logistic_descent": Case(
            dlt.train.logistic_descent,
            lambda: _Z(optimizer="adam", lr=0.1, steps=20, decay=0.5),
            dtype="float64",
        ),
        "dlt.train.linear.LogisticPath": Case(
            dlt.train.LogisticPath,
            lambda: dict(step=torch.tensor([1]), w=t64(1, 2), loss=t64(1)),
        ),
        "dlt.theory.diagonal.diagonal_potential": Case(
            dlt.implicit_bias.diagonal_potential, lambda: dict(w=t64(4), alpha=0.5)
        ),
        "dlt.theory.diagonal.diagonal_net_solution": Case(
            dlt.implicit_bias.diagonal_net_solution,
            lambda: dict(X=t64(2, 5), y=t64(2, seed=1), alpha=0.3),
            dtype="float64",
        ),
        "dlt.nets.diagonal.DiagonalNet": Case(
            lambda **kw: nets.DiagonalNet(3, 0.5, dtype=kw["dtype"])(
                torch.ones(2, 3, dtype=kw["dtype"])
            ),
            lambda: dict(dtype=torch.float64),
        ),
    }
)


def _net_xy(**kw):
    return dict(X=t64(6, 2), y=t64(6, seed=1), **kw)


CASES.update(
    {  # chapter 09
        "dlt.measure.hessian.hvp": Case(
            lambda **kw: dlt.measure.hvp(
                nets.MLP([2, 4, 1], activation="tanh", seed=0, dtype=kw["X"].dtype), **kw
            ),
            lambda: _net_xy(v=t64(12, seed=2)),
        ),
        "dlt.measure.hessian.top_hessian_eigenvalue": Case(
            lambda **kw: dlt.measure.top_hessian_eigenvalue(
                nets.MLP([2, 4, 1], activation="tanh", seed=0, dtype=kw["X"].dtype), **kw
            ),
            lambda: _net_xy(iters=20, seed=3),
        ),
        "dlt.measure.hessian.hessian_trace": Case(
            lambda **kw: dlt.measure.hessian_trace(
                nets.MLP([2, 4, 1], activation="tanh", seed=0, dtype=kw["X"].dtype), **kw
            ),
            lambda: _net_xy(samples=5, seed=3),
            dtype="none",
        ),
        "dlt.measure.hessian.TopEigen": Case(
            dlt.measure.TopEigen, lambda: dict(value=1.0, vector=t64(3), iterations=2)
        ),
    }
)


CASES.update(
    {
        "dlt.data.teachers.single_index": Case(
            data.single_index, lambda: dict(n=5, dim=3, noise=0.1, seed=1, dtype=torch.float64)
        ),
        "dlt.data.teachers.SingleIndex": Case(
            data.SingleIndex, lambda: dict(X=t64(2, 3), y=t64(2), beta=t64(3)), dtype="none"
        ),
        "dlt.data.teachers.binary_teacher": Case(
            lambda **kw: data.binary_teacher(**kw).X,
            lambda: dict(n=5, dim=3, label_noise=0.2, seed=1, dtype=torch.float64),
        ),
        "dlt.data.teachers.BinaryTeacher": Case(
            data.BinaryTeacher,
            lambda: dict(X=t64(2, 3), y=torch.zeros(2), clean=torch.zeros(2)),
            dtype="none",
        ),
        "dlt.theory.features.random_alignment": Case(
            dlt.feature_learning.random_alignment, lambda: dict(dim=7), dtype="none"
        ),
        "dlt.measure.features.hidden_features": Case(
            lambda **kw: dlt.feature_learning.hidden_features(
                nets.MLP([2, 8, 1], seed=0, dtype=kw["x"].dtype), kw["x"]
            ),
            lambda: dict(x=t64(3, 2)),
        ),
        "dlt.measure.features.feature_movement": Case(
            dlt.feature_learning.feature_movement,
            lambda: dict(features=t64(3, 4), initial=t64(3, 4, seed=1)),
            dtype="none",
        ),
        "dlt.measure.features.weight_alignment": Case(
            dlt.feature_learning.weight_alignment,
            lambda: dict(weight=t64(5, 3), direction=t64(3, seed=1)),
            dtype="none",
        ),
        "dlt.measure.features.coordinate_sizes": Case(
            lambda **kw: dlt.feature_learning.coordinate_sizes(
                nets.MLP([2, 8, 1], parameterization="mup", seed=0, dtype=kw["x"].dtype), kw["x"]
            ),
            lambda: dict(x=t64(3, 2)),
            dtype="float64",
        ),
    }
)  # chapter 04

CASES.update(
    {  # chapter 09: sharpness along training and linear stability
        "dlt.measure.tracking.full_hessian": Case(
            lambda **kw: dlt.curvature.full_hessian(
                nets.MLP([2, 4, 1], activation="tanh", seed=0, dtype=kw["X"].dtype), **kw
            ),
            lambda: _net_xy(),
        ),
        "dlt.measure.tracking.output_jacobian": Case(
            lambda **kw: dlt.curvature.output_jacobian(
                nets.MLP([2, 4, 1], activation="tanh", seed=0, dtype=kw["X"].dtype), **kw
            ),
            lambda: dict(X=t64(6, 2)),
        ),
        "dlt.measure.tracking.SharpnessCallback": Case(
            lambda **kw: dlt.curvature.SharpnessCallback(**kw).X,
            lambda: _net_xy(every=2),
            ("X", "y"),
        ),
        "dlt.theory.stability.sgd_mean_square_rate": Case(
            dlt.curvature.sgd_mean_square_rate,
            lambda: dict(G=t64(3, 5), lr=0.2),
            dtype="none",
        ),
        "dlt.theory.stability.kernel_stable_lr": Case(
            dlt.curvature.kernel_stable_lr,
            lambda: dict(theta=t64(3, 3) @ t64(3, 3).T),
            ("theta",),
            "none",
        ),
        "dlt.theory.stability.stability_thresholds": Case(
            dlt.curvature.stability_thresholds,
            lambda: dict(G=t64(3, 5)),
            dtype="none",
        ),
        "dlt.theory.stability.StabilityThresholds": Case(
            dlt.curvature.StabilityThresholds,
            lambda: dict(gd=2.0, sgd=1.0, trace=1.0, per_sample=0.5),
            dtype="none",
        ),
    }
)  # chapter 09


def _mlp_xy(**kw):
    X = t64(12, 3)
    return dict(X=X, y=(X[:, 0] > 0).long(), **kw)


def _mlp_call(fn):
    def call(**kw):
        net = nets.MLP([3, 5, 2], seed=0, dtype=kw["X"].dtype)
        return fn(net, **kw)

    return call


CASES.update(
    {  # chapter 07
        "dlt.theory.kl.kl": Case(
            dlt.generalization_measures.kl,
            lambda: dict(q=torch.tensor([0.1, 0.5], dtype=torch.float64), p=t64(2).sigmoid()),
        ),
        "dlt.theory.kl.kl_inverse": Case(
            dlt.generalization_measures.kl_inverse,
            lambda: dict(
                q=torch.tensor([0.0, 0.2], dtype=torch.float64),
                c=torch.tensor([0.1, 0.3], dtype=torch.float64),
            ),
            ("q", "c"),
        ),
        "dlt.theory.kl.gaussian_kl": Case(
            dlt.generalization_measures.gaussian_kl,
            lambda: dict(
                mean_q=t64(4),
                mean_p=t64(4, seed=1),
                sigma_q=t64(4).abs() + 0.1,
                sigma_p=t64(4, seed=2).abs() + 0.1,
            ),
        ),
        "dlt.theory.bounds.mc_error_bound": Case(
            dlt.generalization_measures.mc_error_bound,
            lambda: dict(
                error=torch.tensor([0.0, 0.1], dtype=torch.float64), samples=20, delta=0.01
            ),
        ),
        "dlt.theory.bounds.pac_bayes_kl_bound": Case(
            dlt.generalization_measures.pac_bayes_kl_bound,
            lambda: dict(
                error=torch.tensor([0.0, 0.1], dtype=torch.float64),
                kl_divergence=torch.tensor([10.0, 50.0], dtype=torch.float64),
                n=1000,
                delta=0.05,
            ),
            ("error", "kl_divergence"),
        ),
        "dlt.theory.bounds.pac_bayes_bound": Case(
            dlt.generalization_measures.pac_bayes_bound,
            lambda: dict(
                mc_errors=torch.tensor([0.0, 0.1], dtype=torch.float64),
                kl_divergences=t64(3, 2).abs() * 100,
                n=1000,
                samples=20,
            ),
        ),
        "dlt.theory.bounds.PacBayesBound": Case(
            dlt.generalization_measures.PacBayesBound,
            lambda: dict(
                bounds=t64(1, 1),
                bound=t64(1)[0],
                prior=0,
                posterior=0,
                kl=t64(1)[0],
                mc_error=t64(1)[0],
                train_bound=t64(1)[0],
                complexity=t64(1)[0],
                mc_errors=t64(1),
                train_bounds=t64(1),
            ),
            dtype="none",
        ),
        "dlt.theory.bounds.vc_bound": Case(
            dlt.generalization_measures.vc_bound,
            lambda: dict(error=0.0, vc_dimension=100, n=1000, delta=0.05),
            dtype="none",
        ),
        "dlt.measure.complexity.zero_one_error": Case(
            _mlp_call(dlt.generalization_measures.zero_one_error), _mlp_xy, dtype="none"
        ),
        "dlt.measure.complexity.distance_from_init": Case(
            lambda **kw: dlt.generalization_measures.distance_from_init(
                nets.MLP([3, 5, 2], seed=0, dtype=kw["dtype"]),
                nets.MLP([3, 5, 2], seed=1, dtype=kw["dtype"]),
            ),
            lambda: dict(dtype=torch.float64),
            dtype="none",
        ),
        "dlt.measure.complexity.spectral_norm_product": Case(
            lambda **kw: dlt.generalization_measures.spectral_norm_product(
                nets.MLP([3, 5, 2], seed=0, dtype=kw["dtype"])
            ),
            lambda: dict(dtype=torch.float64),
            dtype="none",
        ),
        "dlt.measure.complexity.path_norm": Case(
            lambda **kw: dlt.generalization_measures.path_norm(
                nets.MLP([3, 5, 2], seed=0, dtype=kw["dtype"])
            ),
            lambda: dict(dtype=torch.float64),
            dtype="none",
        ),
        "dlt.measure.perturbation.posterior_errors": Case(
            _mlp_call(dlt.generalization_measures.posterior_errors),
            lambda: _mlp_xy(sigmas=torch.tensor([0.0, 0.5], dtype=torch.float64), samples=4),
        ),
        "dlt.measure.perturbation.sharpness": Case(
            _mlp_call(dlt.generalization_measures.sharpness),
            lambda: _mlp_xy(samples=4, iters=5),
            dtype="none",
        ),
        "dlt.measure.perturbation.Sharpness": Case(
            dlt.generalization_measures.Sharpness, lambda: dict(sigma=0.5, value=4.0), dtype="none"
        ),
        "dlt.measure.ranking.kendall_tau": Case(
            dlt.generalization_measures.kendall_tau,
            lambda: dict(x=t64(6), y=t64(6, seed=1), resamples=50),
            dtype="none",
        ),
        "dlt.measure.ranking.KendallTau": Case(
            dlt.generalization_measures.KendallTau,
            lambda: dict(tau=0.5, null_std=0.2, low=0.1, high=0.8, runs=10),
            dtype="none",
        ),
    }
)

CASES.update(  # chapter 11
    {
        "dlt.data.modular.modular_arithmetic": Case(
            lambda **kw: dlt.grokking.modular_arithmetic(**kw).X_train,
            lambda: dict(p=7, operation="add", train_fraction=0.5, seed=1),
            dtype="none",
        ),
        "dlt.data.modular.ModularData": Case(
            dlt.grokking.ModularData,
            lambda: dict(
                X_train=torch.zeros(1, 2),
                y_train=torch.zeros(1),
                X_test=torch.zeros(1, 2),
                y_test=torch.zeros(1),
                p=2,
                operation="add",
            ),
            dtype="none",
        ),
        "dlt.data.modular.one_hot_pairs": Case(
            dlt.grokking.one_hot_pairs, lambda: dict(X=torch.tensor([[0, 1]]), p=3), dtype="none"
        ),
        "dlt.measure.fourier.fourier_power": Case(
            dlt.grokking.fourier_power, lambda: dict(embedding=t64(7, 3))
        ),
        "dlt.measure.fourier.top_frequency_share": Case(
            dlt.grokking.top_frequency_share,
            lambda: dict(embedding=t64(7, 3), k=2),
        ),
        "dlt.measure.fourier.grokking_time": Case(
            dlt.grokking.grokking_time,
            lambda: dict(
                steps=torch.arange(3.0, dtype=torch.float64),
                accuracy=torch.tensor([0.1, 0.97, 0.5], dtype=torch.float64),
                threshold=0.95,
            ),
            dtype="float64",
        ),
        "dlt.nets.modular.ModularMLP": Case(
            lambda **kw: dlt.grokking.ModularMLP(5, embed_dim=2, hidden=3, **kw)(
                torch.tensor([[0, 1]])
            ).detach(),
            lambda: dict(n_models=2, seed=0, dtype=torch.float64),
        ),
        "dlt.train.accuracy.member_accuracy": Case(
            dlt.grokking.member_accuracy,
            lambda: dict(outputs=t64(2, 3, 4), y=torch.tensor([0, 1, 3])),
            ("outputs",),
            "float64",
        ),
        "dlt.train.accuracy.fit_accuracy": Case(
            lambda **kw: (
                dlt.grokking.fit_accuracy(
                    dlt.grokking.ModularMLP(5, embed_dim=2, hidden=3, seed=0),
                    *dlt.grokking.modular_arithmetic(5, seed=0)[:4],
                    **kw,
                ).test
            ),
            lambda: dict(steps=3, record_every=1),
            dtype="float64",
        ),
        "dlt.train.accuracy.AccuracyCurves": Case(
            dlt.grokking.AccuracyCurves,
            lambda: dict(
                step=torch.zeros(1),
                train=torch.zeros(1, 1),
                test=torch.zeros(1, 1),
                history=dlt.train.History(),
            ),
            dtype="none",
        ),
    }
)


# chapters 14 and 15: robustness and polynomial networks (one block)
def _seq(dtype=torch.float64, widths=(3, 8, 2)):
    return nets.relu_network(list(widths), "he", seed=0, dtype=dtype)


def _lab(n=4):
    return torch.tensor([0, 1, 0, 1][:n])


CASES.update(
    {
        "dlt.data.digits.digits": Case(
            lambda **kw: data.digits(**kw).X_test,
            lambda: dict(test_fraction=0.5, seed=1, dtype=torch.float64),
        ),
        "dlt.data.digits.Digits": Case(
            data.Digits,
            lambda: dict(X_train=t64(2, 64), y_train=_lab(2), X_test=t64(2, 64), y_test=_lab(2)),
            (),
            "none",
        ),
        "dlt.attack.perturb.project": Case(
            dlt.robustness.project, lambda: dict(delta=t64(4, 3), eps=0.5, norm="l2"), ("delta",)
        ),
        "dlt.attack.perturb.fgsm": Case(
            lambda **kw: dlt.robustness.fgsm(_seq(kw["x"].dtype), **kw),
            lambda: dict(x=t64(4, 3), y=_lab(), eps=0.1),
            ("x",),
        ),
        "dlt.attack.perturb.pgd": Case(
            lambda **kw: dlt.robustness.pgd(_seq(kw["x"].dtype), **kw),
            lambda: dict(x=t64(4, 3), y=_lab(), eps=0.1, steps=3, seed=2),
            ("x",),
        ),
        "dlt.attack.ibp.ibp_bounds": Case(
            lambda **kw: dlt.robustness.ibp_bounds(_seq(kw["x"].dtype), **kw),
            lambda: dict(x=t64(4, 3), eps=0.1),
            ("x",),
        ),
        "dlt.attack.ibp.Bounds": Case(
            dlt.robustness.Bounds, lambda: dict(lower=t64(2, 3), upper=t64(2, 3)), (), "none"
        ),
        "dlt.attack.ibp.ibp_tightness": Case(
            lambda w1, w2: dlt.robustness.ibp_tightness([w1, w2]),
            lambda: dict(w1=t64(5, 3), w2=t64(2, 5, seed=1)),
        ),
        "dlt.attack.losses.ramp": Case(
            dlt.robustness.ramp, lambda: dict(step=5, eps=0.1, warmup=2, ramp_steps=6), (), "none"
        ),
        "dlt.attack.losses.worst_case_logits": Case(
            dlt.robustness.worst_case_logits,
            lambda: dict(lower=t64(4, 2), upper=t64(4, 2, seed=1), y=_lab()),
            ("lower", "upper"),
        ),
        "dlt.attack.losses.CertifiedLoss": Case(
            lambda x, **kw: dlt.robustness.CertifiedLoss(**kw)(
                _seq(x.dtype), x, _lab(), 10
            ).detach(),
            lambda: dict(x=t64(4, 3), eps=0.1, warmup=0, ramp_steps=5),
        ),
        "dlt.attack.losses.AdversarialLoss": Case(
            lambda x, **kw: dlt.robustness.AdversarialLoss(**kw)(
                _seq(x.dtype), x, _lab(), 10
            ).detach(),
            lambda: dict(x=t64(4, 3), eps=0.1, steps=2),
        ),
        "dlt.theory.robustness.relu_input_gradient_norm": Case(
            dlt.robustness.relu_input_gradient_norm,
            lambda: dict(gains=torch.tensor([2.0, 2.0, 1.0], dtype=torch.float64), d_out=2),
            ("gains",),
        ),
        "dlt.theory.robustness.input_gradient_norm": Case(
            dlt.robustness.input_gradient_norm, lambda: dict(depth=3, sigma_w=1.0), (), "none"
        ),
        "dlt.theory.robustness.ibp_tightness_at_init": Case(
            dlt.robustness.ibp_tightness_at_init, lambda: dict(width=64, depth=3), (), "none"
        ),
        "dlt.measure.robust.input_jacobian_norms": Case(
            lambda **kw: dlt.robustness.input_jacobian_norms(_seq(kw["x"].dtype), **kw),
            lambda: dict(x=t64(4, 3)),
            ("x",),
        ),
        "dlt.measure.robust.robust_accuracy": Case(
            lambda **kw: dlt.robustness.robust_accuracy(_seq(kw["x"].dtype), **kw),
            lambda: dict(x=t64(4, 3), y=_lab(), eps=0.1, steps=2),
            ("x",),
            "none",
        ),
        "dlt.measure.robust.certified_accuracy": Case(
            lambda **kw: dlt.robustness.certified_accuracy(_seq(kw["x"].dtype), **kw),
            lambda: dict(x=t64(4, 3), y=_lab(), eps=0.1),
            ("x",),
            "none",
        ),
        "dlt.nets.sequential.relu_network": Case(
            lambda x, **kw: nets.relu_network(**kw, dtype=x.dtype)(x).detach(),
            lambda: dict(x=t64(4, 3), widths=[3, 8, 2], sigma_w="lecun", seed=1),
        ),
        "dlt.nets.polynomial.CCP": Case(
            lambda z, **kw: dlt.polynomial.CCP(**kw, dtype=z.dtype)(z).detach(),
            lambda: dict(z=t64(4, 3), in_features=3, width=5, degree=3, seed=1),
            ("z",),
        ),
        "dlt.nets.polynomial.NCP": Case(
            lambda z, **kw: dlt.polynomial.NCP(**kw, dtype=z.dtype)(z).detach(),
            lambda: dict(z=t64(4, 3), in_features=3, width=5, degree=3, seed=1),
            ("z",),
        ),
        "dlt.solve.polynomial.monomial_exponents": Case(
            dlt.polynomial.monomial_exponents, lambda: dict(d=3, degree=2), (), "none"
        ),
        "dlt.solve.polynomial.monomial_features": Case(
            dlt.polynomial.monomial_features, lambda: dict(z=t64(4, 3), degree=2), ("z",)
        ),
        "dlt.solve.polynomial.polynomial_fit": Case(
            lambda **kw: dlt.polynomial.polynomial_fit(**kw).coef,
            lambda: dict(z=t64(12, 2), y=t64(12, seed=1), degree=2),
            ("z", "y"),
        ),
        "dlt.solve.polynomial.PolynomialFit": Case(
            lambda z, **kw: dlt.polynomial.PolynomialFit(**kw).predict(z),
            lambda: dict(
                z=t64(4, 1),
                exponents=torch.tensor([[0], [1]]),
                coef=torch.tensor([1.0, 2.0], dtype=torch.float64),
                train_mse=0.0,
            ),
        ),
        "dlt.theory.finite_differences.finite_differences": Case(
            lambda **kw: dlt.polynomial.finite_differences(lambda x: x[:, 0] ** 2, **kw),
            lambda: dict(x0=t64(2), direction=t64(2, seed=1), max_order=3, h=0.5),
            ("x0", "direction"),
        ),
    }
)


# chapter 19: sparsity and lottery tickets
def _ens(dtype=torch.float64):
    return dlt.lottery.MLPEnsemble([3, 6, 2], seed=[0, 1], dtype=dtype)


def _masked_linear(x, **kw):
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2, dtype=x.dtype)
    return dlt.lottery.MaskedModel(lin, **kw)(x).detach()


def _rewound(x):
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2, bias=False, dtype=x.dtype)
    return dlt.lottery.rewind(lin, {"weight": x}).weight.detach()


def _imp(X, **kw):
    y = torch.tensor([0, 1, 0, 1, 1, 0])
    out = dlt.lottery.iterative_magnitude_pruning(_ens(X.dtype), X, y, X, y, **kw)
    return [(r.density, r.test_accuracy, r.test_loss, *r.masks) for r in out]


CASES.update(
    {
        "dlt.data.tanh_teacher.tanh_teacher_classes": Case(
            lambda **kw: dlt.lottery.tanh_teacher_classes(**kw).X_train,
            lambda: dict(n_train=5, n_test=3, dim=4, n_classes=3, seed=1, dtype=torch.float64),
        ),
        "dlt.data.tanh_teacher.TeacherClasses": Case(
            dlt.lottery.TeacherClasses,
            lambda: dict(
                X_train=t64(2, 3), y_train=_lab(2), X_test=t64(2, 3), y_test=_lab(2), n_classes=2
            ),
            (),
            "none",
        ),
        "dlt.nets.ensemble.MLPEnsemble": Case(
            lambda x, **kw: dlt.lottery.MLPEnsemble(**kw, dtype=x.dtype)(x).detach(),
            lambda: dict(x=t64(4, 3), widths=[3, 8, 2], n_models=2, seed=1),
        ),
        "dlt.prune.magnitude.prune_by_magnitude": Case(
            lambda w1, w2, **kw: dlt.lottery.prune_by_magnitude([w1, w2], **kw),
            lambda: dict(w1=t64(4, 3), w2=t64(2, 4, seed=1), fraction=0.5, scope="layer"),
            (),
            "none",
        ),
        "dlt.prune.magnitude.random_masks": Case(
            lambda m, **kw: dlt.lottery.random_masks([m], **kw),
            lambda: dict(m=t64(4, 3) > 0, seed=2),
            (),
            "none",
        ),
        "dlt.prune.magnitude.densities": Case(
            lambda m: dlt.lottery.densities([m, ~m]),
            lambda: dict(m=t64(4, 3) > 0),
            (),
            "float64",
        ),
        "dlt.prune.masked.MaskedModel": Case(
            _masked_linear,
            lambda: dict(x=t64(4, 3), masks={"weight": torch.tensor([[1, 0, 1], [0, 1, 1]])}),
        ),
        "dlt.prune.masked.rewind": Case(_rewound, lambda: dict(x=t64(2, 3))),
        "dlt.procedures.imp.iterative_magnitude_pruning": Case(
            _imp,
            lambda: dict(
                X=t64(6, 3), rounds=1, fraction=0.5, steps=2, lr=0.01, batch_size=3, record_every=1
            ),
            (),
            "float64",
        ),
        "dlt.procedures.imp.PruningRound": Case(
            dlt.lottery.PruningRound,
            lambda: dict(
                round=0,
                masks=[],
                density=torch.ones(1, 1),
                step=torch.zeros(1),
                test_accuracy=torch.zeros(1, 1),
                test_loss=torch.zeros(1, 1),
                train_accuracy=torch.zeros(1),
            ),
            (),
            "none",
        ),
    }
)


# chapter 20: diffusion (optimal denoiser, network, loss, sampler, memorization)
def _den(dtype=torch.float64, device="cpu"):
    return dlt.diffusion.EDMDenoiser(2, width=8, n_models=2, seed=0, dtype=dtype).to(device)


CASES.update(
    {
        "dlt.theory.denoising.optimal_denoiser": Case(
            dlt.diffusion.optimal_denoiser,
            lambda: dict(x=t64(5, 2), sigma=0.3, train=t64(4, 2, seed=1)),
            ("x", "train"),
        ),
        "dlt.theory.denoising.edm_scalings": Case(
            dlt.diffusion.edm_scalings,
            lambda: dict(sigma=t64(3).abs() + 0.1, sigma_data=0.9),
            ("sigma",),
        ),
        "dlt.theory.denoising.EDMScalings": Case(
            dlt.diffusion.EDMScalings,
            lambda: dict(c_skip=t64(2), c_out=t64(2), c_in=t64(2), c_noise=t64(2)),
            (),
            "none",
        ),
        "dlt.theory.denoising.memorization_baseline": Case(
            dlt.diffusion.memorization_baseline, lambda: dict(dim=2, ratio=0.25), (), "none"
        ),
        "dlt.nets.denoiser.EDMDenoiser": Case(
            lambda x, **kw: (
                dlt.diffusion.EDMDenoiser(**kw, dtype=x.dtype).to(x.device)(x, 0.5).detach()
            ),
            lambda: dict(x=t64(5, 2), dim=2, width=8, n_models=3, sigma_data=0.9, seed=1),
            ("x",),
        ),
        "dlt.train.denoising.DenoisingLoss": Case(
            lambda x0, **kw: dlt.diffusion.DenoisingLoss(**kw)(
                _den(x0.dtype, x0.device), x0, None, 0
            ).detach(),
            lambda: dict(x0=t64(6, 2, 2), sigma_min=0.01, sigma_max=10.0, seed=3),
        ),
        "dlt.sample.ode.karras_sigmas": Case(
            dlt.diffusion.karras_sigmas,
            lambda: dict(n_steps=5, sigma_min=0.01, sigma_max=10.0, rho=7.0),
            (),
            "float64",
        ),
        "dlt.sample.ode.probability_flow_ode": Case(
            lambda **kw: dlt.diffusion.probability_flow_ode(lambda x, s: x / (1 + s**2), **kw),
            lambda: dict(noise=t64(5, 2), sigmas=dlt.diffusion.karras_sigmas(6), method="heun"),
            ("noise",),
        ),
        "dlt.measure.memorization.memorization_fraction": Case(
            dlt.diffusion.memorization_fraction,
            lambda: dict(samples=t64(5, 2), train=t64(4, 2, seed=1), ratio=0.5),
            ("samples", "train"),
            "float64",
        ),
        "dlt.measure.memorization.Memorization": Case(
            dlt.diffusion.Memorization,
            lambda: dict(
                fraction=0.5,
                memorized=torch.ones(2, dtype=torch.bool),
                nearest=t64(2),
                second=t64(2),
            ),
            (),
            "none",
        ),
        "dlt.data.ring.gaussian_ring": Case(
            dlt.diffusion.gaussian_ring, lambda: dict(n=10, k=4, seed=2, dtype=torch.float64)
        ),
    }
)


# chapter 16: white-box transformers and rate reduction
def _subspaces(p=6, k=2, d=3):
    q, _ = torch.linalg.qr(t64(p, p, seed=3))
    return q[:, : k * d].reshape(p, k, d).permute(1, 0, 2).contiguous()


_FLOAT_LABELS = torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0])
CASES.update(
    {
        "dlt.data.subspaces.subspace_pair": Case(
            lambda **kw: dlt.white_box.subspace_pair(**kw).Z,
            lambda: dict(n=4, dim=6, sub_dim=2, angle=0.5, seed=1, dtype=torch.float64),
        ),
        "dlt.data.subspaces.SubspacePair": Case(
            dlt.white_box.SubspacePair,
            lambda: dict(Z=t64(2, 3), labels=torch.tensor([0, 1]), bases=t64(2, 3, 1)),
            (),
            "none",
        ),
        "dlt.theory.rate_reduction.coding_rate": Case(
            dlt.white_box.coding_rate, lambda: dict(Z=t64(5, 3), eps=0.5)
        ),
        "dlt.theory.rate_reduction.rate_reduction": Case(
            dlt.white_box.rate_reduction,
            lambda: dict(Z=t64(5, 3), labels=_FLOAT_LABELS.clone(), eps=0.5),
        ),
        "dlt.theory.rate_reduction.RateReduction": Case(
            dlt.white_box.RateReduction,
            lambda: dict(delta_r=t64(1)[0], rate=t64(1)[0], class_rate=t64(1)[0]),
            (),
            "none",
        ),
        "dlt.theory.rate_reduction.compression_rate": Case(
            dlt.white_box.compression_rate, lambda: dict(Z=t64(5, 6), U=_subspaces(), eps=0.5)
        ),
        "dlt.theory.rate_reduction.compression_gradient": Case(
            dlt.white_box.compression_gradient,
            lambda: dict(Z=t64(5, 6), U=_subspaces(), eps=0.5),
        ),
        "dlt.theory.rate_reduction.compression_step": Case(
            dlt.white_box.compression_step,
            lambda: dict(Z=t64(5, 6), U=_subspaces(), eps=0.5, step=0.1, method="softmax"),
        ),
        "dlt.theory.rate_reduction.sparse_rate_reduction": Case(
            dlt.white_box.sparse_rate_reduction,
            lambda: dict(Z=t64(5, 6), U=_subspaces(), eps=0.5, lam=0.1),
        ),
        "dlt.nets.crate.MSSA": Case(
            lambda Z, **kw: dlt.white_box.MSSA(**kw, dtype=Z.dtype)(Z).detach(),
            lambda: dict(Z=t64(2, 4, 6), dim=6, heads=2, head_dim=3, step=0.5, seed=1),
            ("Z",),
        ),
        "dlt.nets.crate.ISTA": Case(
            lambda Z, **kw: dlt.white_box.ISTA(**kw, dtype=Z.dtype)(Z).detach(),
            lambda: dict(Z=t64(2, 4, 6), dim=6, eta=0.1, lam=0.1, seed=1),
            ("Z",),
        ),
        "dlt.nets.crate.CRATE": Case(
            lambda X, **kw: dlt.white_box.CRATE(**kw, dtype=X.dtype)(X).detach(),
            lambda: dict(
                X=t64(2, 16),
                side=4,
                patch=2,
                dim=6,
                heads=2,
                head_dim=3,
                depth=2,
                n_classes=3,
                step=1.0,
                eta=0.1,
                lam=0.1,
                seed=1,
            ),
            ("X",),
        ),
        "dlt.nets.crate.CrateTrace": Case(
            dlt.white_box.CrateTrace,
            lambda: dict(inputs=[], compressed=[], outputs=[], subspaces=[]),
            (),
            "none",
        ),
    }
)


# chapter 18: length generalization and the unseen
def _cube(d=3, dtype=torch.float64):
    return dlt.length_generalization.boolean_cube(d, dtype=dtype)


def _copy(n=2, k=3):
    return dlt.length_generalization.copy_task(n, k, seed=0)


CASES.update(
    {
        "dlt.data.boolean.boolean_cube": Case(
            dlt.length_generalization.boolean_cube, lambda: dict(d=3, dtype=torch.float64)
        ),
        "dlt.data.boolean.subset_index": Case(
            dlt.length_generalization.subset_index, lambda: dict(subset=[0, 2]), (), "none"
        ),
        "dlt.data.boolean.parity": Case(
            dlt.length_generalization.parity, lambda: dict(x=_cube(), subset=[0, 1])
        ),
        "dlt.theory.boolean.walsh_coefficients": Case(
            dlt.length_generalization.walsh_coefficients, lambda: dict(values=t64(8))
        ),
        "dlt.theory.boolean.walsh_values": Case(
            dlt.length_generalization.walsh_values, lambda: dict(coefficients=t64(8))
        ),
        "dlt.theory.boolean.influence": Case(
            dlt.length_generalization.influence, lambda: dict(coefficients=t64(8), coordinate=1)
        ),
        "dlt.theory.boolean.min_degree_interpolator": Case(
            dlt.length_generalization.min_degree_interpolator,
            lambda: dict(coefficients=t64(8, 2), coordinate=0),
        ),
        "dlt.theory.boolean.product_kernel": Case(
            dlt.length_generalization.product_kernel,
            lambda: dict(x1=_cube(), x2=t64(2, 3), eps=0.5),
        ),
        "dlt.theory.boolean.product_kernel_unseen_error": Case(
            dlt.length_generalization.product_kernel_unseen_error,
            lambda: dict(coefficients=t64(8), eps=0.5, coordinate=2),
        ),
        "dlt.data.sequences.copy_task": Case(
            dlt.length_generalization.copy_task,
            lambda: dict(n=3, min_length=1, max_length=4, seed=1),
            (),
            "none",
        ),
        "dlt.data.sequences.addition_task": Case(
            dlt.length_generalization.addition_task,
            lambda: dict(n=3, min_length=1, max_length=4, output_format="reversed", seed=1),
            (),
            "none",
        ),
        "dlt.data.sequences.SequenceTask": Case(
            dlt.length_generalization.SequenceTask,
            lambda: dict(
                tokens=_copy().tokens, targets=_copy().targets, lengths=_copy().lengths, vocab=35
            ),
            (),
            "none",
        ),
        "dlt.nets.transformer.CausalTransformer": Case(
            lambda dtype, **kw: dlt.length_generalization.CausalTransformer(35, **kw, dtype=dtype)(
                _copy().tokens
            ).detach(),
            lambda: dict(
                d_model=8,
                n_heads=2,
                n_layers=1,
                positional="relative",
                n_models=2,
                seed=1,
                dtype=torch.float64,
            ),
        ),
        "dlt.train.sequence.sequence_cross_entropy": Case(
            dlt.length_generalization.sequence_cross_entropy,
            lambda: dict(out=t64(2, 2, 7, 35), targets=_copy().targets),
        ),
        "dlt.train.sequence.FreshBatchLoss": Case(
            lambda dtype, **kw: dlt.length_generalization.FreshBatchLoss(**kw)(
                dlt.length_generalization.CausalTransformer(
                    35, d_model=8, n_heads=2, n_layers=1, dtype=dtype
                ),
                None,
                None,
                3,
            ).detach(),
            lambda: dict(
                task=dlt.length_generalization.copy_task,
                batch_size=2,
                min_length=1,
                max_length=3,
                seed=1,
                dtype=torch.float64,
            ),
        ),
        "dlt.measure.sequences.sequence_accuracy": Case(
            lambda **kw: dlt.length_generalization.sequence_accuracy(
                dlt.length_generalization.CausalTransformer(35, d_model=8, n_heads=2), **kw
            ),
            lambda: dict(tokens=_copy().tokens, targets=_copy().targets),
            (),
            "none",
        ),
        "dlt.measure.sequences.SequenceAccuracy": Case(
            dlt.length_generalization.SequenceAccuracy,
            lambda: dict(exact=torch.ones(1), token=torch.ones(1)),
            (),
            "none",
        ),
    }
)

# chapter 17: global convergence and architecture choice through the NTK
CASES.update(
    {
        "dlt.theory.convergence.h_infinity": Case(
            dlt.convergence.h_infinity, lambda: dict(X=t64(5, 3)), ("X",)
        ),
        "dlt.theory.convergence.linear_convergence_bound": Case(
            dlt.convergence.linear_convergence_bound,
            lambda: dict(residual0=2.0, lambda0=0.1, lr=0.5, steps=4),
            dtype="float64",
        ),
        "dlt.nets.two_layer.FixedReadoutNet": Case(
            lambda x, **kw: dlt.convergence.FixedReadoutNet(**kw, dtype=x.dtype)(x).detach(),
            lambda: dict(x=t64(4, 3), in_features=3, width=8, activation="relu", seed=1),
            (),  # forward checks shapes only: it runs under vmap
        ),
        "dlt.nets.search.SearchNet": Case(
            lambda x, **kw: dlt.convergence.SearchNet(
                **kw, activations=("relu", "tanh"), skip=True, dtype=x.dtype
            )(x).detach(),
            lambda: dict(x=t64(4, 3), in_features=3, width=8, out_features=2, seed=1),
            (),  # forward checks shapes only: it runs under vmap
        ),
        "dlt.nets.search.search_space": Case(
            dlt.convergence.search_space,
            lambda: dict(activations=("relu", ("relu", "erf")), depths=(2, 3)),
            (),
            "none",
        ),
        "dlt.nets.search.Architecture": Case(
            dlt.convergence.Architecture,
            lambda: dict(activations=("relu", "erf"), skip=False),
            (),
            "none",
        ),
        "dlt.measure.convergence.ntk_scores": Case(
            dlt.convergence.ntk_scores,
            lambda: dict(
                model=dlt.convergence.SearchNet(3, 8, 2, ("relu", "tanh"), seed=0),
                x=t64(4, 3),
            ),
            ("x",),
            "none",
        ),
        "dlt.measure.convergence.NTKScores": Case(
            dlt.convergence.NTKScores,
            lambda: dict(lambda_min=1.0, lambda_max=2.0, condition=2.0),
            (),
            "none",
        ),
        "dlt.measure.convergence.activation_flips": Case(
            dlt.convergence.activation_flips,
            lambda: dict(weight0=t64(6, 3), weight=t64(6, 3, seed=1), x=t64(4, 3, seed=2)),
            ("weight0", "weight", "x"),
            "none",
        ),
    }
)

# Public callables that are not functions of data: their behaviour is tested in their own files.
EXEMPT = {
    "dlt.core.activations.Activation": "a registry record; its entries are tested in test_kernels.py",
    "dlt.core.activations.GaussianExpectations": "a named tuple returned by the expectations above",
    "dlt.book.check": "checks compare numbers, see test_core.py",
    "dlt.book.verdict": "what a check records and shows, see test_core.py",
    "dlt.book.registry": "the table of the book, see test_registry.py",
    "dlt.book.faces": "the faces of the book's table, see test_registry.py",
    "dlt.book.claims": "reads executed notebooks, see test_claims.py",
    "dlt.book.register": "the register of claims as a table, see test_register.py",
    "dlt.book.setup.setup": "sets global state (seed, style, threads), see test_core.py",
    "dlt.book.logaxis.short_log_labels": "sets global matplotlib state, see test_core.py",
    "dlt.book.figures": "figures, see test_core.py and the browser test",
    "dlt.book.explorer": "explorers, see test_core.py and the browser test",
    "dlt.book.explorer_html": "the explorer's HTML, see test_core.py and the browser test",
    "dlt.nets.parameterization.LayerRule": "a row of the parameterization table, see test_parameterization.py",
    "dlt.nets.parameterization.LayerScales": "the numbers of one layer, see test_parameterization.py",
    "dlt.nets.parameterization.Monomial": "an entry of the table, see test_parameterization.py",
}


def _exempt(name: str) -> bool:
    return any(name == k or name.startswith(k + ".") for k in EXEMPT)


def _as_list(out: Any) -> list[Any]:
    if isinstance(out, torch.Tensor | np.ndarray | float | int | str | torch.device):
        return [out]
    if dataclasses.is_dataclass(out):
        return [getattr(out, f.name) for f in dataclasses.fields(out)]
    if isinstance(out, tuple | list):
        return [x for o in out for x in _as_list(o)]
    if isinstance(out, dict):
        return [x for o in out.values() for x in _as_list(o)]
    return [out]


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_has_a_docstring_with_an_example(name):
    doc = inspect.getdoc(PUBLIC[name]) or ""
    assert doc.strip(), f"{name} has no docstring"
    assert "Examples" in doc and ">>>" in doc, f"{name}: its docstring has no Examples section"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_function_has_a_case(name):
    assert name in CASES or _exempt(name), f"{name} has no case in tests/test_api.py: add one"


@pytest.mark.parametrize("name", sorted(CASES))
def test_reproducible(name):
    case = CASES[name]
    a, b = _as_list(case.fn(**case.kwargs())), _as_list(case.fn(**case.kwargs()))
    assert len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True)), (
        f"{name} is not reproducible"
    )


def _cast(kwargs: dict[str, Any], dtype: torch.dtype) -> dict[str, Any]:
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, torch.Tensor) and v.is_floating_point():
            v = v.to(dtype)
        elif k == "dtype":
            v = dtype
        out[k] = v
    return out


@pytest.mark.parametrize("name", sorted(k for k, c in CASES.items() if c.dtype != "none"))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_respects_dtype(name, dtype):
    case = CASES[name]
    out = [
        x for x in _as_list(case.fn(**_cast(case.kwargs(), dtype))) if isinstance(x, torch.Tensor)
    ]
    floats = [x for x in out if x.is_floating_point()]
    assert floats, f"{name} returned no float tensor"
    want = torch.float64 if case.dtype == "float64" else dtype
    assert all(x.dtype == want for x in floats), (
        f"{name}: {[x.dtype for x in floats]} for {dtype} inputs"
    )


# Bad input, generated from the declarations beside each function (dlt.core.params): for every
# declared argument each invalid value its constraint names, and a NaN in each tensor argument.
def _target(name: str) -> Any:
    return PUBLIC.get(name)


def _invalid_cases() -> list[tuple[str, str, int]]:
    out = []
    for name, case in sorted(CASES.items()):
        declared = declared_params(_target(name)) if _target(name) is not None else {}
        given = case.kwargs()
        for arg, constraint in declared.items():
            if arg in given or case.fn is _target(name):
                out += [(name, arg, i) for i in range(len(constraint.invalid()))]
    return out


def _nonfinite_cases() -> list[tuple[str, str]]:
    out = set()
    for name, case in sorted(CASES.items()):
        declared = declared_params(_target(name)) if _target(name) is not None else {}
        given = case.kwargs()
        for arg, constraint in declared.items():
            finite = getattr(constraint, "finite", True)
            if constraint.tensor and finite and isinstance(given.get(arg), torch.Tensor):
                out.add((name, arg))
        out |= {(name, arg) for arg in case.poison}  # functions without a declaration
    return sorted(out)


INVALID = _invalid_cases()
NONFINITE = _nonfinite_cases()


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="no CUDA device here: device placement is checked on a GPU",
)
@pytest.mark.parametrize("name", sorted({name for name, _ in NONFINITE}))
def test_respects_device(name):
    case = CASES[name]
    kwargs = {k: v.cuda() if isinstance(v, torch.Tensor) else v for k, v in case.kwargs().items()}
    out = [x for x in _as_list(case.fn(**kwargs)) if isinstance(x, torch.Tensor)]
    assert all(x.device.type == "cuda" for x in out), (
        f"{name} moved its result off the inputs' device"
    )


@pytest.mark.parametrize(("name", "arg", "i"), INVALID, ids=[f"{n}-{a}-{i}" for n, a, i in INVALID])
def test_refuses_an_invalid_value_and_names_the_argument(name, arg, i):
    value, error = declared_params(_target(name))[arg].invalid()[i]
    kwargs = {**CASES[name].kwargs(), arg: value}
    with pytest.raises((ValueError, TypeError), match=rf"\b{arg}\b") as info:
        CASES[name].fn(**kwargs)
    assert isinstance(info.value, error), f"{name}({arg}={value!r}) raised {info.value!r}"


@pytest.mark.parametrize(("name", "arg"), NONFINITE, ids=[f"{n}-{a}" for n, a in NONFINITE])
def test_refuses_nan_and_names_the_argument(name, arg):
    kwargs = CASES[name].kwargs()
    bad = kwargs[arg].clone()
    bad.view(-1)[-1] = float("nan")
    kwargs[arg] = bad
    with pytest.raises(ValueError, match=rf"\b{arg}\b"):
        CASES[name].fn(**kwargs)


def test_declarations_name_parameters_of_public_functions():
    """Every public function with checks declares them; the count is what the tests above run."""
    declared = {n: declared_params(f) for n, f in PUBLIC.items() if declared_params(f)}
    assert len(declared) >= 80 and len(INVALID) >= 300, (len(declared), len(INVALID))
    for name, params in declared.items():
        target = PUBLIC[name].__init__ if isinstance(PUBLIC[name], type) else PUBLIC[name]
        assert set(params) <= set(inspect.signature(target).parameters), name
