"""Several seeds of the CNN as one: trained together as a stacked network, saved together, averaged.

The workflow's ``cnn`` is an ensemble: one :class:`~deepchrome.model.DeepChromeCNN` per seed, each with its
own initialisation, shuffling and best epoch; the reported score is the mean P(ON) over the members.

* :class:`SeedStack` holds the members' weights stacked along a leading ``[seeds]`` axis and runs all of
  them in one forward pass (a grouped convolution and batched matrix products), so training five seeds
  costs about what one did. Member ``s`` sees only its own inputs and weights: its gradients, and so its
  Adam/SGD updates, are exactly those of training it alone.
  Its forward pass is checked against the members' own (tests/test_forward.py).
* ``model.pt`` is a dict ``seed -> state_dict`` of plain :class:`DeepChromeCNN` members plus the key
  ``"description"``: the whole model in JSON values (network sizes, inputs, target, preset, parameters, seeds,
  cell, version), written byte-identically for identical runs (:func:`save_model`). :func:`load_model` needs
  only the path: the networks are built from the description (:data:`FAMILIES`).
* :class:`EnsembleCNN` is the mean-probability ensemble as one module (log of the mean P per class), for
  anything that differentiates through the reported model (feature maps).
* ``target: level`` networks (``head="level"``) predict log2(RPKM + 1); the ensemble's level is the members'
  mean; :func:`predict` returns the ensemble's score (mean P(ON) or mean level) either way.
"""

from __future__ import annotations

import copy
import importlib
import io
import json
import math
import os

import numpy as np
import torch
from torch import nn

from .errors import DeepChromeError
from .io import atomic_path
from .model import DeepChromeCNN, build_network, network_description, score_of
from .spec import transform

_EVAL_CHUNK = 4096  # genes per forward pass when scoring: bounds memory, not results
DESCRIPTION_KEY = "description"  # model.pt's entry describing the model (all other keys are seeds)
FAMILIES = {"cnn": "deepchrome.model"}
"""Network family (a description's ``network["family"]``) -> the module whose ``build_network`` builds it."""


def build_member(params: dict, n_marks: int, n_bins: int, head: str = "class") -> DeepChromeCNN:
    """A freshly initialised network for ``[marks, bins]`` inputs with the architecture in ``params``
    (``head``: ``class`` or ``level``, see :class:`DeepChromeCNN`)."""
    return build_network(network_description(params, n_marks, n_bins, head))


