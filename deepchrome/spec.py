"""The one description of a run and of a model: presets, input transform, targets and the registry of models.

Torch-, scikit-learn- and scipy-free: the workflow layer (Snakefile, ``rules/*.smk``) reads it in a plain
Snakemake environment, and every layer below takes its lists, names, colours and columns from here.

* :data:`PRESETS`: the CNN's training presets; :func:`resolve_params` applies the config's overrides.
* :data:`TARGETS`: ``class`` (P(ON), ROC AUC) or ``level`` (log2(RPKM + 1), Pearson r), each one
  :class:`Target` carrying its head, loss, validation metric and table columns.
* :data:`REGISTRY`: every model the workflow knows (:class:`ModelSpec`), in table and figure order. Adding a
  model is one entry here plus its own module.
* :func:`promoter_bins`: the central 2 kb in bins, whatever the bin size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import DeepChromeError

TRANSFORMS = ("none", "log1p")
OPTIMIZERS = ("sgd", "adam")
SCALES = ("none", "mark")
SELECTS = ("auc", "loss")

_ARCHITECTURE = {"n_filters": 50, "kernel": 10, "pool": 5, "hidden": (625, 125), "dropout": 0.5, "linear": False}
PRESETS: dict[str, dict] = {
    # Singh et al. 2016: raw counts, plain SGD on one gene per step, 99 epochs, best epoch by valid AUC.
    "paper": {**_ARCHITECTURE, "optimizer": "sgd", "lr": 1e-3, "weight_decay": 0.0, "batch_size": 1,
              "epochs": 99, "patience": None, "transform": "none", "scale": "none", "seeds": 1,
              "max_steps": None, "patience_genes": None, "select": "auc", "shift": 0},
    # Choices that hold on small real cells in general (docs/models.md): log1p input, Adam on minibatches,
    # early stopping per seed on its own valid AUC, the mean of 5 independently seeded networks (the averaging is
    # what a 600-gene cell needs most), and a network 14x smaller than the paper's (20 filters, one hidden layer
    # of 125: 46,397 parameters for 320 train genes), chosen on 38 real-data tasks of benchmarks/cnn_protocol.py
    # and confirmed on 34 others it had not seen. Large cells (over max_steps * batch_size = 2,048 train genes)
    # get larger minibatches and a patience counted in genes seen (deepchrome.train.schedule).
    "default": {**_ARCHITECTURE, "n_filters": 20, "hidden": (125,),
                "optimizer": "adam", "lr": 3e-4, "weight_decay": 1e-4, "batch_size": 32,
                "epochs": 100, "patience": 15, "transform": "log1p", "scale": "none", "seeds": 5,
                "max_steps": 64, "patience_genes": 32768, "select": "auc", "shift": 0},
}
ARCHITECTURE_KEYS = ("n_filters", "kernel", "pool", "hidden", "dropout", "linear")
"""The preset keys that shape the network (a model file stores them; the rest only shape training)."""


def resolve_params(preset: str, overrides: dict | None = None) -> dict:
    """The preset's training parameters updated by ``overrides`` (a new dict; unknown keys are an error)."""
    if preset not in PRESETS:
        raise DeepChromeError(None, f"unknown training preset {preset!r}", f"use one of {', '.join(PRESETS)}")
    params = dict(PRESETS[preset])
    unknown = sorted(set(overrides or {}) - set(params))
    if unknown:
        raise DeepChromeError(None, f"unknown training parameter(s) {', '.join(unknown)}",
                              f"allowed keys: {', '.join(sorted(params))}")
    params.update(overrides or {})
    params["hidden"] = tuple(params["hidden"])  # YAML/JSON give lists
    for key, allowed in (("optimizer", OPTIMIZERS), ("transform", TRANSFORMS), ("scale", SCALES),
                         ("select", SELECTS)):
        if params[key] not in allowed:
            raise DeepChromeError(None, f"unknown {key} {params[key]!r}", f"use one of {', '.join(allowed)}")
    if isinstance(params["shift"], bool) or not isinstance(params["shift"], int) or params["shift"] < 0:
        raise DeepChromeError(None, f"shift is {params['shift']!r}", "give a whole number of bins >= 0")
    if not isinstance(params["seeds"], int) or params["seeds"] < 1:
        raise DeepChromeError(None, f"seeds is {params['seeds']!r}", "give a whole number of seeds >= 1")
    return params


