"""Per-gene attributions of the reported CNN's P(ON): which marks, in which bins, raise or lower it.

The reported model is a list of member networks (one per seed; one network is a list of one) whose
P(ON) is averaged. Attributions are of that mean P(ON), in the model's input space (after the training
transform, e.g. log1p), as float32 ``[genes, marks, bins]``; a positive value raises P(ON).

* ``integrated_gradients`` (Sundararajan et al. 2017): baseline = the all-zero input (no signal in any mark
  and bin, 0 in the input space of both transforms). Completeness: the attributions of a gene sum to
  f(x) - f(0). The integral is the trapezoid rule, refined per gene: the steps of the genes whose completeness
  gap |sum(attr) - (f(x) - f(0))| is still above ``tolerance`` x |f(x) - f(0)| are doubled (reusing the
  coarser grid's gradients), up to ``max_steps``. It is computed through the network's linear first layers
  (:class:`_StraightPath`), equal to captum's IntegratedGradients on the same points (tests), at a fraction of
  its cost. IG is linear in the output: the attribution of the mean is the mean of the members' attributions.
* ``gradientshap`` (captum's GradientShap, i.e. expected gradients): gradients at random points between
  the gene and reference genes drawn (seeded) from the training split; the attributions of a gene sum
  to f(x) - mean f(references) in expectation. (captum 0.9's DeepLift rule is not used: chained after
  a ReLU its MaxPool rule breaks DeepLIFT's summation-to-delta on this network, tests/test_attribution.py.)
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .dataset import CellData
from .errors import DeepChromeError
from .io import atomic_path
from .model import DeepChromeCNN
from .spec import transform

log = logging.getLogger("deepchrome.attribution")

METHODS = ("integrated_gradients", "gradientshap")
BASELINE = "zero input (no signal in any mark or bin) in the model's input space"
_ROWS_PER_PASS = 8192  # inputs (genes x steps) per forward/backward pass: bounds memory, not results


class MeanScore(nn.Module):
    """The reported model: the mean over member networks of their own forward pass's score
    (:meth:`~deepchrome.model.DeepChromeCNN.score`: P(ON), or the level) ``[batch]``, for inputs
    ``[batch, marks, bins]``."""

    def __init__(self, members: Sequence[DeepChromeCNN]):
        super().__init__()
        if not members:
            raise ValueError("no member networks given")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m.score(x) for m in self.members]).mean(0)


@dataclass
class Attributions:
    """Attributions of a set of genes and how well they add up."""

    values: np.ndarray  # float32 [genes, marks, bins]
    score: np.ndarray  # float64 [genes]: f(x), the model's P(ON)
    reference: np.ndarray  # float64 [genes]: f(baseline) (IG) or mean f(references) (GradientShap)
    gap: np.ndarray  # float64 [genes]: |sum(attr) - (score - reference)| / |score - reference|
    steps: np.ndarray  # int64 [genes]: integration steps used (GradientShap: samples)
    seconds: float

    def completeness(self, tolerance: float) -> dict:
        """Summary of the completeness gaps: share of genes under ``tolerance``, median, 99th percentile, max."""
        gap = self.gap[np.isfinite(self.gap)]
        return {"tolerance": tolerance, "n_genes": int(self.gap.size),
                "share_under_tolerance": float((self.gap < tolerance).mean()) if self.gap.size else float("nan"),
                "median_gap": float(np.median(gap)) if gap.size else float("nan"),
                "p99_gap": float(np.quantile(gap, 0.99)) if gap.size else float("nan"),
                "max_gap": float(gap.max()) if gap.size else float("nan"),
                "steps_max": int(self.steps.max()) if self.steps.size else 0,
                "steps_median": float(np.median(self.steps)) if self.steps.size else 0.0}


def _frozen(model: nn.Module) -> nn.Module:
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@torch.no_grad()
def _probability(model: nn.Module, X: torch.Tensor) -> np.ndarray:
    return torch.cat([model(c) for c in X.split(_ROWS_PER_PASS)]).double().numpy() if len(X) else np.zeros(0)


def _relative_gap(values: np.ndarray, score: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """|sum(attr) - (f(x) - f(baseline))| / |f(x) - f(baseline)| per gene; 0 where both are 0 (x is the baseline)."""
    delta = score - reference
    miss = np.abs(values.reshape(len(values), -1).sum(axis=1, dtype=np.float64) - delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(miss == 0, 0.0, miss / np.abs(delta))


def _relu_backward(grad: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The gradient through a ReLU with output ``out``: ``grad`` where ``out > 0``, else 0 (one fused kernel,
    the one autograd uses)."""
    return torch.ops.aten.threshold_backward(grad, out, 0)


