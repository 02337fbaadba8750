"""AttentiveChrome (Singh, Lanchantin, Sekhon and Qi, NeurIPS 2017): hierarchical LSTMs with soft attention.

Per mark, a bidirectional LSTM reads the mark's value bin by bin and a soft attention (a learned context vector,
softmax over the bins) pools the bin states into one vector; a bidirectional LSTM over the marks' vectors and a
second attention pool them into one vector per gene; one linear output gives the logit of ON (``head="class"``:
returned as log-probabilities over OFF, ON) or the level (``head="level"``). The attentions are the model's own
explanation: where it looked, not what raised P(ON).

Faithful to the authors' PyTorch code (QData/AttentiveChrome ``v2PyTorch``, read, not copied): separate weights
per mark, context vectors without projection, every parameter initialised uniformly in [-0.1, 0.1], one output
trained by binary cross-entropy (log-softmax over the logits (0, z) is the same loss). Their v2 passes dropout 0.5
to one-layer LSTMs, where PyTorch ignores it; their v1 (Lua) applies it to the LSTMs' outputs, as here.

Training (:func:`train_attentive`) follows the CNN's protocol (:func:`deepchrome.train.train_cnn`): the same input
transform, one network per seed with its own initialisation, shuffling and early stopping on the valid split, the
reported score the mean over seeds, results in a :class:`deepchrome.train.CNNResult`.
"""

from __future__ import annotations

import copy
import logging
import math
import time

import numpy as np
import torch
from torch import nn

from .dataset import CellData
from .ensemble import member_scores
from .errors import DeepChromeError
from .model import HEADS, score_of
from .train import CNNResult, _aucs, _history, _losses, _pearsons, prepare_training, schedule, transform

log = logging.getLogger("deepchrome.attentive")

FAMILY = "attentive"
_EVAL_CHUNK = 1024  # genes per forward pass when validating: bounds memory (one mark's states: 26 MB)


