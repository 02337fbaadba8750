"""Training the DeepChrome CNN on one cell: presets, input transform, device choice, seeded loop.

Every function here works on a cell's ``X`` float32 ``[genes, marks, bins]``; scores are P(ON),
float64 ``[genes]`` in [0, 1].
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from torch.nn import functional as F

from .dataset import CellData
from .errors import DeepChromeError
from .io import atomic_path
from .model import DeepChromeCNN

log = logging.getLogger("deepchrome.train")

TRANSFORMS = ("none", "log1p")
OPTIMIZERS = ("sgd", "adam")
_ARCHITECTURE = {"n_filters": 50, "kernel": 10, "pool": 5, "hidden": (625, 125), "dropout": 0.5}
PRESETS: dict[str, dict] = {
    # Singh et al. 2016: raw counts, plain SGD on one gene per step, 99 epochs, best epoch by valid AUC.
    "paper": {**_ARCHITECTURE, "optimizer": "sgd", "lr": 1e-3, "weight_decay": 0.0, "batch_size": 1,
              "epochs": 99, "patience": None, "transform": "none"},
    # Tuned on the real E123 data (see the report): log1p input, Adam on minibatches, early stopping.
    "default": {**_ARCHITECTURE, "optimizer": "adam", "lr": 3e-4, "weight_decay": 1e-4, "batch_size": 32,
                "epochs": 100, "patience": 15, "transform": "log1p"},
}
_EVAL_CHUNK = 4096  # genes per forward pass when scoring: bounds memory, not results


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
    if params["optimizer"] not in OPTIMIZERS:
        raise DeepChromeError(None, f"unknown optimizer {params['optimizer']!r}", f"use one of {', '.join(OPTIMIZERS)}")
    if params["transform"] not in TRANSFORMS:
        raise DeepChromeError(None, f"unknown transform {params['transform']!r}", f"use one of {', '.join(TRANSFORMS)}")
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


def build_model(params: dict, n_marks: int, n_bins: int) -> DeepChromeCNN:
    """A freshly initialised network for ``[marks, bins]`` inputs with the architecture in ``params``."""
    return DeepChromeCNN(n_marks, n_bins, **{k: params[k] for k in _ARCHITECTURE})


@dataclass
class CNNResult:
    """A trained CNN: the best epoch's weights and how it got there."""

    state_dict: dict  # CPU tensors of the best epoch
    history: pd.DataFrame  # epoch (1-based), loss (mean train NLL), valid_auc
    best_epoch: int
    valid_auc: float  # of the best epoch
    device: str
    warning: str | None  # e.g. the GPU fallback
    seconds: float  # wall time of the whole call
    scores: np.ndarray  # float64 [genes]: P(ON) of every gene of the cell, best weights, cell row order


def require_both_classes(cell: CellData, split: str) -> None:
    """Raise a DeepChromeError unless split ``split`` of the cell holds both classes (else AUC is undefined)."""
    y = cell.y[cell.split == split]
    if np.unique(y).size < 2:
        raise DeepChromeError(None, f"the {split} split has {y.size} genes but not both classes",
                              "use a split whose train and valid parts each hold expressed and unexpressed genes")


