r"""Private: the structured empirical NTK of networks with parameters in linear and conv layers.

A linear layer applied at positions :math:`s` (tokens, or the output pixels of a convolution,
whose inputs are then the patches :math:`a_s`) computes :math:`z_s = W a_s + b`. The
gradient of an output :math:`f_p` with respect to :math:`W` is
:math:`\sum_s \delta_{p,s} a_s^\top` with :math:`\delta_{p,s} = \partial f_p / \partial z_s`, so
the layer's share of the empirical NTK is

.. math::
    \Theta_{pq}(x, x') = \sum_{s, t} (\delta_{p,s} \cdot \delta'_{q,t})\,
        (a_s \cdot a'_t + 1),

the :math:`+1` being the bias (per-sample gradient :math:`\sum_s \delta_{p,s}`).
Everything comes from one forward pass (forward hooks keep
:math:`a`) and one backward pass per output (gradients with respect to the kept layer outputs
give :math:`\delta`); no per-sample weight gradient is needed when the sum over positions is
cheaper as Gram matrices, and when it is not, the per-sample gradient
:math:`\sum_s \delta_s a_s^\top` is formed once per sample and contracted. Which of the two is
cheaper is decided layer by layer from the sizes, as in the "structured derivatives" of
Novak et al. (2022), Fast finite width neural tangent kernel, ICML.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import vmap
from torch.nn.grad import conv2d_weight

__all__: list[str] = []

#: Modules whose parameters the structured path reads.
SUPPORTED = (nn.Linear, nn.Conv1d, nn.Conv2d)
_CHUNK = 2**24  # elements of the largest intermediate tensor of a Gram contraction
#: Fewest rows for which the blocked half of a symmetric product beats the whole: measured
#: on the book's CPU, the half took 1.4 times as long at 100 rows and 0.74 times at 1000.
_HALF_MIN = 512

#: One layer's factors for a batch of n inputs: ``a`` of shape (n, g, S, F) (inputs at each of
#: S positions, per group; F = 0 when the weight is frozen; a convolution's as
#: :class:`Patches`), ``delta`` of shape (n, k, g, S, O) (the gradients of each of k outputs
#: with respect to the layer's outputs) and ``b2``, the squared multiplier of the bias (0
#: without a trainable bias).
Factors = tuple["torch.Tensor | Patches", torch.Tensor, float]


class Unsupported(Exception):
    """Raised when the structured path cannot read a model; the message says which module."""


def plan(model: nn.Module) -> list[nn.Module]:
    """The modules that hold the trainable parameters, or raise :class:`Unsupported`."""
    layers: list[nn.Module] = []
    owner: dict[int, str] = {}
    for name, module in model.named_modules():
        label = f"'{name}' ({type(module).__name__})" if name else type(module).__name__
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.training:
            raise Unsupported(f"module {label} couples the samples of a batch in training mode")
        own = [(k, p) for k, p in module.named_parameters(recurse=False) if p.requires_grad]
        if not own:
            continue
        if not isinstance(module, SUPPORTED) or any(k not in ("weight", "bias") for k, _ in own):
            raise Unsupported(
                f"module {label} has trainable parameters outside nn.Linear, nn.Conv1d and nn.Conv2d"
            )
        for _, p in own:
            if id(p) in owner:
                raise Unsupported(f"a parameter is shared by modules '{owner[id(p)]}' and '{name}'")
            owner[id(p)] = name
        layers.append(module)
    if not layers:
        raise Unsupported("the model has no trainable parameters in nn.Linear or nn.Conv layers")
    return layers


class Patches:
    r"""A convolution's input patches, unfolded only when a Gram contraction needs them.

    ``shape`` is that of the unfolded patches, ``(n, groups, positions, features)`` with the
    features channel-major as ``F.unfold`` orders them. :meth:`weight_gradients` forms the
    per-sample weight gradients :math:`\sum_s \delta_s a_s^\top` with the convolution's own
    weight-gradient kernel, vmapped over samples and outputs, which for the CNN of
    ``benchmarks/kernels_speed.py`` is about three times faster than unfolding and multiplying.
    """

    def __init__(
        self, x: torch.Tensor, module: nn.Conv1d | nn.Conv2d, out_size: tuple[int, int]
    ) -> None:
        two = (lambda t: tuple(t)) if isinstance(module, nn.Conv2d) else (lambda t: (1, *t))
        self.x = x  # the padded input as (n, C_in, H, W); a Conv1d's with H = 1
        self.kernel, self.stride = two(module.kernel_size), two(module.stride)
        self.dilation, self.groups = two(module.dilation), module.groups
        self.out_size = out_size
        n, c = x.shape[:2]
        features = c // self.groups * self.kernel[0] * self.kernel[1]
        self.shape = (n, self.groups, out_size[0] * out_size[1], features)
        self._cols: torch.Tensor | None = None

    def tensor(self) -> torch.Tensor:
        """The unfolded patches, ``shape`` (computed once)."""
        if self._cols is None:
            cols = F.unfold(self.x, self.kernel, dilation=self.dilation, stride=self.stride)
            n, g, length = self.shape[0], self.groups, self.shape[2]
            self._cols = cols.reshape(n, g, -1, length).transpose(-1, -2)
        return self._cols

    def weight_gradients(self, delta: torch.Tensor) -> torch.Tensor:
        """Per-sample weight gradients ``(n, k, O * F)`` from ``delta`` of shape ``(n, k, L, O)``."""
        assert self.groups == 1
        n, k, _, o = delta.shape
        grad = delta.transpose(-1, -2).reshape(n, k, o, *self.out_size)
        size = (o, self.x.shape[1], *self.kernel)

        def one(xi: torch.Tensor, gi: torch.Tensor) -> torch.Tensor:
            return conv2d_weight(
                xi[None], size, gi[None], stride=self.stride, dilation=self.dilation
            )

        return vmap(vmap(one, in_dims=(None, 0)))(self.x, grad).reshape(n, k, -1)


def _group(a: torch.Tensor | Patches, h: int) -> torch.Tensor | Patches:
    """Group ``h`` of a layer's inputs (patches of an ungrouped convolution stay folded)."""
    if isinstance(a, Patches):
        return a if a.groups == 1 else a.tensor()[:, h]
    return a[:, h]