def _score_row(weight: torch.Tensor, bias: torch.Tensor, head: str) -> tuple[torch.Tensor, torch.Tensor]:
    """An output layer ``weight`` ``[outputs, in]``, ``bias`` ``[outputs]`` as the one direction the score reads:
    the class head's ON-minus-OFF logit (P(ON) = sigmoid of it, the softmax's ON entry), the level head's level."""
    if head == "class":
        return weight[1] - weight[0], bias[1] - bias[0]
    return weight[0], bias[0]


class _StraightPath:
    """The members' mean score (P(ON), or the level) and its gradient along straight paths ``alpha * x``
    (0 < alpha <= 1) from the zero input, computed through the first layers' linearity: exact, and cheaper than
    autograd on the whole network. It follows every option of :class:`~deepchrome.model.DeepChromeCNN` (the level
    head, the linear path from the input) and equals the members' own forward pass (tests/test_forward.py).

    At ``alpha * x`` the convolution's output is ``alpha * conv(x) + bias``, and since the bias is the same over
    a max-pool window, for ``alpha > 0`` the max-pool picks the same position at every point of the path:
    its output is ``alpha * peak(x) + bias`` with ``peak = maxpool(conv(x))``. So ``peak`` is computed once per
    gene, each path point runs only the members' ReLU/linear head forward and backward (written out, with
    PyTorch's conventions: ReLU'(0) = 0), and a weighted sum of gradients over the path maps back to the input
    once per gene (to the pooled positions, then through the transposed convolution; times ``x`` this is IG's
    ``x * sum_k w_k dP/dx(alpha_k x)``). At ``alpha = 0`` itself every window ties; the gradient used there is
    the limit along the path (``alpha -> 0+``), where autograd at the zero input would send it to each window's
    first position. The linear path (``linear: true``) adds ``alpha * w.x + b`` to the score's logit, whose gradient
    is ``w`` itself. ``x``: ``[genes, marks, bins]``, in the members' dtype.
    """

    def __init__(self, members: Sequence[DeepChromeCNN], x: torch.Tensor):
        for net in members:
            kinds = [type(layer) for layer in net.mlp]
            if kinds != [nn.Linear, nn.ReLU] * (len(kinds) // 2) + [nn.Linear]:
                raise ValueError("integrated gradients need DeepChromeCNN members with a Linear/ReLU head")
        self.x, self.members = x, list(members)
        self.peak, self.where = [], []  # per member: peak [genes, F*P], its position in its window [genes, F, P]
        for net in self.members:
            conv = nn.functional.conv1d(x, net.conv.weight)  # [genes, F, positions], without the bias
            n_pooled = conv.shape[2] // net.pool.kernel_size
            peak, where = conv[:, :, :n_pooled * net.pool.kernel_size].unflatten(2, (n_pooled, -1)).max(dim=3)
            self.peak.append(peak.flatten(1))
            self.where.append(where)
        # Per member: the pooled bias [F*P], the hidden layers as (W^T for the forward pass, W for the
        # backward, bias), the output layer as the score's logit z = h @ v + c (P(ON) = sigmoid(z); level: z), and
        # the linear path in the same direction (w [marks * bins], b) with w.x per gene, or None.
        self.bias = [net.conv.bias.repeat_interleave(w.shape[2]) for net, w in zip(self.members, self.where)]
        self.hidden = [[(lin.weight.t().contiguous(), lin.weight, lin.bias) for lin in net.mlp[:-1:2]]
                       for net in self.members]
        self.head = [_score_row(net.mlp[-1].weight, net.mlp[-1].bias, net.head) for net in self.members]
        self.linear = [None if net.linear is None else _score_row(net.linear.weight, net.linear.bias, net.head)
                       for net in self.members]
        self.linear_x = [None if lin is None else x.flatten(1) @ lin[0] for lin in self.linear]  # [genes]

    def gradient_sums(self, genes: torch.Tensor, alphas: torch.Tensor,
                      weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean score at ``alphas[k] * x[g]`` ``[len(genes), n]``, and per member ``sum_k weights[k] dP/dpeak`` at
        those points followed by ``sum_k weights[k] dP/dz`` (the linear path's) ``[members, len(genes), F*P + 1]``,
        for gene indices ``genes`` and path points ``alphas``, ``weights`` ``[n]`` (the same for every gene;
        ``alphas`` > 0, or 0 meaning the limit from above)."""
        a, n, S = len(genes), len(alphas), len(self.members)
        p_mean = torch.zeros(a * n, dtype=self.x.dtype)
        sums = []
        for net, peak, bias, layers, (v, c), lin, lin_x in zip(self.members, self.peak, self.bias, self.hidden,
                                                               self.head, self.linear, self.linear_x):
            hs = [torch.relu(torch.addcmul(bias, peak[genes].unsqueeze(1), alphas.view(1, n, 1)).view(a * n, -1))]
            for wt, _, b in layers:
                hs.append(torch.relu(torch.addmm(b, hs[-1], wt)))
            z = torch.addmv(c, hs[-1], v)
            if lin is not None:
                z = z + (lin[1] + lin_x[genes].unsqueeze(1) * alphas.view(1, n)).view(-1)
            p = torch.sigmoid(z) if net.head == "class" else z
            p_mean += p / S
            # d mean-score / dz (sigmoid' or 1) / S times each point's quadrature weight, back through the layers
            dz = (p * (1 - p) if net.head == "class" else torch.ones_like(p)) * weights.repeat(a) / S
            g = torch.outer(dz, v)
            for (_, w, _), h in zip(reversed(layers), reversed(hs[1:])):
                g = _relu_backward(g, h) @ w
            sums.append(torch.cat([_relu_backward(g, hs[0]).view(a, n, -1).sum(dim=1),
                                   dz.view(a, n).sum(dim=1, keepdim=True)], dim=1))
        return p_mean.view(a, n), torch.stack(sums)

    def to_input(self, genes: torch.Tensor, sums: torch.Tensor) -> torch.Tensor:
        """``x[g] * sum over members of (conv^T(sums at the pooled positions) + linear path sum * w)``: weighted
        gradient sums ``[members, len(genes), F*P + 1]`` (:meth:`gradient_sums`) as attributions of the input
        ``[len(genes), marks, bins]``."""
        total = torch.zeros_like(self.x[genes])
        for net, where, grad, lin in zip(self.members, self.where, sums, self.linear):
            where = where[genes]
            at_conv = torch.zeros(len(genes), where.shape[1], self.x.shape[2] - net.conv.kernel_size[0] + 1,
                                  dtype=grad.dtype)
            pool = net.pool.kernel_size
            at_conv.scatter_(2, where + torch.arange(0, where.shape[2] * pool, pool), grad[:, :-1].reshape(where.shape))
            total += nn.functional.conv_transpose1d(at_conv, net.conv.weight)
            if lin is not None:
                total += grad[:, -1, None, None] * lin[0].view(1, *self.x.shape[1:])
        return self.x[genes] * total


def _sum_over_path(path: _StraightPath, genes: torch.Tensor, alphas: torch.Tensor,
                   weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:meth:`_StraightPath.gradient_sums` in passes of at most ``_ROWS_PER_PASS`` path points (genes x points;
    sums over the path are additive, so the genes and the path points are split alike)."""
    nodes = min(len(alphas), _ROWS_PER_PASS)
    group = max(1, _ROWS_PER_PASS // nodes)
    f = torch.empty(len(genes), len(alphas), dtype=path.x.dtype)
    sums = torch.zeros(len(path.members), len(genes), path.peak[0].shape[1] + 1, dtype=path.x.dtype)
    for lo in range(0, len(genes), group):
        for k in range(0, len(alphas), nodes):
            part_f, part = path.gradient_sums(genes[lo:lo + group], alphas[k:k + nodes], weights[k:k + nodes])
            f[lo:lo + group, k:k + nodes] = part_f
            sums[:, lo:lo + group] += part
    return f, sums


def integrated_gradients(members: Sequence[DeepChromeCNN], X: np.ndarray, steps: int = 32, max_steps: int = 1024,
                         tolerance: float = 0.01) -> Attributions:
    """Integrated gradients of the members' mean score (P(ON); level members: the level) from the zero input, for
    inputs ``X`` ``[genes, marks, bins]`` (already in the model's input space), steps refined per gene until the
    completeness gap is under ``tolerance`` (both ends of the gap from the members' own forward pass).

    The integral is the trapezoid rule over ``steps`` equal intervals of the path (``steps + 1`` gradients, the
    one at the zero input, alpha -> 0+, computed per gene with the others); a gene whose gap is still >=
    ``tolerance`` gets its intervals halved (only the gradients at the new midpoints are computed: the coarser
    grid's are reused), up to ``max_steps``. This is captum's IntegratedGradients with
    ``method="riemann_trapezoid"``, ``n_steps = steps + 1``, with two differences (tests/test_attribution.py):
    captum's step sizes add up to ``steps / (steps + 1)``, not 1 (rescaled here), and the gradient at the zero
    input is the limit along the path (see :class:`_StraightPath`). Computed in the members' dtype (float32
    as trained)."""
    if steps < 2 or max_steps < steps:
        raise DeepChromeError(None, f"integration steps {steps} (max {max_steps}) are not usable",
                              "set attribution.steps >= 2 and attribution.max_steps >= attribution.steps")
    start = time.perf_counter()
    members = [_frozen(m) for m in members]
    dtype = next(members[0].parameters()).dtype
    x = torch.from_numpy(np.ascontiguousarray(X)).to(dtype)
    values = np.zeros(x.shape, dtype=np.float32)
    used = np.zeros(len(x), dtype=np.int64)
    rounds: dict[int, list[int]] = {}  # steps -> [genes integrated with them, genes still over the tolerance]
    with torch.no_grad():
        path = _StraightPath(members, x)
        todo = torch.arange(len(x))
        n = steps
        weights = torch.ones(n + 1, dtype=dtype)
        weights[[0, -1]] = 0.5
        _, sums = _sum_over_path(path, todo, torch.arange(n + 1, dtype=dtype) / n, weights)
        # Both ends of the completeness check from the members' own forward pass, not from the path: the gap
        # then also measures the path against the network it explains.
        model = MeanScore(members)
        score = _probability(model, x)
        reference = np.repeat(_probability(model, torch.zeros_like(x[:1])), len(x))
        while len(todo):
            rows = todo.numpy()
            values[rows] = (path.to_input(todo, sums[:, todo]) / n).numpy()
            used[rows] = n
            over = _relative_gap(values[rows], score[rows], reference[rows]) >= tolerance
            rounds[n] = [len(todo), int(over.sum())]
            todo = todo[torch.from_numpy(over)]
            if 2 * n > max_steps:
                break
            _, new = _sum_over_path(path, todo, torch.arange(1, 2 * n, 2, dtype=dtype) / (2 * n),
                                    torch.ones(n, dtype=dtype))
            sums[:, todo] += new
            n *= 2
    for n, (genes, over) in rounds.items():
        log.info("integrated gradients, %d steps: %d genes, %d still over the %.2g completeness tolerance",
                 n, genes, over, tolerance)
    return Attributions(values=values, score=score, reference=reference,
                        gap=_relative_gap(values, score, reference), steps=used,
                        seconds=time.perf_counter() - start)


def gradientshap(members: Sequence[DeepChromeCNN], X: np.ndarray, references: np.ndarray, samples: int = 50,
                 seed: int = 0) -> Attributions:
    """GradientShap (expected gradients) of the members' mean P(ON) for ``X`` ``[genes, marks, bins]`` against
    ``references`` ``[refs, marks, bins]`` (both in the model's input space): ``samples`` random (reference,
    point on the path) pairs per gene, seeded. Complete only in expectation: the gap shrinks with ``samples``."""
    from captum.attr import GradientShap

    start = time.perf_counter()
    model = _frozen(MeanScore(members))
    x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    refs = torch.from_numpy(np.ascontiguousarray(references, dtype=np.float32))
    if len(refs) < 2:
        raise DeepChromeError(None, "GradientShap needs at least 2 reference genes",
                              "set attribution.references >= 2 (and give the cell a training split that large)")
    gs = GradientShap(model)
    values = np.zeros(x.shape, dtype=np.float32)
    per_pass = max(1, _ROWS_PER_PASS // samples)
    numpy_state = np.random.get_state()  # captum draws the references from numpy's global generator
    try:
        np.random.seed(seed)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            for lo in range(0, len(x), per_pass):
                values[lo:lo + per_pass] = gs.attribute(x[lo:lo + per_pass], baselines=refs, n_samples=samples,
                                                        stdevs=0.0).detach().numpy()
    finally:
        np.random.set_state(numpy_state)
    score = _probability(model, x)
    reference = np.repeat(_probability(model, refs).mean(), len(x))
    return Attributions(values=values, score=score, reference=reference,
                        gap=_relative_gap(values, score, reference), steps=np.full(len(x), samples, dtype=np.int64),
                        seconds=time.perf_counter() - start)


def attribute(members: Sequence[DeepChromeCNN], X: np.ndarray, method: str, steps: int = 32, max_steps: int = 1024,
              tolerance: float = 0.01, references: np.ndarray | None = None, samples: int = 50,
              seed: int = 0) -> Attributions:
    """Attributions by ``method`` (see :data:`METHODS`); ``references``, ``samples`` and ``seed`` serve
    ``gradientshap`` only."""
    if method == "integrated_gradients":
        return integrated_gradients(members, X, steps=steps, max_steps=max_steps, tolerance=tolerance)
    if method == "gradientshap":
        if references is None:
            raise ValueError("gradientshap needs reference inputs")
        return gradientshap(members, X, references, samples=samples, seed=seed)
    raise DeepChromeError(None, f"unknown attribution method {method!r}", f"use one of {', '.join(METHODS)}")


@dataclass
class ClassSummary:
    """Attributions summarised over the correctly predicted genes of each class."""

    on: np.ndarray  # float64 [marks, bins]: mean attribution over correctly predicted ON genes
    off: np.ndarray  # float64 [marks, bins]: the same over correctly predicted OFF genes
    importance_on: np.ndarray  # float64 [marks]: mean |attribution| over those ON genes and all bins
    importance_off: np.ndarray  # float64 [marks]
    importance_all: np.ndarray  # float64 [marks]: over every gene given
    n_on: int
    n_off: int


def summarise(values: np.ndarray, label: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> ClassSummary:
    """Class summaries of attributions ``values`` ``[genes, marks, bins]``; a gene is predicted ON when its
    P(ON) ``score`` exceeds ``threshold``. A class without a correctly predicted gene gets NaN rows."""
    values = np.asarray(values, dtype=np.float64)
    label = np.asarray(label)
    predicted = np.asarray(score) > threshold
    on, off = (label == 1) & predicted, (label == 0) & ~predicted
    nan = np.full(values.shape[1:], np.nan)

    def mean(mask):
        return values[mask].mean(axis=0) if mask.any() else nan

    def importance(mask):
        return np.abs(values[mask]).mean(axis=(0, 2)) if mask.any() else nan[:, 0]

    return ClassSummary(on=mean(on), off=mean(off), importance_on=importance(on), importance_off=importance(off),
                        importance_all=importance(np.ones(len(values), dtype=bool)), n_on=int(on.sum()),
                        n_off=int(off.sum()))


def reference_genes(cell: CellData, transform_kind: str, n: int, seed: int) -> np.ndarray:
    """GradientShap's references: ``n`` train genes of ``cell`` drawn with ``seed``, transformed, ``[n, marks, bins]``."""
    train = np.flatnonzero(cell.split == "train")
    pick = np.sort(np.random.default_rng(seed).choice(train, min(n, train.size), replace=False))
    return transform(cell.X[pick], transform_kind)


def explain_test_genes(members: Sequence[DeepChromeCNN], cell: CellData, transform_kind: str, method: str,
                       steps: int = 32, max_steps: int = 1024, tolerance: float = 0.01, references: int = 50,
                       samples: int = 50, seed: int = 0) -> tuple[Attributions, ClassSummary]:
    """Attributions of every test gene of ``cell`` (raw features; ``transform_kind`` as in training) and their
    class summaries. GradientShap's references are ``references`` train genes drawn with ``seed``."""
    test = np.flatnonzero(cell.split == "test")
    if test.size == 0:
        raise DeepChromeError(None, "the cell has no test genes to explain", "use a split with a test part")
    refs = reference_genes(cell, transform_kind, references, seed) if method == "gradientshap" else None
    result = attribute(members, transform(cell.X[test], transform_kind), method, steps=steps, max_steps=max_steps,
                       tolerance=tolerance, references=refs, samples=samples, seed=seed)
    return result, summarise(result.values, cell.y[test], result.score)


def save_attributions(path: str | os.PathLike, result: Attributions, gene_id, label, marks, method: str) -> None:
    """Write ``attributions.npz``: ``attributions`` float32 [genes, marks, bins], ``gene_id``, ``marks``,
    ``label``, ``score`` (P(ON)), ``reference`` (f at the baseline), ``gap``, ``steps`` and ``method``."""
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, attributions=result.values.astype(np.float32), gene_id=np.asarray(gene_id, dtype=str),
                            marks=np.asarray(marks, dtype=str), label=np.asarray(label, dtype=np.int64),
                            score=result.score, reference=result.reference, gap=result.gap, steps=result.steps,
                            method=np.asarray(method))


def save_summary(path: str | os.PathLike, summary: ClassSummary, marks) -> None:
    """Write the class summaries (``on``/``off`` [marks, bins], ``importance_on/off/all`` [marks], ``marks``)."""
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, on=summary.on, off=summary.off, importance_on=summary.importance_on,
                            importance_off=summary.importance_off, importance_all=summary.importance_all,
                            marks=np.asarray(marks, dtype=str), n_on=summary.n_on, n_off=summary.n_off)


def stats(result: Attributions, summary: ClassSummary, marks: Sequence[str], method: str, tolerance: float) -> dict:
    """The JSON record of one cell's attributions: method, baseline, completeness, per-mark importance, cost."""
    def per_mark(values):
        return {m: (None if np.isnan(v) else float(v)) for m, v in zip(marks, values)}

    return {"method": method, "baseline": BASELINE if method == "integrated_gradients" else "reference genes of the train split (mean f)",
            "completeness": result.completeness(tolerance), "seconds": round(result.seconds, 3),
            "n_test": int(len(result.score)), "n_on_correct": summary.n_on, "n_off_correct": summary.n_off,
            "importance_on": per_mark(summary.importance_on), "importance_off": per_mark(summary.importance_off),
            "importance_all": per_mark(summary.importance_all)}