class SeedStack(nn.Module):
    """``S`` DeepChrome CNNs with weights stacked on a leading seed axis, run in one pass.

    Built from initialised members (so each keeps the initialisation of its own seed). Input
    ``[S, batch, marks, bins]`` (member ``s`` gets ``x[s]``); output log-probabilities ``[S, batch, 2]``
    (members with the level head: levels ``[S, batch, 1]``).
    """

    def __init__(self, members: list[DeepChromeCNN]):
        super().__init__()
        first = members[0]
        self.n_seeds = len(members)
        self.n_marks, self.n_bins = (int(v) for v in first.input_shape)
        self.kernel, self.n_filters = first.conv.kernel_size[0], first.conv.out_channels
        self.pool = first.pool.kernel_size
        self.dropout = nn.Dropout(first.dropout.p)
        self.conv_w = nn.Parameter(torch.stack([m.conv.weight.detach() for m in members]))  # [S, F, M, K]
        self.conv_b = nn.Parameter(torch.stack([m.conv.bias.detach() for m in members]))  # [S, F]
        linears = [[layer for layer in m.mlp if isinstance(layer, nn.Linear)] for m in members]
        self.w = nn.ParameterList([nn.Parameter(torch.stack([ls[i].weight.detach() for ls in linears]))  # [S, out, in]
                                   for i in range(len(linears[0]))])
        self.b = nn.ParameterList([nn.Parameter(torch.stack([ls[i].bias.detach() for ls in linears]))  # [S, out]
                                   for i in range(len(linears[0]))])
        # The optional linear path from the flattened input to the outputs: [S, out, marks*bins] and [S, out].
        has = first.linear is not None
        self.lin_w = nn.Parameter(torch.stack([m.linear.weight.detach() for m in members])) if has else None
        self.lin_b = nn.Parameter(torch.stack([m.linear.bias.detach() for m in members])) if has else None
        self._template = first.state_dict()  # member key order and the input_shape (and level_output) buffers
        self.head = first.head

    def forward(self, x: torch.Tensor, which: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` ``[S, batch, marks, bins]`` -> log-probabilities ``[S, batch, 2]``; with ``which`` (member
        indices ``[S']``) only those members run, ``x`` ``[S', batch, marks, bins]`` (stopped seeds cost nothing)."""
        S, B = x.shape[:2]
        pick = (lambda t: t) if which is None else (lambda t: t[which])
        h = x.permute(1, 0, 2, 3).reshape(B, S * self.n_marks, self.n_bins)
        h = nn.functional.conv1d(h, pick(self.conv_w).reshape(S * self.n_filters, self.n_marks, self.kernel),
                                 pick(self.conv_b).reshape(-1), groups=S)  # [B, S*F, L']
        h = nn.functional.max_pool1d(torch.relu(h), self.pool)  # [B, S*F, P]
        h = self.dropout(h.reshape(B, S, -1).transpose(0, 1))  # [S, B, F*P], each member's own flattening
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            h = torch.baddbmm(pick(b).unsqueeze(1), h, pick(w).transpose(1, 2))
            if i < len(self.w) - 1:
                h = torch.relu(h)
        if self.lin_w is not None:
            h = h + torch.baddbmm(pick(self.lin_b).unsqueeze(1), x.reshape(S, B, -1), pick(self.lin_w).transpose(1, 2))
        return torch.log_softmax(h, dim=2) if self.head == "class" else h

    @torch.no_grad()
    def member_state(self, s: int) -> dict[str, torch.Tensor]:
        """Member ``s`` as a :class:`DeepChromeCNN` state_dict (CPU copies)."""
        values = [self.conv_w[s], self.conv_b[s]]
        for w, b in zip(self.w, self.b):
            values += [w[s], b[s]]
        if self.lin_w is not None:
            values += [self.lin_w[s], self.lin_b[s]]
        buffers = ("input_shape", "level_output")
        names = [k for k in self._template if k not in buffers and not k.startswith("linear.")]
        names += [k for k in self._template if k.startswith("linear.")]
        state = {k: v.detach().cpu().clone() for k, v in zip(names, values)}
        return {k: self._template[k].clone() if k in buffers else state[k] for k in self._template}


def fold_input_scaling(state: dict[str, torch.Tensor], mean: np.ndarray, std: np.ndarray) -> dict[str, torch.Tensor]:
    """A member trained on ``(x - mean[m]) / std[m]`` per mark, rewritten to take ``x`` itself (exactly).

    The convolution is linear in its input: ``W' = W / std[m]``, ``b' = b - sum_{m,k} W[f, m, k] mean[m] / std[m]``.
    ``mean``, ``std``: float ``[marks]``.
    """
    w = state["conv.weight"].double()  # [F, M, K]
    scale = torch.as_tensor(1.0 / np.asarray(std, dtype=np.float64)).view(1, -1, 1)
    shift = torch.as_tensor(np.asarray(mean, dtype=np.float64)).view(1, -1, 1)
    out = dict(state)
    out["conv.weight"] = (w * scale).float()
    out["conv.bias"] = (state["conv.bias"].double() - (w * scale * shift).sum(dim=(1, 2))).float()
    if "linear.weight" in state:  # the linear path reads the same scaled input: [outputs, marks * bins]
        lw = state["linear.weight"].double()
        lw = lw.view(lw.shape[0], len(std), -1)  # [outputs, marks, bins]
        out["linear.weight"] = (lw * scale).reshape(lw.shape[0], -1).float()
        out["linear.bias"] = (state["linear.bias"].double() - (lw * scale * shift).sum(dim=(1, 2))).float()
    return out


def save_model(path: str | os.PathLike, states: dict[int, dict[str, torch.Tensor]], description: dict) -> None:
    """Write ``{seed: state_dict, ..., "description": description}`` atomically; identical runs give identical bytes.

    ``description`` (JSON values; :func:`deepchrome.train.model_description`) says everything a loader needs: the
    network (its ``family`` and sizes), the inputs, the target, the preset and parameters, the seeds, the cell and the
    package version. ``torch.save`` to a file stores that (temporary, random) file name inside the zip, so the bytes
    are made in memory and then written.
    """
    content: dict = {int(s): states[s] for s in sorted(states)}
    content[DESCRIPTION_KEY] = json.loads(json.dumps(description))  # plain JSON values: what weights_only loading reads
    buffer = io.BytesIO()
    torch.save(content, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def _read(path: str | os.PathLike) -> tuple[dict[int, dict[str, torch.Tensor]], dict]:
    """``({seed: state_dict}, description)`` of the model file at ``path``, or one DeepChromeError."""
    rerun = ("delete it and rerun the step that wrote it (Snakemake retrains the model: --forcerun train_cnn, or "
             "train_pooled for a pooled one)")
    if not os.path.exists(path):
        raise DeepChromeError(path, "the model file does not exist", "train the model first (run the workflow)")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a damaged zip or pickle: RuntimeError, UnpicklingError, EOFError, ... by torch version
        detail = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise DeepChromeError(path, f"cannot be read as a model file, it is truncated or not a model.pt ({detail})",
                              rerun) from None
    if not isinstance(content, dict) or DESCRIPTION_KEY not in content:
        raise DeepChromeError(path, "the model file records no description of its network and inputs: it was "
                              "written by an earlier version of deepchrome", rerun)
    return {k: v for k, v in content.items() if k != DESCRIPTION_KEY}, content[DESCRIPTION_KEY]


def read_description(path: str | os.PathLike) -> dict:
    """The description saved with the model at ``path`` (see :func:`save_model`), without building its networks."""
    return _read(path)[1]


def network_of(network: dict, path: str | os.PathLike | None = None) -> nn.Module:
    """A freshly initialised network of the description ``network`` (its ``family`` picks the module; ``path``: the
    model file it describes, for the error)."""
    family = network.get("family")
    if family not in FAMILIES:
        raise DeepChromeError(path, f"unknown network family {family!r}",
                              f"use a model of a known family ({', '.join(FAMILIES)}) or the deepchrome version that "
                              "wrote it")
    return importlib.import_module(FAMILIES[family]).build_network(network)


def load_model(path: str | os.PathLike) -> tuple[list[nn.Module], dict]:
    """``(members, description)`` of the model at ``path``: every seed's network (seed order, built from the
    description's ``network``), on the CPU, in eval mode. Needs nothing but the file."""
    states, description = _read(path)
    members = []
    for seed in sorted(states):
        member = network_of(description["network"], path)
        try:
            member.load_state_dict(states[seed])
        except RuntimeError as err:
            raise DeepChromeError(path, f"the weights of seed {seed} do not fit the network the file describes "
                                  f"({str(err).splitlines()[0]})",
                                  "delete the file and rerun the step that wrote it") from None
        members.append(member.eval())
    return members, description


class EnsembleCNN(nn.Module):
    """The members as one model, in their own output form: ``[batch, marks, bins]`` -> log of the mean P per class
    ``[batch, 2]`` (level members: the mean level ``[batch, 1]``). Its :meth:`score` is the ensemble's reported
    score, the mean of the members' :meth:`~deepchrome.model.DeepChromeCNN.score`."""

    def __init__(self, members: list[DeepChromeCNN]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.head = members[0].head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.stack([m(x) for m in self.members])  # [S, batch, 2] log-probabilities, or [S, batch, 1] levels
        if self.head == "class":
            return torch.logsumexp(out, dim=0) - math.log(len(self.members))
        return out.mean(dim=0)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """The ensemble's score ``[batch]``: mean P(ON) (level: mean level)."""
        return score_of(self.forward(x), self.head)


def full_float32(device: str | torch.device) -> None:
    """On a GPU, compute float32 convolutions in full float32 (a process-wide setting; nothing on the CPU).

    PyTorch lets cuDNN run float32 convolutions in TF32 (a 10-bit mantissa) on Ampere and later GPUs by default,
    so a GPU's scores would differ from the CPU's far beyond float32 rounding. Matrix products are full float32
    by default. The network is small: full precision costs next to nothing.
    """
    if torch.device(device).type == "cuda":
        torch.backends.cudnn.allow_tf32 = False


@torch.no_grad()
def member_scores(members: list[DeepChromeCNN], X: np.ndarray, device: str | torch.device = "cpu") -> np.ndarray:
    """P(ON) of each member (level-head members: its predicted level), float64 ``[members, genes]``, for model
    inputs ``X`` ``[genes, marks, bins]`` (already transformed as in training: see
    :func:`deepchrome.train.transform`), computed on ``device`` with copies of the members (the caller's stay
    where they are, in their mode)."""
    full_float32(device)
    x = torch.as_tensor(np.asarray(X, dtype=np.float32))
    out = []
    for member in members:
        m = copy.deepcopy(member).to(device).eval()
        out.append(torch.cat([m.score(c.to(device)).double().cpu() for c in x.split(_EVAL_CHUNK)])
                   if len(x) else torch.zeros(0, dtype=torch.float64))
    return torch.stack(out).numpy()


def predict(members: list[DeepChromeCNN], X: np.ndarray, transform_kind: str,
            device: str | torch.device = "cpu") -> np.ndarray:
    """The ensemble's output, the mean over members, float64 ``[genes]``, for raw features ``X``
    ``[genes, marks, bins]`` (the model's input transform ``transform_kind`` applied here; a saved model's is its
    description's ``inputs.transform``): P(ON) for a ``class`` ensemble, the predicted log2(RPKM + 1) for a
    ``level`` one (``members[0].head``)."""
    return member_scores(members, transform(X, transform_kind), device).mean(axis=0)
