"""Feature pattern maps (paper Fig. 4-5): the input a trained CNN finds most typical of a class.

The paper's map is one optimisation from one random start; the stable map is the mean over K starts,
optimised together as one ``[K, marks, bins]`` tensor (the starts do not interact: each start's loss
term depends on its own input only, and RMSprop's update is element-wise). Start 0 is the paper's
single start (the same seed draws the same first start).
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import torch

from .ensemble import EnsembleCNN, full_float32
from .model import DeepChromeCNN

log = logging.getLogger("deepchrome.featuremaps")

METHODS = ("mean", "paper")


def class_maps(members: Sequence[DeepChromeCNN], target: int, n_marks: int, n_bins: int, starts: int = 20,
               steps: int = 1000, lr: float = 0.1, l2: float = 0.009, seed: int = 0) -> np.ndarray:
    """Class models by input optimisation from ``starts`` random starts: float32 ``[starts, marks, bins]``,
    each start in [0, 1] with maximum 1 (unless all 0).

    Every start is X uniform in [0, 1) and minimises NLL(model(X), target) + l2 * ||X||^2 with RMSprop,
    dropout off and the weights frozen; the model is the members' mean probability; ``target`` 1 = ON,
    0 = OFF. X lives in the model's input space (after the training transform). The members' modes and
    ``requires_grad`` flags are restored afterwards.
    """
    device = next(members[0].parameters()).device
    full_float32(device)
    x = torch.rand(starts, n_marks, n_bins, generator=torch.Generator().manual_seed(seed)).to(device)
    x.requires_grad_()
    label = torch.full((starts,), target, device=device)
    modes = [m.training for m in members]
    frozen = [(p, p.requires_grad) for m in members for p in m.parameters()]
    for m in members:
        m.eval()
    for p, _ in frozen:
        p.requires_grad_(False)
    ensemble = EnsembleCNN(list(members))  # log of the members' mean class probabilities
    try:
        opt = torch.optim.RMSprop([x], lr=lr)
        report_every = max(1, steps // 10)
        for step in range(1, steps + 1):
            opt.zero_grad()
            nll = torch.nn.functional.nll_loss(ensemble(x), label, reduction="sum")
            loss = nll + l2 * x.pow(2).sum()  # a sum of per-start terms: each start sees its own gradient
            loss.backward()
            opt.step()
            if step % report_every == 0 or step == steps:
                log.info("%s map: step %d/%d, objective %.4f", "ON" if target == 1 else "OFF", step, steps, loss.item())
    finally:
        for m, mode in zip(members, modes):
            m.train(mode)
        for p, flag in frozen:
            p.requires_grad_(flag)
    maps = x.detach().clamp(0, 1).cpu().numpy().astype(np.float32)
    top = maps.max(axis=(1, 2), keepdims=True)
    return np.divide(maps, top, out=maps.copy(), where=top > 0)


def reported_map(maps: np.ndarray, method: str) -> np.ndarray:
    """The map a cell reports from its starts ``[starts, marks, bins]``: ``paper`` (start 0) or ``mean`` (the mean
    over the starts, scaled to maximum 1 like a single start); float32 ``[marks, bins]`` in [0, 1]."""
    if method == "paper":
        return maps[0]
    if method == "mean":
        mean = maps.mean(axis=0, dtype=np.float64)
        return (mean / mean.max() if mean.max() > 0 else mean).astype(np.float32)
    raise ValueError(f"unknown feature map method {method!r}; use one of {', '.join(METHODS)}")


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def stability(maps: np.ndarray, seed: int = 0) -> dict:
    """How reproducible the maps of ``[starts, marks, bins]`` are (Pearson r over all marks x bins).

    ``split_half_r``: the mean maps of two random, disjoint halves of the starts; ``single_start_r``: the
    mean over disjoint pairs of single starts (what one paper-style map reproduces with). NaN below 2 starts.
    """
    k = len(maps)
    if k < 2:
        return {"starts": k, "split_half_r": float("nan"), "single_start_r": float("nan")}
    order = np.random.default_rng(seed).permutation(k)
    half = order[: k // 2], order[k // 2: 2 * (k // 2)]
    pairs = [_corr(maps[order[i]], maps[order[i + 1]]) for i in range(0, k - 1, 2)]
    return {"starts": k, "split_half_r": _corr(maps[half[0]].mean(0), maps[half[1]].mean(0)),
            "single_start_r": float(np.nanmean(pairs)) if not np.isnan(pairs).all() else float("nan")}