def _tensor(a: torch.Tensor | Patches) -> torch.Tensor:
    """A layer's inputs as a tensor ``(n, g, S, F)``."""
    return a.tensor() if isinstance(a, Patches) else a


def _unfolded(a: torch.Tensor | Patches) -> torch.Tensor:
    """The inputs of one group, as :func:`_group` gives them, as a tensor ``(n, S, F)``."""
    return a.tensor()[:, 0] if isinstance(a, Patches) else a


def _positions(
    module: nn.Module, inp: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor | Patches, torch.Tensor]:
    """One call of ``module``: its inputs (patches for a convolution) and output gradients."""
    n, k = grad.shape[:2]
    if isinstance(module, nn.Linear):
        a = inp.reshape(n, 1, -1, module.in_features)
        return a, grad.reshape(n, k, 1, -1, module.out_features)
    assert isinstance(module, nn.Conv1d | nn.Conv2d)
    conv2 = isinstance(module, nn.Conv2d)
    x = inp if conv2 else inp.unsqueeze(-2)
    mode = "constant" if module.padding_mode == "zeros" else module.padding_mode
    pad = module._reversed_padding_repeated_twice
    if any(pad):
        x = F.pad(x, list(pad) if conv2 else [*pad, 0, 0], mode=mode)
    out_size = (grad.shape[-2], grad.shape[-1]) if conv2 else (1, grad.shape[-1])
    patches = Patches(x, module, out_size)
    g, length = module.groups, patches.shape[2]
    delta = grad.reshape(n, k, g, -1, length).transpose(-1, -2)  # (n, k, g, L, C_out / g)
    return patches, delta


def _forward(
    model: nn.Module, layers: list[nn.Module], x: torch.Tensor, clone: bool
) -> tuple[torch.Tensor, list[tuple[nn.Module, torch.Tensor, torch.Tensor, int]]]:
    """The output, and each call of a layer: (module, input, output, output version)."""
    n = x.shape[0]
    calls: list[tuple[nn.Module, torch.Tensor, torch.Tensor, int]] = []

    def hook(module: nn.Module, args: tuple[Any, ...], output: torch.Tensor) -> Any:
        inp = args[0]
        if inp.shape[0] != n:
            raise Unsupported(
                f"a {type(module).__name__} layer received inputs of shape {tuple(inp.shape)} "
                f"whose first dimension is not the batch of {n}"
            )
        calls.append((module, inp.detach(), output, output._version))
        return output.clone() if clone else None

    handles = [m.register_forward_hook(hook) for m in layers]
    try:
        with torch.enable_grad():
            out = model(x)
    finally:
        for h in handles:
            h.remove()
    return out, calls


