"""Training the DeepChrome CNN on one cell: presets, input transform, device choice, the seeded loop of an ensemble.

Every function here works on a cell's ``X`` float32 ``[genes, marks, bins]``; scores are P(ON),
float64 ``[genes]`` in [0, 1] (``target="level"``: the predicted log2(RPKM + 1), trained with MSE and
stopped on the valid Pearson r instead of the valid AUC).
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.stats import pearsonr
from sklearn.metrics import roc_auc_score

from . import __version__
from .dataset import CellData, require_both_classes  # noqa: F401 (baselines' and tests' import)
from .ensemble import FAMILIES, SeedStack, build_member, fold_input_scaling, full_float32, member_scores, save_model
from .errors import DeepChromeError
from .evaluate import target_metrics
from .io import write_json, write_tsv
from .model import score_of
from .spec import LR_SCALES, PRESETS, TARGETS, TRANSFORMS, model_long_name, network_params, resolve_params, transform  # noqa: F401 (the API)

log = logging.getLogger("deepchrome.train")

_EVAL_CHUNK = 1024  # genes per forward pass when validating: bounds memory (and is faster than 4,096 on a CPU)


def schedule(params: dict, n_train: int) -> dict:
    """The minibatch size, learning rate and patience (epochs) used on a train split of ``n_train`` genes.

    ``max_steps`` (None: off) caps the minibatches per epoch: a larger split gets minibatches of
    ``ceil(n_train / max_steps)`` genes and the learning rate multiplied by ``LR_SCALES[params["lr_scale"]]`` of
    the growth (absent: ``sqrt``, Adam's usual rule, the CNN's). ``patience_genes`` (None: off) caps the patience at
    that many genes seen (at least 3 epochs): an epoch of a large cell is many steps and its validation AUC is
    precise, so fewer epochs without gain say enough. Small cells (at the defaults up to 2,048 train genes) train
    exactly as set.
    """
    batch, lr, patience = params["batch_size"], params["lr"], params["patience"]
    if params.get("max_steps") and n_train > params["max_steps"] * batch:
        grown = math.ceil(n_train / params["max_steps"])
        batch, lr = grown, lr * LR_SCALES[params.get("lr_scale", "sqrt")](grown / params["batch_size"])
    if patience is not None and params.get("patience_genes"):
        patience = min(patience, max(3, math.ceil(params["patience_genes"] / n_train)))
    return {"batch_size": batch, "lr": lr, "patience": patience}


def seed_list(params: dict, first: int) -> list[int]:
    """The ensemble's seeds: ``first``, ``first + 1``, ... (``params['seeds']`` of them)."""
    return list(range(first, first + params["seeds"]))


def select_device(requested: str = "auto") -> tuple[torch.device, str | None]:
    """``(device, warning)`` for ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.

    ``auto`` takes the first visible GPU (CUDA_VISIBLE_DEVICES decides which are visible, so a SLURM job
    uses the GPU it was given) or the CPU. A GPU that is asked for but missing falls back to the CPU with a
    warning (returned and logged): ``cuda``/``cuda:N`` without CUDA, and ``auto`` in a job that was given
    a GPU (CUDA_VISIBLE_DEVICES set to a device) where torch finds none (no driver, or a CPU-only torch).
    """
    if requested == "cpu":
        return torch.device("cpu"), None
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda:0"), None
        given = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
        if given and given not in ("-1", "NoDevIdx"):
            warning = (f"the job was given GPU(s) CUDA_VISIBLE_DEVICES={given} but torch {torch.__version__} finds "
                       "no CUDA device (no driver or a CPU-only build of torch): training on the CPU")
            log.warning(warning)
            return torch.device("cpu"), warning
        return torch.device("cpu"), None
    if requested == "cuda" or requested.startswith("cuda:"):
        if torch.cuda.is_available():
            dev = torch.device(requested)
            return (torch.device("cuda", 0) if dev.index is None else dev), None
        warning = f"device {requested!r} was requested but no CUDA GPU is available: training on the CPU"
        log.warning(warning)
        return torch.device("cpu"), warning
    raise DeepChromeError(None, f"unknown device {requested!r}", "use auto, cpu, cuda or cuda:N")