class AttentiveChrome(nn.Module):
    """Input ``[batch, marks, bins]`` float32 (the transformed features the CNN takes); output log-probabilities
    ``[batch, 2]`` (OFF, ON), or ``[batch, 1]`` levels with ``head="level"``.

    At the defaults (5 marks x 100 bins, 32 and 16 units each way) the network has 55,681 parameters: per mark
    an LSTM of 8,960 and a context vector of 64; the marks' LSTM 10,496, its context 32, the output 33.
    """

    def __init__(self, n_marks: int = 5, n_bins: int = 100, bin_hidden: int = 32, mark_hidden: int = 16,
                 dropout: float = 0.5, head: str = "class"):
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"unknown head {head!r}; use one of {', '.join(HEADS)}")
        self.head = head
        self.register_buffer("input_shape", torch.tensor([n_marks, n_bins]))  # saved weights say what they take
        if head == "level":
            self.register_buffer("level_output", torch.tensor(1))
        # One LSTM per mark, each over the whole batch (oneDNN runs each as one fused call): on a CPU 2.6 times faster
        # than one LSTM of all marks with block-diagonal weights (benchmarks/bench_attentive.py --part layout).
        self.bin_lstms = nn.ModuleList([nn.LSTM(1, bin_hidden, batch_first=True, bidirectional=True)
                                        for _ in range(n_marks)])
        self.bin_context = nn.Parameter(torch.empty(n_marks, 2 * bin_hidden))  # one context vector per mark
        self.mark_lstm = nn.LSTM(2 * bin_hidden, mark_hidden, batch_first=True, bidirectional=True)
        self.mark_context = nn.Parameter(torch.empty(2 * mark_hidden))
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(2 * mark_hidden, 1)
        for p in self.parameters():  # the authors' initialisation of every weight and bias
            nn.init.uniform_(p, -0.1, 0.1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x`` ``[batch, marks, bins]`` -> (gene vectors ``[batch, 2 * mark_hidden]``, bin attention
        ``[batch, marks, bins]``, mark attention ``[batch, marks]``); each attention sums to 1 over its last axis."""
        vectors, bin_att = [], []
        for m, lstm in enumerate(self.bin_lstms):  # mark by mark: only one mark's bin states live at a time
            states = self.dropout(lstm(x[:, m, :, None])[0])  # [batch, bins, 2 * bin_hidden]
            alpha = torch.softmax(states @ self.bin_context[m], dim=1)  # [batch, bins]
            vectors.append(torch.bmm(alpha.unsqueeze(1), states).squeeze(1))
            bin_att.append(alpha)
        marks = self.dropout(self.mark_lstm(torch.stack(vectors, dim=1))[0])  # [batch, marks, 2 * mark_hidden]
        beta = torch.softmax(marks @ self.mark_context, dim=1)  # [batch, marks]
        return torch.bmm(beta.unsqueeze(1), marks).squeeze(1), torch.stack(bin_att, dim=1), beta

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[batch, marks, bins]`` -> the output ``[batch, 1]``: the logit of ON (level head: the level)."""
        return self.output(self.encode(x)[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[batch, marks, bins]`` -> log-probabilities ``[batch, 2]`` (OFF, ON); level head: ``[batch, 1]``."""
        z = self.logits(x)
        return torch.log_softmax(torch.cat([torch.zeros_like(z), z], dim=1), dim=1) if self.head == "class" else z

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[batch, marks, bins]`` -> P(ON) ``[batch]`` (the level head: the level), as every scorer reads it."""
        return score_of(self.forward(x), self.head)

    def attention(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``[batch, marks, bins]`` -> (bin attention ``[batch, marks, bins]``, mark attention
        ``[batch, marks]``), each summing to 1 over its last axis (in training mode, of the dropped-out states)."""
        return self.encode(x)[1:]


def network_description(params: dict, n_marks: int, n_bins: int, head: str = "class") -> dict:
    """Everything needed to rebuild the network (JSON-serialisable): stored beside the weights in ``model.pt``."""
    return {"family": FAMILY, "n_marks": int(n_marks), "n_bins": int(n_bins), "bin_hidden": int(params["bin_hidden"]),
            "mark_hidden": int(params["mark_hidden"]), "dropout": float(params["dropout"]), "head": head}


def build_network(description: dict) -> AttentiveChrome:
    """A freshly initialised network of :func:`network_description`'s ``description``."""
    if description.get("family") != FAMILY:
        raise DeepChromeError(None, f"the network description is of family {description.get('family')!r}, "
                              f"not {FAMILY!r}", "build it with its own family's module")
    sizes = {k: description[k] for k in ("n_marks", "n_bins", "bin_hidden", "mark_hidden", "dropout", "head")}
    return AttentiveChrome(**sizes)


@torch.no_grad()
def _outputs(net: AttentiveChrome, X: torch.Tensor) -> torch.Tensor:
    """P(ON) (level head: the level) float64 ``[genes]`` of ``net`` in eval mode for inputs ``X`` ``[genes, marks,
    bins]`` on its device."""
    net.eval()
    return torch.cat([net.score(c).double() for c in X.split(_EVAL_CHUNK)])


def attentive_schedule(params: dict, n_train: int) -> dict:
    """Minibatch, lr, patience (epochs) and epochs at most on a train split of ``n_train`` genes.

    Minibatch, lr (its ``lr_scale``) and patience as :func:`deepchrome.train.schedule` sets them; ``max_genes``
    (None: off) caps the epochs at that many train genes seen per seed (at least one epoch), which bounds a seed's
    cost on any cell.
    """
    plan = schedule(params, n_train)
    plan["epochs"] = params["epochs"]
    if params.get("max_genes"):
        plan["epochs"] = min(params["epochs"], max(1, params["max_genes"] // n_train))
    return plan


def _train_seed(net: AttentiveChrome, X: torch.Tensor, y: torch.Tensor, rows: tuple[np.ndarray, np.ndarray],
                y_valid: np.ndarray, params: dict, plan: dict, seed: int) -> tuple[dict | None, int, float, list]:
    """Train one seeded network in place; ``rows`` are the train and valid gene indices of ``X``/``y``.

    Returns its best state (CPU copy; None if it diverged in its first epoch), best epoch, that epoch's valid AUC
    (level: Pearson r) and its history rows (epoch, loss, valid metric, valid loss, seed).
    """
    level = net.head == "level"
    dev = X.device
    train_rows, valid_rows = (torch.from_numpy(r).to(dev) for r in rows)
    opt = torch.optim.Adam(net.parameters(), lr=plan["lr"], weight_decay=params["weight_decay"])
    shuffle = torch.Generator().manual_seed(seed)  # the seed's own order, whatever the other seeds do
    best_crit, best_metric, best_epoch, best_state, stale, history = -math.inf, math.nan, 0, None, 0, []
    for epoch in range(1, plan["epochs"] + 1):
        net.train()
        total = torch.zeros((), dtype=torch.float64, device=dev)  # summed on the device: no host sync per step
        order = train_rows[torch.randperm(len(train_rows), generator=shuffle).to(dev)]
        for idx in order.split(plan["batch_size"]):
            opt.zero_grad(set_to_none=True)
            out = net(X[idx])
            loss = ((out[:, 0] - y[idx]).pow(2).mean() if level
                    else nn.functional.nll_loss(out, y[idx]))
            loss.backward()
            if params["clip"]:
                nn.utils.clip_grad_norm_(net.parameters(), params["clip"])
            opt.step()
            total += loss.detach().double() * len(idx)
        train_loss = float(total) / len(train_rows)
        scores = _outputs(net, X[valid_rows])[None, :]
        metric = float((_pearsons if level else _aucs)(y_valid, scores)[0])
        valid_loss = float(_losses(y_valid, scores, level)[0])
        crit = -valid_loss if params["select"] == "loss" else metric
        if not (math.isfinite(train_loss) and math.isfinite(crit)):
            log.warning("seed %d, epoch %d: training loss is %s, the model diverged: stopping it", seed, epoch,
                        train_loss)
            break
        history.append((epoch, train_loss, metric, valid_loss, seed))
        log.info("seed %d, epoch %d/%d: loss %.4f, valid %s %.4f", seed, epoch, plan["epochs"], train_loss,
                 "r" if level else "AUC", metric)
        if crit > best_crit:
            best_crit, best_metric, best_epoch, stale = crit, metric, epoch, 0
            best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
        else:
            stale += 1
            if plan["patience"] is not None and stale >= plan["patience"]:
                log.info("seed %d: no better valid %s for %d epochs: stopping after epoch %d", seed,
                         params["select"], stale, epoch)
                break
    return best_state, best_epoch, best_metric, history


def train_attentive(cell: CellData, params: dict, seeds: list[int], device: str = "auto",
                    threads: int | None = None, target: str = "class") -> CNNResult:
    """Train one AttentiveChrome per seed on the cell's train split, keep each seed's best epoch on the valid split,
    score every gene with each (``member_scores`` float64 ``[seeds, genes]``; the reported score is their mean).

    Each seed is independent: ``torch.manual_seed(seed)`` before its network is built (its initialisation and its
    dropout masks), its own shuffling generator, its own early stopping (``patience`` epochs without a better
    valid AUC, or lower valid loss with ``select: loss``; None: never) within ``epochs``; CPU runs repeat exactly.
    Minibatch, lr, patience and epochs of large cells as :func:`attentive_schedule` sets them.
    ``target="level"``: the level head fitted to ``cell.level`` by mean squared error, selected by the valid
    Pearson r (recorded as ``valid_auc``). Sets process-wide torch state as :func:`deepchrome.train.train_cnn`.
    """
    start = time.perf_counter()
    dev, warning = prepare_training(cell, seeds, device, threads)
    rows = (np.flatnonzero(cell.split == "train"), np.flatnonzero(cell.split == "valid"))
    Xt = transform(cell.X, params["transform"])
    X = torch.from_numpy(Xt).to(dev)
    level = target == "level"
    targets = cell.levels() if level else cell.y
    y = torch.as_tensor(targets, dtype=torch.float32 if level else torch.long, device=dev)
    plan = attentive_schedule(params, len(rows[0]))
    log.info("%d train genes: minibatch %d, lr %.3g, patience %s epochs, %d epochs at most", len(rows[0]),
             plan["batch_size"], plan["lr"], plan["patience"], plan["epochs"])
    description = network_description(params, X.shape[1], X.shape[2], target)
    states, best_epoch, valid_metric, history = {}, {}, {}, []
    for seed in seeds:
        torch.manual_seed(seed)
        net = build_network(description).to(dev)
        state, best_epoch[seed], valid_metric[seed], seed_rows = _train_seed(
            net, X, y, rows, targets[rows[1]], params, plan, seed)
        if state is None:
            raise DeepChromeError(None, f"the attentive network of seed {seed} diverged in its first epoch "
                                  "(training loss is not finite)", "lower lr or use transform 'log1p'")
        states[seed] = state
        history += seed_rows
    final = [build_network(description) for _ in seeds]
    for member, seed in zip(final, seeds):
        member.load_state_dict(states[seed])
    name = str(dev) if dev.type == "cpu" else f"{dev} ({torch.cuda.get_device_name(dev)})"
    return CNNResult(seeds=list(seeds), states=states, history=_history(history, level, best_epoch),
                     best_epoch=best_epoch, valid_auc=valid_metric, member_scores=member_scores(final, Xt, dev),
                     device=name, warning=warning, seconds=time.perf_counter() - start)


def members_from_states(states: dict[int, dict], description: dict) -> list[AttentiveChrome]:
    """The ensemble's networks (seed order, CPU, eval mode) from ``{seed: state_dict}`` and their description."""
    members = []
    for seed in sorted(states):
        net = build_network(description)
        net.load_state_dict(states[seed])
        members.append(net.eval())
    return members


@torch.no_grad()
def attention_maps(members: list[AttentiveChrome], X: np.ndarray, device: str | torch.device = "cpu",
                   chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """The members' mean attention for model inputs ``X`` ``[genes, marks, bins]`` (already transformed as in
    training): bin attention float64 ``[genes, marks, bins]`` and mark attention float64 ``[genes, marks]``, each
    summing to 1 over its last axis. Computed in eval mode on copies of the members (``chunk`` genes at a time)."""
    x = torch.as_tensor(np.asarray(X, dtype=np.float32))
    bins = np.zeros(x.shape, dtype=np.float64)
    marks = np.zeros(x.shape[:2], dtype=np.float64)
    for member in members:
        net = copy.deepcopy(member).to(device).eval()
        for start, c in zip(range(0, len(x), chunk), x.split(chunk)):
            alpha, beta = net.attention(c.to(device))
            bins[start:start + len(c)] += alpha.double().cpu().numpy()
            marks[start:start + len(c)] += beta.double().cpu().numpy()
    return bins / len(members), marks / len(members)