def transform(X: np.ndarray, kind: str) -> np.ndarray:
    """Model input from features ``X`` (any shape): ``none`` (as is) or ``log1p``; float32, same shape.

    Shared by the CNN and the baselines so that every model sees the same values.
    """
    X = np.asarray(X, dtype=np.float32)
    if kind == "none":
        return X
    if kind == "log1p":
        if (X < 0).any():
            raise DeepChromeError(None, "the log1p transform needs non-negative features (counts or signal)",
                                  "use transform 'none' for features that can be negative")
        return np.log1p(X)
    raise DeepChromeError(None, f"unknown transform {kind!r}", f"use one of {', '.join(TRANSFORMS)}")


def run_params(cnn: dict) -> dict:
    """The CNN's parameters of a run from its config block ``cnn`` (preset, params, seeds): the one place where
    ``cnn.seeds`` (null: the preset's) sets the ensemble's size."""
    seeds = cnn.get("seeds")
    return resolve_params(cnn["preset"], {**cnn.get("params", {}), **({} if seeds is None else {"seeds": seeds})})


LR_SCALES = {"sqrt": math.sqrt, "none": lambda growth: 1.0, "inverse": lambda growth: 1.0 / growth}
"""``lr_scale`` -> the factor of a large cell's lr as a function of its minibatch's growth (``max_steps``):
``sqrt`` the CNN's, ``none`` keeps the lr, ``inverse`` keeps lr / minibatch, the lr per gene (AttentiveChrome)."""
_ATTENTIVE_ARCHITECTURE = {"bin_hidden": 32, "mark_hidden": 16, "dropout": 0.5}
ATTENTIVE_PRESETS: dict[str, dict] = {
    # The authors' script (QData/AttentiveChrome v2PyTorch with the paper's settings): Adam at 1e-4 on 10 genes per
    # step, gradient norm clipped at 1, one network, 90 epochs, the epoch of best valid AUC.
    "paper": {**_ATTENTIVE_ARCHITECTURE, "lr": 1e-4, "weight_decay": 0.0, "batch_size": 10, "clip": 1.0,
              "epochs": 90, "patience": None, "seeds": 1, "max_steps": None, "patience_genes": None, "lr_scale": "none",
              "max_genes": None, "select": "auc"},
    # The CNN default's protocol (minibatches of 32, early stopping per seed after 15 epochs without a better valid
    # AUC, 5 seeds) at a higher lr than the paper's, for a 320-gene cell's 10 steps per epoch: on the synthetic test
    # cell, 1e-3 had not left the initial plateau after 8 epochs, 3e-3 left it after about 6 and 1e-2 diverged.
    # Large cells (benchmarks/runs/attentive/: a synthetic cell of 19,802 genes, 6,601 to train): minibatches of
    # ceil(n / 64) genes as the CNN's (104 there; larger minibatches cost more CPU per gene here, not less:
    # minibatch.tsv) with the lr divided by their growth (lr_scale inverse: 9.2e-4 there). Only then did the
    # training loss leave 0.693, from epoch 3 (0.647 after 5, the valid AUC rising to 0.720); at 3e-3 or the CNN's
    # sqrt-scaled 5.4e-3 it stayed there and the valid AUC fell after epoch 1 (curve.tsv). At most 30,000 train
    # genes seen per seed (max_genes: 4 epochs there; 93 for a 320-gene cell, more than early stopping used on the
    # protocol's tasks) keep its 5 seeds within 10 CPU-minutes (cost.tsv: 561 CPU-s), too few epochs to learn that
    # cell: test AUC 0.715 against the CNN default's 0.736 and logistic regression's 0.746 (reference.tsv).
    # Validated on small real cells only (e123_auc.tsv; protocol.tsv, 10 tasks: -0.0047 [-0.0112, +0.0018] against
    # the CNN): config/remc.yaml leaves it out.
    "default": {**_ATTENTIVE_ARCHITECTURE, "lr": 3e-3, "weight_decay": 0.0, "batch_size": 32, "clip": 1.0,
                "epochs": 100, "patience": 15, "seeds": 5, "max_steps": 64, "patience_genes": 16384,
                "lr_scale": "inverse", "max_genes": 30000, "select": "auc"},
}
"""AttentiveChrome's presets. Its input transform is the run's (the CNN's), so every model sees the same values."""