@dataclass
class CNNResult:
    """A trained ensemble: each seed's best-epoch weights and how it got there.

    ``states`` hold plain :class:`~deepchrome.model.DeepChromeCNN` weights that take ``transform(X)``
    (any per-mark scaling used in training is folded into the first layer).
    """

    seeds: list[int]
    states: dict[int, dict]  # seed -> CPU state_dict of its best epoch
    history: pd.DataFrame  # epoch (1-based), loss (mean train NLL; level: MSE), valid_auc (level: valid_r),
    # valid_loss (the same loss on the valid genes), seed, kept (1 at the seed's chosen epoch)
    best_epoch: dict[int, int]  # seed -> its chosen epoch (params["select"]: best valid AUC or lowest valid loss)
    valid_auc: dict[int, float]  # seed -> the valid AUC of that epoch (level: valid Pearson r)
    member_scores: np.ndarray  # float64 [seeds, genes]: P(ON) (level: the level) of every gene, each seed's best weights
    device: str
    warning: str | None  # e.g. the GPU fallback
    seconds: float  # wall time of the whole call

    @property
    def scores(self) -> np.ndarray:
        """The ensemble's P(ON), float64 ``[genes]``: the mean over seeds."""
        return self.member_scores.mean(axis=0)


def _deterministic(device: torch.device) -> None:
    """Ask for deterministic kernels, so GPU runs repeat as far as they can, in full float32. The CPU kernels the
    networks use repeat exactly for a given thread count without the switch, which there would only import
    torch._inductor (about 1.5 CPU-s per job) and fill every new tensor with NaN."""
    full_float32(device)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS determinism needs it
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def prepare_training(cell: CellData, seeds: list[int], device: str, threads: int | None):
    """Checks and process-wide torch state before training any network on ``cell``: distinct seeds, a train and a
    valid split with both classes, the device (:func:`select_device`), the CPU thread count and, on a GPU,
    deterministic kernels. Returns ``(device, warning)``."""
    if not seeds or len(set(seeds)) != len(seeds):
        raise DeepChromeError(None, f"seeds {seeds} must be one or more distinct integers",
                              "give cnn.seeds >= 1 (seeds are cnn.seed, cnn.seed + 1, ...)")
    dev, warning = select_device(device)
    if threads:
        torch.set_num_threads(threads)
    _deterministic(dev)
    require_both_classes(cell, "train")
    require_both_classes(cell, "valid")
    return dev, warning


