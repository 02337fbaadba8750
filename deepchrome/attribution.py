"""Per-gene attributions of the reported CNN's P(ON): which marks, in which bins, raise or lower it.

The reported model is a list of member networks (one per seed; one network is a list of one) whose
P(ON) is averaged. Attributions are of that mean P(ON), in the model's input space (after the training
transform, e.g. log1p), as float32 ``[genes, marks, bins]``; a positive value raises P(ON).

* ``integrated_gradients`` (Sundararajan et al. 2017, captum): baseline = the all-zero input (no
  signal in any mark and bin, 0 in the input space of both transforms). Completeness: the attributions
  of a gene sum to f(x) - f(0). The integral is refined per gene, doubling the steps of the genes whose
  completeness gap |sum(attr) - (f(x) - f(0))| is still above ``tolerance`` x |f(x) - f(0)|, up to
  ``max_steps``. Since IG is linear in the output, the attribution of the mean is the mean of the
  members' attributions (computed in one pass over the mean).
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
from .train import transform

log = logging.getLogger("deepchrome.attribution")

METHODS = ("integrated_gradients", "gradientshap")
BASELINE = "zero input (no signal in any mark or bin) in the model's input space"
_ROWS_PER_PASS = 8192  # inputs (genes x steps) per forward/backward pass: bounds memory, not results


class ProbabilityOn(nn.Module):
    """P(ON) ``[batch]`` of one network as sigmoid(z_ON - z_OFF), which equals the softmax's ON entry.

    The sigmoid is a module of its own so that DeepLIFT applies its rule to it (one module per use).
    """

    def __init__(self, net: DeepChromeCNN):
        super().__init__()
        self.net = net
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.net.logits(x)
        return self.sigmoid(z[:, 1] - z[:, 0])


class MeanProbabilityOn(nn.Module):
    """The reported model: mean P(ON) ``[batch]`` over member networks, for inputs ``[batch, marks, bins]``."""

    def __init__(self, members: Sequence[DeepChromeCNN]):
        super().__init__()
        if not members:
            raise ValueError("no member networks given")
        self.members = nn.ModuleList(ProbabilityOn(m) for m in members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members]).mean(0)


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


def integrated_gradients(members: Sequence[DeepChromeCNN], X: np.ndarray, steps: int = 32, max_steps: int = 1024,
                         tolerance: float = 0.01) -> Attributions:
    """Integrated gradients of the members' mean P(ON) from the zero input, for inputs ``X`` ``[genes, marks, bins]``
    (already in the model's input space), steps refined per gene until the completeness gap is under ``tolerance``."""
    from captum.attr import IntegratedGradients

    if steps < 2 or max_steps < steps:
        raise DeepChromeError(None, f"integration steps {steps} (max {max_steps}) are not usable",
                              "set attribution.steps >= 2 and attribution.max_steps >= attribution.steps")
    start = time.perf_counter()
    model = _frozen(MeanProbabilityOn(members))
    x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    ig = IntegratedGradients(model)
    score = _probability(model, x)
    reference = np.repeat(_probability(model, torch.zeros(1, *x.shape[1:])), len(x))
    values = np.zeros(x.shape, dtype=np.float32)
    used = np.zeros(len(x), dtype=np.int64)
    todo = np.arange(len(x))
    n = steps
    while todo.size:
        for chunk in np.array_split(todo, max(1, -(-todo.size * n // _ROWS_PER_PASS))):
            values[chunk] = ig.attribute(x[chunk], baselines=0.0, n_steps=n, method="gausslegendre",
                                         internal_batch_size=_ROWS_PER_PASS).numpy()
        used[todo] = n
        gap = _relative_gap(values[todo], score[todo], reference[todo])
        log.info("integrated gradients, %d steps: %d genes, %d still over the %.2g completeness tolerance",
                 n, todo.size, int((gap >= tolerance).sum()), tolerance)
        todo = todo[gap >= tolerance]
        if n * 2 > max_steps:
            break
        n *= 2
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
    model = _frozen(MeanProbabilityOn(members))
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


def load_summary(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a file written by :func:`save_summary` (``marks`` as a list of str)."""
    with np.load(path, allow_pickle=False) as z:
        out = {k: z[k] for k in z.files}
    out["marks"] = [str(m) for m in out["marks"]]
    return out


def stats(result: Attributions, summary: ClassSummary, marks: Sequence[str], method: str, tolerance: float) -> dict:
    """The JSON record of one cell's attributions: method, baseline, completeness, per-mark importance, cost."""
    def per_mark(values):
        return {m: (None if np.isnan(v) else float(v)) for m, v in zip(marks, values)}

    return {"method": method, "baseline": BASELINE if method == "integrated_gradients" else "reference genes of the train split (mean f)",
            "completeness": result.completeness(tolerance), "seconds": round(result.seconds, 3),
            "n_test": int(len(result.score)), "n_on_correct": summary.n_on, "n_off_correct": summary.n_off,
            "importance_on": per_mark(summary.importance_on), "importance_off": per_mark(summary.importance_off),
            "importance_all": per_mark(summary.importance_all)}