def factors(model: nn.Module, layers: list[nn.Module], x: torch.Tensor) -> list[Factors]:
    """Each layer's :data:`Factors` at the inputs ``x``, from one forward and k backward passes."""
    n = x.shape[0]
    out, calls = _forward(model, layers, x, clone=False)
    if any(z._version != v for _, _, z, v in calls):
        # A later in-place operation (ReLU(inplace=True)) changed a kept output: keep copies.
        out, calls = _forward(model, layers, x, clone=True)
    out = out.reshape(n, -1)
    k = out.shape[1]
    zs = [z for _, _, z, _ in calls]
    grads: list[list[torch.Tensor]] = [[] for _ in zs]
    for j in range(k):
        gj = torch.autograd.grad(out[:, j].sum(), zs, retain_graph=j < k - 1, allow_unused=True)
        for i, (gz, z) in enumerate(zip(gj, zs, strict=True)):
            grads[i].append(torch.zeros_like(z) if gz is None else gz.detach())
    per_layer: dict[nn.Module, list[tuple[torch.Tensor | Patches, torch.Tensor]]] = {
        m: [] for m in layers
    }
    for (module, inp, _, _), per_output in zip(calls, grads, strict=True):
        grad = per_output[0].unsqueeze(1) if k == 1 else torch.stack(per_output, dim=1)
        per_layer[module].append(_positions(module, inp, grad))
    result: list[Factors] = []
    for module in layers:
        got = per_layer[module]
        if not got:
            raise Unsupported(
                f"a {type(module).__name__} layer with trainable parameters was not called in "
                "forward (its parameters may be used directly)"
            )
        # Several calls of one layer are more positions.
        a = got[0][0] if len(got) == 1 else torch.cat([_tensor(p[0]) for p in got], dim=2)
        delta = got[0][1] if len(got) == 1 else torch.cat([p[1] for p in got], dim=3)
        if not module.weight.requires_grad:
            a = _tensor(a)[..., :0]
        bias = module.bias is not None and module.bias.requires_grad
        result.append((a, delta, 1.0 if bias else 0.0))
    return result


def contract(f1: Factors, f2: Factors, trace: bool) -> torch.Tensor:
    r"""One layer's share of the kernel: ``(n1, k, n2, k)``, or ``(n1, n2)`` traced over outputs.

    Picks the cheaper of the Gram form :math:`\sum_{s,t}(\delta_s\cdot\delta'_t)(a_s\cdot a'_t)`
    (cost :math:`n_1 n_2 S_1 S_2 (F + k^2 O)`) and the gradient form
    :math:`\langle \sum_s \delta_s a_s^\top, \sum_t \delta'_t a_t'^\top\rangle`
    (cost :math:`(n_1 S_1 + n_2 S_2) k O F + n_1 n_2 k^2 O F`).
    """
    (a1, d1, b2), (a2, d2, _) = f1, f2
    same = f1 is f2  # a block against itself: gradients formed once, half the product
    n1, g, s1, fi = a1.shape
    n2, s2 = a2.shape[0], a2.shape[2]
    k, fo = d1.shape[1], d1.shape[-1]
    kk = k if trace else k * k
    gram = n1 * n2 * s1 * s2 * (fi + kk * fo + kk)
    grad = (n1 * s1 + n2 * s2) * k * fo * (fi + 1) + n1 * n2 * kk * fo * (fi + 1)
    total = None
    for h in range(g):
        p1, p2 = _group(a1, h), _group(a2, h)
        if gram <= grad:
            term = _by_gram(_unfolded(p1), d1[:, :, h], _unfolded(p2), d2[:, :, h], b2, trace)
        else:
            term = _by_gradient(p1, d1[:, :, h], p2, d2[:, :, h], b2, trace, same)
        total = term if total is None else total + term
    assert total is not None
    return total