def mark_scaling(X: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-mark mean and standard deviation (float64 ``[marks]``) of ``X`` ``[genes, marks, bins]`` over the
    genes ``rows`` and all bins; a constant mark gets standard deviation 1."""
    part = X[rows].astype(np.float64)
    mean, std = part.mean(axis=(0, 2)), part.std(axis=(0, 2))
    return mean, np.where(std > 0, std, 1.0)


@torch.no_grad()
def _stack_scores(net: SeedStack, X: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """P(ON) (level head: the level) float64 ``[len(which), genes]`` of members ``which`` for inputs ``X``
    ``[genes, marks, bins]`` (on the net's device)."""
    net.eval()
    out = [score_of(net(chunk.unsqueeze(0).expand(len(which), *chunk.shape), which), net.head)
           for chunk in X.split(_EVAL_CHUNK)]
    return torch.cat(out, dim=1).double() if out else torch.zeros(len(which), 0, dtype=torch.float64)


def _aucs(y: np.ndarray, scores: torch.Tensor) -> np.ndarray:
    """ROC AUC of each row of ``scores`` ``[seeds, genes]`` (NaN where a row is not finite)."""
    s = scores.cpu().numpy()
    return np.array([roc_auc_score(y, row) if np.isfinite(row).all() else np.nan for row in s])


def _pearsons(level: np.ndarray, scores: torch.Tensor) -> np.ndarray:
    """Pearson r of each row of ``scores`` ``[seeds, genes]`` with ``level`` (NaN where a row is not finite; 0 where
    it is constant, as a network that predicts one value for every gene: no correlation)."""
    s = scores.cpu().numpy()
    return np.array([np.nan if not np.isfinite(row).all() else pearsonr(level, row)[0] if np.ptp(row) > 0 else 0.0
                     for row in s])


def _losses(y: np.ndarray, scores: torch.Tensor, level: bool) -> np.ndarray:
    """The loss of each row of ``scores`` ``[seeds, genes]``: the mean negative log-likelihood of the labels ``y``
    under P(ON) (the training loss; level: the mean squared error against the levels ``y``)."""
    s = scores.cpu().numpy()
    if level:
        return ((s - y[None, :]) ** 2).mean(axis=1)
    p = np.clip(s, 1e-7, 1 - 1e-7)
    return -(y[None, :] * np.log(p) + (1 - y[None, :]) * np.log1p(-p)).mean(axis=1)


def _shifted(xb: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Inputs ``xb`` ``[S, b, marks, bins]`` translated along the bins by ``offsets`` ``[S, b]`` (bins; the edge
    bin repeats where a window runs off its end)."""
    n_bins = xb.shape[3]
    pos = (torch.arange(n_bins, device=xb.device) + offsets[..., None]).clamp(0, n_bins - 1)  # [S, b, bins]
    return xb.gather(3, pos[:, :, None, :].expand(-1, -1, xb.shape[2], -1))


def _history(rows: list[tuple], level: bool, kept: dict[int, int]) -> pd.DataFrame:
    """The training history: one row per seed and epoch (``rows`` of epoch, loss, valid AUC or r, valid loss,
    seed) and ``kept``: 1 at the epoch whose weights the seed contributes (``kept``: seed -> epoch), else 0."""
    h = pd.DataFrame(rows, columns=["epoch", "loss", "valid_r" if level else "valid_auc", "valid_loss", "seed"])
    h["kept"] = (h["epoch"] == h["seed"].map(kept)).astype(int)
    return h


def train_cnn(cell: CellData, params: dict, seeds: list[int], device: str = "auto",
              threads: int | None = None, target: str = "class") -> CNNResult:
    """Train one CNN per seed on the cell's train split, all in one stacked network; keep each seed's best
    epoch on the valid split; score every gene with each.

    Each seed is an independent network: its own initialisation (``torch.manual_seed(seed)`` then the
    layers' default init, as a single run would), its own shuffling (a generator seeded with ``seed``) and its
    own early stopping (``patience`` epochs without a better valid criterion of its own; ``None``: never). The
    criterion (``params["select"]``) is the valid AUC (``auc``) or the valid loss, the training loss on the
    valid genes (``loss``). Training ends when every seed has stopped or after ``epochs``. A seed whose loss
    turns non-finite stops there. ``params["shift"] = k > 0`` translates each training window by a random
    whole number of bins in [-k, k] at every step (drawn per seed). Sets process-wide torch state: the seed,
    deterministic algorithms on a GPU and (if given) the CPU thread count. ``target="level"``: the level head (one linear
    output) fitted to ``cell.level`` by mean squared error; ``auc`` selection uses its valid Pearson r (recorded
    as ``valid_auc`` of the result).
    """
    start = time.perf_counter()
    dev, warning = prepare_training(cell, seeds, device, threads)
    train_rows = np.flatnonzero(cell.split == "train")
    valid_rows = np.flatnonzero(cell.split == "valid")

    Xt = transform(cell.X, params["transform"])
    mean, std = (mark_scaling(Xt, train_rows) if params["scale"] == "mark"
                 else (np.zeros(Xt.shape[1]), np.ones(Xt.shape[1])))
    X = torch.from_numpy(((Xt - mean[None, :, None]) / std[None, :, None]).astype(np.float32)).to(dev)
    level = target == "level"
    y = (torch.as_tensor(cell.levels(), dtype=torch.float32, device=dev) if level
         else torch.as_tensor(cell.y, dtype=torch.long, device=dev))
    y_valid = cell.levels()[valid_rows] if level else cell.y[valid_rows]
    valid_metric, metric_name = (_pearsons, "valid r") if level else (_aucs, "valid AUC")
    criterion = "valid loss" if params["select"] == "loss" else metric_name
    members = []
    for seed in seeds:
        torch.manual_seed(seed)
        members.append(build_member(params, X.shape[1], X.shape[2], head=target))
    net = SeedStack(members).to(dev)
    torch.manual_seed(seeds[0])  # dropout masks
    plan = schedule(params, len(train_rows))
    opt_class = torch.optim.SGD if params["optimizer"] == "sgd" else torch.optim.Adam
    opt = opt_class(net.parameters(), lr=plan["lr"], weight_decay=params["weight_decay"])
    log.info("%d train genes: minibatch %d, lr %.3g, patience %s epochs", len(train_rows), plan["batch_size"],
             plan["lr"], plan["patience"])
    shuffles = [torch.Generator().manual_seed(seed) for seed in seeds]
    shifters = [torch.Generator().manual_seed(seed) for seed in seeds]
    train_idx = torch.from_numpy(train_rows)

    S, n = len(seeds), len(train_rows)
    active = np.ones(S, dtype=bool)  # seeds still training; only they are computed
    best_auc, best_epoch, stale = np.full(S, -np.inf), np.zeros(S, dtype=int), np.zeros(S, dtype=int)
    best_crit = np.full(S, -np.inf)
    best_state: list[dict | None] = [None] * S
    rows = []
    for epoch in range(1, params["epochs"] + 1):
        t0 = time.perf_counter()
        net.train()
        run = np.flatnonzero(active)
        which = torch.from_numpy(run).to(dev)
        # Every seed draws its permutation each epoch, training or not, so a seed's order never depends on
        # when the others stop.
        order = torch.stack([train_idx[torch.randperm(n, generator=g)] for g in shuffles]).to(dev)[which]
        total = torch.zeros(len(run), dtype=torch.float64, device=dev)  # summed on the device: no host sync
        # With every seed training, no member selection (its backward would scatter into full-size zeros).
        pick = None if len(run) == S else which
        for idx in order.split(plan["batch_size"], dim=1):  # idx [S', b]: each seed's own minibatch
            opt.zero_grad(set_to_none=True)
            xb = X[idx]
            if params["shift"]:
                k = params["shift"]
                xb = _shifted(xb, torch.stack([torch.randint(-k, k + 1, (idx.shape[1],), generator=shifters[s])
                                               for s in run]).to(dev))
            logp = net(xb, pick)  # [S', b, 2] (level: [S', b, 1])
            if level:
                per_seed = (logp.squeeze(2) - y[idx]).pow(2).mean(dim=1)  # [S'] mean squared error
            else:
                per_seed = -logp.gather(2, y[idx].unsqueeze(2)).squeeze(2).mean(dim=1)  # [S']
            per_seed.sum().backward()  # members share no weights: each gets its own loss's gradient
            opt.step()
            total += per_seed.detach().double() * idx.shape[1]
        losses, aucs = np.full(S, np.nan), np.full(S, np.nan)
        losses[run] = (total / n).cpu().numpy()
        valid_scores = _stack_scores(net, X[torch.from_numpy(valid_rows).to(dev)], which)
        aucs[run] = valid_metric(y_valid, valid_scores)
        valid_losses = np.full(S, np.nan)
        valid_losses[run] = _losses(y_valid, valid_scores, level)
        crit = -valid_losses if params["select"] == "loss" else aucs
        was_active = active.copy()
        for s in run:
            if not np.isfinite(losses[s]) or not np.isfinite(crit[s]):
                log.warning("seed %d, epoch %d: training loss is %s, the model diverged: stopping it",
                            seeds[s], epoch, losses[s])
                active[s] = False
                continue
            rows.append((epoch, float(losses[s]), float(aucs[s]), float(valid_losses[s]), seeds[s]))
            if crit[s] > best_crit[s]:
                best_crit[s], best_auc[s], best_epoch[s], stale[s] = crit[s], aucs[s], epoch, 0
                best_state[s] = net.member_state(s)
            else:
                stale[s] += 1
                if plan["patience"] is not None and stale[s] >= plan["patience"]:
                    log.info("seed %d: no better %s for %d epochs: stopping after epoch %d",
                             seeds[s], criterion, stale[s], epoch)
                    active[s] = False
        log.info("epoch %d/%d, %d seed(s) training: loss %s %s %s (%.1f s)", epoch, params["epochs"],
                 int(was_active.sum()), np.round(losses[was_active], 4), metric_name, np.round(aucs[was_active], 4),
                 time.perf_counter() - t0)
        if not active.any():
            break
    for s, state in enumerate(best_state):
        if state is None:
            raise DeepChromeError(None, f"the CNN of seed {seeds[s]} diverged in its first epoch "
                                  "(training loss is not finite)", "lower lr or use transform 'log1p'")
    states = {seed: fold_input_scaling(state, mean, std) for seed, state in zip(seeds, best_state)}
    final = [build_member(params, X.shape[1], X.shape[2], head=target) for _ in seeds]
    for member, seed in zip(final, seeds):
        member.load_state_dict(states[seed])
    scores = member_scores(final, Xt, dev)
    log.info("best epochs %s, %s %s", best_epoch.tolist(), metric_name, np.round(best_auc, 4).tolist())
    name = str(dev) if dev.type == "cpu" else f"{dev} ({torch.cuda.get_device_name(dev)})"
    return CNNResult(seeds=list(seeds), states=states,
                     history=_history(rows, level, dict(zip(seeds, best_epoch.tolist()))),
                     best_epoch=dict(zip(seeds, best_epoch.tolist())),
                     valid_auc=dict(zip(seeds, best_auc.tolist())), member_scores=scores, device=name,
                     warning=warning, seconds=time.perf_counter() - start)


def cnn_metrics(cell: CellData, result: CNNResult, preset: str, params: dict, target: str = "class",
                model: str = "cnn") -> dict:
    """What metrics.json records of an ensemble beyond the reported model's AUCs: its protocol (preset,
    parameters, selection) and one entry per seed (best epoch, epochs run, valid and test AUC of that seed;
    ``target="level"``: valid and test Pearson r)."""
    from .evaluate import metrics

    valid, test = cell.split == "valid", cell.split == "test"
    epochs_run = result.history.groupby("seed")["epoch"].max()
    if target == "level":
        name, metric = "r", (lambda rows, scores: float(pearsonr(cell.levels()[rows], scores[rows])[0]))
    else:
        name, metric = "auc", (lambda rows, scores: metrics(cell.y[rows], scores[rows])["auc"])
    seeds = [{"seed": s, "best_epoch": result.best_epoch[s], "epochs_run": int(epochs_run[s]),
              f"valid_{name}": metric(valid, scores), f"test_{name}": metric(test, scores)}
             for s, scores in zip(result.seeds, result.member_scores)]
    if model == "attentive":  # its own schedule (lr scaling, epochs cap); imported here: attentive imports train
        from .attentive import attentive_schedule as plan_of
    else:
        plan_of = schedule
    plan = plan_of(params, int((cell.split == "train").sum()))
    if params["select"] == "loss":
        what = "valid loss (mean squared error)" if target == "level" else "valid loss (negative log-likelihood)"
    else:
        what = "valid Pearson r" if target == "level" else "valid AUC"
    stopping = (f"best epoch by its {what} of all epochs" if plan["patience"] is None else
                f"early stopping after {plan['patience']} epochs without a better {what}; best epoch kept")
    output = "predicted log2(RPKM + 1), trained by mean squared error," if target == "level" else "P(ON)"
    return {"seconds": result.seconds, "device": result.device, "device_warning": result.warning,
            "preset": preset, "params": params, "schedule": plan, "seeds": seeds,
            "protocol": {"model": f"mean {output} of {len(result.seeds)} independently seeded "
                                  f"{model_long_name(model)} network(s)",
                         "selection": f"each seed: {stopping}, on the valid split only",
                         "test_genes_used_for": "the reported metrics only"}}


def model_inputs(cell: CellData, transform_kind: str) -> dict:
    """What a model trained on ``cell`` expects of its features: the features' description (marks in array order,
    number of bins, bin size, bin order, input kind: :func:`deepchrome.dataset.feature_description`) and the
    model's input ``transform``."""
    if cell.bins is None:
        raise ValueError("the cell carries no description of its bins (load it with deepchrome.dataset.load_cell)")
    return {"marks": [str(m) for m in cell.marks], "bins": int(cell.X.shape[2]), **cell.bins,
            "transform": transform_kind}


def model_description(cell: CellData, preset: str, params: dict, seeds: list[int], target: str, name: str,
                      cells: list[str] | None = None, model: str = "cnn") -> dict:
    """What model.pt records of an ensemble trained on ``cell`` (JSON values): ``model`` (its name in
    :data:`deepchrome.spec.REGISTRY`), ``network`` (:func:`deepchrome.model.network_description`), ``inputs``
    (:func:`model_inputs`), ``target``, ``preset``, ``params`` (the resolved training parameters), ``seeds``,
    ``cell`` (``name``: the cell, or the pooled model), ``cells`` (the cells whose genes it was trained on; default
    ``[name]``) and ``version`` (the package's)."""
    family = importlib.import_module(FAMILIES[model])
    network = family.network_description(params, cell.X.shape[1], cell.X.shape[2], TARGETS[target].head)
    return {"model": model, "network": network,
            "inputs": model_inputs(cell, params["transform"]), "target": target, "preset": preset,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
            "seeds": [int(s) for s in seeds], "cell": name, "cells": list(cells or [name]), "version": __version__}


def train_and_save(cell: CellData, cnn: dict, first_seed: int, device: str, threads: int | None, target: str,
                   name: str, model: str | os.PathLike, history: str | os.PathLike, metrics: str | os.PathLike,
                   cells: list[str] | None = None, extra: dict | None = None, network: str = "cnn",
                   attentive: dict | None = None) -> CNNResult:
    """Train the ensemble of ``network`` (a network of :data:`deepchrome.spec.REGISTRY`: ``cnn`` or ``attentive``)
    with the parameters the config blocks ``cnn`` and ``attentive`` give it (:func:`deepchrome.spec.network_params`)
    on ``cell`` (called ``name``; ``cells``: the cells it pools) for ``target`` and write its files: ``model`` (every
    seed's weights and the :func:`model_description`), ``history`` (per epoch and seed) and ``metrics`` (the
    reported model's test metrics, its protocol from :func:`cnn_metrics`, and ``extra``)."""
    preset, params = network_params(network, cnn, attentive)
    seeds = seed_list(params, first_seed)
    trainer = train_cnn if network == "cnn" else getattr(importlib.import_module(FAMILIES[network]), f"train_{network}")
    result = trainer(cell, params, seeds=seeds, device=device, threads=threads, target=target)
    save_model(model, result.states, model_description(cell, preset, params, seeds, target, name, cells, model=network))
    write_tsv(result.history, history)
    write_json(target_metrics(cell, result.scores, {**cnn_metrics(cell, result, preset, params, target, network),
                                                    **(extra or {})}, target, name=f"{network}, cell {name}"), metrics)
    return result