def _seed(seed: int, device: torch.device) -> None:
    """Seed torch and ask for deterministic kernels, so CPU runs repeat exactly (GPU runs as far as possible)."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS determinism needs it
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


@torch.no_grad()
def _scores(model: DeepChromeCNN, X: torch.Tensor) -> np.ndarray:
    """P(ON) float64 ``[genes]`` of transformed inputs ``X`` ``[genes, marks, bins]`` (already on the model's device)."""
    model.eval()
    out = [model(chunk)[:, 1].exp() for chunk in X.split(_EVAL_CHUNK)]
    return torch.cat(out).double().cpu().numpy() if out else np.zeros(0)


def train_cnn(cell: CellData, params: dict, seed: int, device: str = "auto", threads: int | None = None) -> CNNResult:
    """Train on the cell's train split, pick the epoch with the best valid AUC, score every gene with it.

    Sets process-wide torch state: the seed, deterministic algorithms and (if given) the CPU thread count.
    Early stopping ends training after ``patience`` epochs without a better valid AUC (``None``: never).
    """
    start = time.perf_counter()
    dev, warning = select_device(device)
    if threads:
        torch.set_num_threads(threads)
    _seed(seed, dev)
    require_both_classes(cell, "train")
    require_both_classes(cell, "valid")
    train_rows = np.flatnonzero(cell.split == "train")
    valid_rows = np.flatnonzero(cell.split == "valid")

    X = torch.from_numpy(transform(cell.X, params["transform"])).to(dev)
    y = torch.as_tensor(cell.y, dtype=torch.long, device=dev)
    X_valid, y_valid = X[valid_rows], cell.y[valid_rows]
    train_idx = torch.from_numpy(train_rows).to(dev)
    model = build_model(params, X.shape[1], X.shape[2]).to(dev)
    opt_class = torch.optim.SGD if params["optimizer"] == "sgd" else torch.optim.Adam
    opt = opt_class(model.parameters(), lr=params["lr"], weight_decay=params["weight_decay"])
    shuffle = torch.Generator().manual_seed(seed)

    rows, best_state, best_epoch, best_auc, stale = [], None, 0, -np.inf, 0
    for epoch in range(1, params["epochs"] + 1):
        t0 = time.perf_counter()
        model.train()
        total = torch.zeros((), device=dev)  # summed on the device: no host sync per step
        # Indexing the resident tensor directly: a DataLoader costs more than a batch-1 step itself.
        for idx in train_idx[torch.randperm(len(train_idx), generator=shuffle).to(dev)].split(params["batch_size"]):
            opt.zero_grad(set_to_none=True)
            loss = F.nll_loss(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)
        mean_loss = total.item() / len(train_idx)
        if not np.isfinite(mean_loss):
            log.warning("epoch %d: training loss is %s, the model diverged: stopping", epoch, mean_loss)
            break
        auc = float(roc_auc_score(y_valid, _scores(model, X_valid)))
        rows.append((epoch, mean_loss, auc))
        log.info("epoch %d/%d loss %.4f valid AUC %.4f (%.1f s)", epoch, params["epochs"], mean_loss, auc,
                 time.perf_counter() - t0)
        if auc > best_auc:
            best_auc, best_epoch, stale = auc, epoch, 0
            best_state = {k: v.detach().clone().cpu() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if params["patience"] is not None and stale >= params["patience"]:
                log.info("no better valid AUC for %d epochs: stopping after epoch %d", stale, epoch)
                break
    if best_state is None:
        raise DeepChromeError(None, "the CNN diverged in its first epoch (training loss is not finite)",
                              "lower lr or use transform 'log1p'")
    model.load_state_dict(best_state)
    log.info("best epoch %d, valid AUC %.4f", best_epoch, best_auc)
    name = str(dev) if dev.type == "cpu" else f"{dev} ({torch.cuda.get_device_name(dev)})"
    return CNNResult(state_dict=best_state, history=pd.DataFrame(rows, columns=["epoch", "loss", "valid_auc"]),
                     best_epoch=best_epoch, valid_auc=best_auc, device=name, warning=warning,
                     seconds=time.perf_counter() - start, scores=_scores(model, X))


def save_model(state_dict: dict, path: str | os.PathLike) -> None:
    """Write a state_dict (the weights file of one cell), atomically."""
    with atomic_path(path) as tmp:
        torch.save(state_dict, tmp)


def load_model(path: str | os.PathLike, params: dict) -> DeepChromeCNN:
    """The network saved at ``path`` (architecture from ``params``, input shape from the file), on the CPU, eval mode."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    n_marks, n_bins = (int(v) for v in state["input_shape"])
    model = build_model(params, n_marks, n_bins)
    model.load_state_dict(state)
    return model.eval()


def predict(model: DeepChromeCNN, X: np.ndarray, params: dict, device: str | torch.device = "auto") -> np.ndarray:
    """P(ON) float64 ``[genes]`` for raw features ``X`` ``[genes, marks, bins]`` (``params['transform']`` applied here)."""
    dev = select_device(device)[0] if isinstance(device, str) else device
    model.to(dev)
    return _scores(model, torch.from_numpy(transform(X, params["transform"])).to(dev))