def resolve_attentive(preset: str, overrides: dict | None = None) -> dict:
    """AttentiveChrome's preset ``preset`` updated by ``overrides`` (a new dict; unknown keys or values are an error)."""
    if preset not in ATTENTIVE_PRESETS:
        raise DeepChromeError(None, f"unknown attentive preset {preset!r}", f"use one of {', '.join(ATTENTIVE_PRESETS)}")
    unknown = sorted(set(overrides or {}) - set(ATTENTIVE_PRESETS[preset]))
    if unknown:
        raise DeepChromeError(None, f"unknown attentive parameter(s) {', '.join(unknown)}",
                              f"allowed keys: {', '.join(sorted(ATTENTIVE_PRESETS[preset]))}")
    params = {**ATTENTIVE_PRESETS[preset], **(overrides or {})}
    if params["select"] not in SELECTS:
        raise DeepChromeError(None, f"unknown select {params['select']!r}", f"use one of {', '.join(SELECTS)}")
    if params["lr_scale"] not in LR_SCALES:
        raise DeepChromeError(None, f"unknown lr_scale {params['lr_scale']!r}", f"use one of {', '.join(LR_SCALES)}")
    if isinstance(params["seeds"], bool) or not isinstance(params["seeds"], int) or params["seeds"] < 1:
        raise DeepChromeError(None, f"seeds is {params['seeds']!r}", "give a whole number of seeds >= 1")
    return params


def network_params(name: str, cnn: dict, attentive: dict | None = None) -> tuple[str, dict]:
    """``(preset, parameters)`` of the run's network ``name`` (``cnn`` or ``attentive``) from the config blocks
    ``cnn`` and ``attentive`` (preset, params). Both networks share the CNN's input transform, ``cnn.seed`` and,
    where set, ``cnn.seeds``: the same inputs, seeds and ensemble size (null: each preset's own)."""
    run = run_params(cnn)
    if name == "cnn":
        return cnn["preset"], run
    block = attentive or {"preset": "default", "params": {}}
    params = resolve_attentive(block["preset"], block.get("params"))
    if cnn.get("seeds") is not None:
        params["seeds"] = cnn["seeds"]
    return block["preset"], {**params, "transform": run["transform"]}


@dataclass(frozen=True)
class Target:
    """What the models predict, chosen once per run (config key ``target``)."""

    name: str  # class | level
    head: str  # the networks' output: "class" (log P(OFF), log P(ON)) or "level" (one value)
    output: str  # what a score is, in words
    loss: str  # the networks' training loss
    metric: str  # the validation metric's short name: auc | r
    metric_label: str  # in words
    valid_key: str  # metrics.json / history column of the validation metric

    @property
    def is_level(self) -> bool:
        return self.name == "level"


TARGETS = {
    "class": Target("class", "class", "P(ON)", "negative log-likelihood", "auc", "valid AUC", "valid_auc"),
    "level": Target("level", "level", "predicted log2(RPKM + 1)", "mean squared error", "r", "valid Pearson r",
                    "valid_r"),
}


def target(name: str) -> Target:
    """The :class:`Target` called ``name`` (``class`` or ``level``)."""
    if name not in TARGETS:
        raise DeepChromeError(None, f"unknown target {name!r}", f"use one of {', '.join(TARGETS)}")
    return TARGETS[name]


@dataclass(frozen=True)
class ModelSpec:
    """One model of the registry: its ID (config, file names), how tables and figures name it, its colour,
    the targets it serves and, for a class model with a regression form, that form's ID."""

    name: str
    label: str  # figure legends and axes
    long_name: str  # the report's prose
    color: str  # Okabe & Ito (2008) colour-blind-safe palette
    targets: tuple[str, ...]
    kind: str  # network (several seeds, a model.pt) | baseline (scikit-learn, tuned) | score (untrained)
    level_form: str | None = None  # its regression form's ID under target: level


