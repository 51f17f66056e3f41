"""Several independent ReLU networks in one module, trained at once by batched products."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..core.params import Int, validate_params
from ..core.validate import check_int, generator

__all__ = ["MLPEnsemble"]


class MLPEnsemble(nn.Module):
    r"""``n_models`` fully connected ReLU networks with biases, evaluated in one batched pass.

    Member :math:`m` computes :math:`h_0 = x`,
    :math:`h_\ell = \mathrm{ReLU}(W^{(m)}_\ell h_{\ell-1} + b^{(m)}_\ell)` for the hidden
    layers and :math:`f_m(x) = W^{(m)}_L h_{L-1} + b^{(m)}_L`. The weights of layer
    :math:`\ell` are one parameter ``weights[l]`` of shape ``(n_models, n_out, n_in)``, and
    every layer is one ``torch.baddbmm``: :math:`M` small networks cost about as much as one
    network :math:`M` times wider, not :math:`M` Python loops. Since the loss
    ``"ensemble_cross_entropy"`` of :func:`dlt.train.fit` is the sum of the members' mean
    losses and Adam acts coordinate by coordinate, each member follows exactly the
    trajectory it would follow alone.

    Initialization (He et al. 2015 for the hidden layers, the standard one for the output):
    hidden weights :math:`\mathcal N(0, 2/n_{\text{in}})`, output weights
    :math:`\mathcal N(0, 1/n_{\text{in}})`, biases zero.

    Parameters
    ----------
    widths : sequence of int
        ``[d_in, n_1, ..., d_out]``, at least two entries, each >= 1.
    n_models : int
        Number of members (>= 1); ignored when ``seed`` is a sequence.
    seed : int, torch.Generator or sequence of int
        An int or generator draws all members from one stream; a sequence gives member
        ``m`` its own seed ``seed[m]``, so that member equals ``MLPEnsemble(widths,
        seed=[seed[m]])`` (its weights do not depend on the other members).
    dtype, device : optional
        Of the parameters.

    Raises
    ------
    ValueError
        If ``widths`` has fewer than two entries or one below 1, or ``n_models < 1``.

    References
    ----------
    He, Zhang, Ren and Sun (2015), Delving deep into rectifiers, ICCV (the initialization).

    Examples
    --------
    >>> net = MLPEnsemble([3, 8, 2], seed=[0, 1, 0])
    >>> out = net(torch.randn(5, 3))
    >>> out.shape, bool((out[0] == out[2]).all())
    (torch.Size([3, 5, 2]), True)
    """

    @validate_params({"n_models": Int(1)})
    def __init__(
        self,
        widths: Sequence[int],
        n_models: int = 1,
        *,
        seed: int | torch.Generator | Sequence[int] | None = 0,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(widths, str | torch.Tensor) or len(widths) < 2:
            raise ValueError(f"widths must be a sequence of at least two sizes, got {widths!r}")
        self.widths = [check_int(w, "widths", minimum=1) for w in widths]
        dtype = dtype or torch.get_default_dtype()
        if isinstance(seed, Sequence):
            gens = [generator(int(s)) for s in seed]
            if not gens:
                raise ValueError("seed must be a non-empty sequence or an int")
        else:
            gens = [generator(seed)] * check_int(n_models, "n_models", minimum=1)
        self.n_models = len(gens)
        ws, bs = [], []
        for i, (n_in, n_out) in enumerate(zip(self.widths[:-1], self.widths[1:], strict=True)):
            std = (2.0 if i < len(self.widths) - 2 else 1.0) ** 0.5 / n_in**0.5
            w = torch.stack(
                [torch.randn(n_out, n_in, generator=g, dtype=torch.float64) for g in gens]
            )
            ws.append(nn.Parameter((std * w).to(dtype=dtype, device=device)))
            bs.append(nn.Parameter(torch.zeros(self.n_models, n_out, dtype=dtype, device=device)))
        self.weights = nn.ParameterList(ws)
        self.biases = nn.ParameterList(bs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of shape ``(n_models, n, d_out)`` for inputs ``(n, d_in)`` shared by all
        members, or ``(n_models, n, d_in)``, one batch per member."""
        d = self.widths[0]
        if not isinstance(x, torch.Tensor) or x.ndim not in (2, 3) or x.shape[-1] != d:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (n, {d}) or (n_models, n, {d}), got {shape}")
        h = x.expand(self.n_models, *x.shape[-2:]) if x.ndim == 2 else x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b[:, None, :], h, w.transpose(1, 2))
            if i < last:
                h = torch.relu(h)
        return h

    def extra_repr(self) -> str:
        return f"widths={self.widths}, n_models={self.n_models}"