def _gradients(
    a: torch.Tensor | Patches, d: torch.Tensor, b2: float
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-sample gradients: of the weight ``sum_s delta_s a_s^T`` ``(n, k, O * F)``, and of the
    bias ``sum_s delta_s`` ``(n, k, O)`` scaled by its multiplier (None without a bias)."""
    if isinstance(a, Patches):
        g = a.weight_gradients(d)
    else:
        g = (d.transpose(-1, -2) @ a.unsqueeze(1)).flatten(2)
    return g, (math.sqrt(b2) * d.sum(2) if b2 else None)


def _by_gradient(
    a1: torch.Tensor | Patches,
    d1: torch.Tensor,
    a2: torch.Tensor | Patches,
    d2: torch.Tensor,
    b2: float,
    trace: bool,
    same: bool,
) -> torch.Tensor:
    """Per-sample gradients formed once, then one matrix product for the weight and one for
    the bias (added, rather than the two concatenated: that copy cost more than the product)."""
    g1 = _gradients(a1, d1, b2)
    g2 = g1 if same else _gradients(a2, d2, b2)
    n1, k = g1[0].shape[:2]
    n2 = g2[0].shape[0]
    rows, cols = (n1, n2) if trace else (n1 * k, n2 * k)  # trace: outputs summed in the product
    out: torch.Tensor | None = None
    for x, y in zip(g1, g2, strict=True):
        if x is None or y is None:
            continue
        term = _outer_products(x.reshape(rows, -1), y.reshape(cols, -1), same)
        out = term if out is None else out.add_(term)
    assert out is not None
    return out if trace else out.reshape(n1, k, n2, k)


def _outer_products(x: torch.Tensor, y: torch.Tensor, symmetric: bool) -> torch.Tensor:
    """``x @ y.T``; when ``y`` is ``x``, only the blocks on and above the diagonal, mirrored."""
    if not symmetric or x.shape[0] < _HALF_MIN:
        return x @ y.T
    n = x.shape[0]
    step = max(16, n // 8)
    out = x.new_empty(n, n)
    for i in range(0, n, step):
        i1 = min(i + step, n)
        torch.matmul(x[i:i1], x[i:].T, out=out[i:i1, i:])
        out[i1:, i:i1] = out[i:i1, i1:].T
    return out


def _by_gram(
    a1: torch.Tensor,
    d1: torch.Tensor,
    a2: torch.Tensor,
    d2: torch.Tensor,
    b2: float,
    trace: bool,
) -> torch.Tensor:
    """Gram matrices of inputs and of output gradients, multiplied and summed over positions."""
    n1, s1, _ = a1.shape
    n2, s2, _ = a2.shape
    k, fo = d1.shape[1], d1.shape[-1]
    if s1 == 1 and s2 == 1:  # one position: (delta delta^T) o (a a^T)
        gram_a = (a1[:, 0] @ a2[:, 0].T).add_(b2)
        if k == 1:  # one output: two Gram matrices, multiplied in place
            prod = (d1[:, 0, 0] @ d2[:, 0, 0].T).mul_(gram_a)
            return prod if trace else prod.reshape(n1, 1, n2, 1)
        if trace:
            return (d1[:, :, 0].transpose(0, 1) @ d2[:, :, 0].permute(1, 2, 0)).sum(0) * gram_a
        gram_d = d1.reshape(n1 * k, fo) @ d2.reshape(n2 * k, fo).T
        return gram_d.reshape(n1, k, n2, k) * gram_a[:, None, :, None]
    step = max(1, _CHUNK // (k * k * s1 * n2 * s2))
    rows = []
    at2 = a2.reshape(n2 * s2, -1).T
    e2 = d2.transpose(0, 1).reshape(k, n2 * s2, fo)  # (k, n2 S2, O)
    for i in range(0, n1, step):
        a, d = a1[i : i + step], d1[i : i + step]
        m = a.shape[0]
        gram_a = (a.reshape(m * s1, -1) @ at2).reshape(m, s1, n2, s2).add_(b2)
        e1 = d.transpose(0, 1).reshape(k, m * s1, fo)
        if trace:
            gram_d = (e1 @ e2.transpose(-1, -2)).reshape(k, m, s1, n2, s2)
            rows.append(torch.einsum("kisjt,isjt->ij", gram_d, gram_a))
        else:
            gram_d = (e1.reshape(k * m * s1, fo) @ e2.reshape(k * n2 * s2, fo).T).reshape(
                k, m, s1, k, n2, s2
            )
            rows.append(torch.einsum("pisqjt,isjt->ipjq", gram_d, gram_a))
    return torch.cat(rows)


def structured_kernel(
    featurize: Callable[[torch.Tensor], list[Factors]],
    a: torch.Tensor,
    b: torch.Tensor | None,
    batch_size: int,
    trace: bool,
) -> torch.Tensor:
    """Sum of the layers' shares over blocks of ``batch_size`` inputs: ``(n1, n2, k, k)`` or traced."""
    blocks1 = [featurize(a[i : i + batch_size]) for i in range(0, a.shape[0], batch_size)]
    blocks2 = (
        blocks1
        if b is None
        else [featurize(b[i : i + batch_size]) for i in range(0, b.shape[0], batch_size)]
    )
    rows = []
    for f1 in blocks1:
        cols = []
        for f2 in blocks2:
            total = contract(f1[0], f2[0], trace)
            for p, q in zip(f1[1:], f2[1:], strict=True):
                total.add_(contract(p, q, trace))
            cols.append(total)
        rows.append(cols[0] if len(cols) == 1 else torch.cat(cols, dim=-1 if trace else 2))
    theta = rows[0] if len(rows) == 1 else torch.cat(rows, dim=0)
    return theta if trace else theta.permute(0, 2, 1, 3)