REGISTRY: tuple[ModelSpec, ...] = (
    ModelSpec("cnn", "CNN", "DeepChrome CNN", "#D55E00", ("class", "level"), "network", "cnn"),
    ModelSpec("attentive", "AttentiveChrome", "AttentiveChrome", "#56B4E9", ("class", "level"),
              "network", "attentive"),
    ModelSpec("gbm", "Gradient boosting", "gradient-boosted trees", "#E69F00", ("class", "level"), "baseline", "gbm"),
    ModelSpec("svm", "SVM", "SVM (RBF kernel)", "#0072B2", ("class",), "baseline", "svr"),
    ModelSpec("rf", "Random forest", "random forest", "#009E73", ("class", "level"), "baseline", "rf"),
    ModelSpec("logreg", "Logistic regression", "logistic regression", "#CC79A7", ("class",), "baseline", "ridge"),
    ModelSpec("promoter", "H3K4me3 promoter (untrained)", "untrained H3K4me3 score", "#777777", ("class", "level"),
              "score", "promoter"),
    # The regression forms keep their class twin's colour.
    ModelSpec("svr", "SVR", "SVR (RBF kernel)", "#0072B2", ("level",), "baseline"),
    ModelSpec("ridge", "Ridge regression", "ridge regression", "#CC79A7", ("level",), "baseline"),
)
SPECS = {spec.name: spec for spec in REGISTRY}
REFERENCE_MODEL = "cnn"
"""The model every other is tested against (DeLong per cell, Wilcoxon over cells)."""


def models_for(target_name: str, kinds: tuple[str, ...] = ("network", "baseline", "score")) -> tuple[str, ...]:
    """The registry's models serving ``target_name`` (of the given kinds), in table order: the registry's for
    ``class``; for ``level`` each class model's regression form takes its place."""
    order = [s.level_form or s.name for s in REGISTRY if "class" in s.targets] if target(target_name).is_level else []
    order += [s.name for s in REGISTRY if s.name not in order]
    return tuple(m for m in order if target_name in SPECS[m].targets and SPECS[m].kind in kinds)


def baseline_names(target_name: str) -> tuple[str, ...]:
    """The trained baselines and the untrained score under ``target_name`` (the models rule ``baselines`` can fit)."""
    return models_for(target_name, ("baseline", "score"))


def configured_models(networks: list[str], baselines: list[str], marks: list[str], target_name: str) -> list[str]:
    """The run's models in table order: ``networks`` (config ``networks``), then ``baselines`` (config
    ``baselines.models``, class IDs) in their form for ``target_name``; the promoter score only where H3K4me3 is a
    mark."""
    chosen = [*networks, *(m for m in baselines if m != "promoter" or PROMOTER_MARK in marks)]
    if target(target_name).is_level:
        chosen = [SPECS[m].level_form or m for m in chosen]
    return model_order(chosen, target_name)


def model_order(models, target_name: str = "class") -> list[str]:
    """``models`` (IDs) in the table order of ``target_name``; others after them, sorted."""
    given = set(models)
    known = [m for m in models_for(target_name) if m in given]
    return known + sorted(given - set(known))


def model_label(model: str) -> str:
    """How figures and tables name ``model`` (an unknown model: its ID)."""
    return SPECS[model].label if model in SPECS else model


def model_long_name(model: str) -> str:
    """How the report's prose names ``model``."""
    return SPECS[model].long_name if model in SPECS else model


POOLED = "pooled"
"""The pooled model's name (in ``predict_with`` and file names): no cell may be called so."""
LEFT_OUT = "without_"
"""Prefix of a leave-one-cell-out model's name: ``without_<cell>``."""

PROMOTER_MARK = "H3K4me3"
PROMOTER_BP = 2000  # the central 2 kb around the TSS


def promoter_bins(n_bins: int, bin_size: int) -> tuple[int, int]:
    """``(lo, hi)``: the bins ``[lo, hi)`` of a TSS-centred window of ``n_bins`` bins of ``bin_size`` bp that cover
    the central :data:`PROMOTER_BP`: those whose centre lies within 1 kb of the TSS. A bin size that does not divide
    1 kb so rounds to whole bins (a bin half inside counts); at least the bin(s) at the TSS count."""
    offsets = [(k + 0.5) * bin_size - n_bins * bin_size / 2 for k in range(n_bins)]  # bp, bin centre - TSS
    inside = [k for k, o in enumerate(offsets) if abs(o) <= PROMOTER_BP / 2] or [
        k for k, o in enumerate(offsets) if abs(o) == min(map(abs, offsets))]
    return inside[0], inside[-1] + 1
