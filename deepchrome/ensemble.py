"""Several seeds of the CNN as one: trained together as a stacked network, saved together, averaged.

The workflow's ``cnn`` is an ensemble: one :class:`~deepchrome.model.DeepChromeCNN` per seed, each with its
own initialisation, shuffling and best epoch; the reported score is the mean P(ON) over the members.

* :class:`SeedStack` holds the members' weights stacked along a leading ``[seeds]`` axis and runs all of
  them in one forward pass (a grouped convolution and batched matrix products), so training five seeds
  costs about what one did. Member ``s`` sees only its own inputs and weights: its gradients, and so its
  Adam/SGD updates, are exactly those of training it alone.
* ``model.pt`` is a dict ``seed -> state_dict`` of plain :class:`DeepChromeCNN` members
  (:func:`save_members`, :func:`load_members`), written byte-identically for identical runs, plus the key
  ``"inputs"``: what the model expects of its features (:func:`model_inputs`; marks, bins, bin order, transform).
* :class:`EnsembleCNN` is the mean-probability ensemble as one module (log of the mean P per class), for
  anything that differentiates through the reported model (feature maps, attributions).
* ``target: level`` networks (``head="level"``) predict log2(RPKM + 1); the ensemble's level is the members'
  mean. Their weights carry a ``level_output`` buffer: :func:`saved_target` tells from ``model.pt`` what a
  saved ensemble predicts, and :func:`predict` returns that output (mean P(ON) or mean level) either way.
"""

from __future__ import annotations

import copy
import io
import math
import os

import numpy as np
import torch
from torch import nn

from .errors import DeepChromeError
from .io import atomic_path
from .model import DeepChromeCNN

_EVAL_CHUNK = 4096  # genes per forward pass when scoring: bounds memory, not results
INPUTS_KEY = "inputs"  # model.pt's entry describing the features the model expects (all other keys are seeds)


def build_member(params: dict, n_marks: int, n_bins: int, head: str = "class") -> DeepChromeCNN:
    """A freshly initialised network for ``[marks, bins]`` inputs with the architecture in ``params``
    (``head``: ``class`` or ``level``, see :class:`DeepChromeCNN`)."""
    return DeepChromeCNN(n_marks, n_bins, n_filters=params["n_filters"], kernel=params["kernel"],
                         pool=params["pool"], hidden=tuple(params["hidden"]), dropout=params["dropout"], head=head,
                         linear=params.get("linear", False))


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


def save_members(states: dict[int, dict[str, torch.Tensor]], path: str | os.PathLike,
                 inputs: dict | None = None) -> None:
    """Write ``{seed: state_dict}`` atomically; identical weights give identical bytes.

    ``inputs`` (plain JSON-like values: the features the model was trained on, see
    :func:`deepchrome.predict.feature_inputs`) is stored under the key ``"inputs"``.

    ``torch.save`` to a file stores that (temporary, random) file name inside the zip, so the bytes are
    made in memory and then written.
    """
    buffer = io.BytesIO()
    content: dict = {int(s): states[s] for s in sorted(states)}
    if inputs is not None:
        content[INPUTS_KEY] = inputs
    torch.save(content, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def state_target(state: dict[str, torch.Tensor]) -> str:
    """What a member's saved weights predict: ``level`` (they carry the ``level_output`` buffer) or ``class``."""
    return "level" if "level_output" in state else "class"


def saved_target(path: str | os.PathLike) -> str:
    """What the ensemble saved at ``path`` (``model.pt``) predicts: ``class`` (P(ON)) or ``level`` (log2(RPKM + 1))."""
    states = torch.load(path, map_location="cpu", weights_only=True)
    return state_target(states[min(k for k in states if k != INPUTS_KEY)])


def load_members(path: str | os.PathLike, params: dict) -> list[DeepChromeCNN]:
    """The ensemble's members saved at ``path`` (seed order; architecture from ``params``, input shape and head
    (:func:`state_target`) from the file), on the CPU, in eval mode."""
    states = torch.load(path, map_location="cpu", weights_only=True)
    members = []
    for seed in sorted(k for k in states if k != INPUTS_KEY):
        n_marks, n_bins = (int(v) for v in states[seed]["input_shape"])
        member = build_member(params, n_marks, n_bins, head=state_target(states[seed]))
        shapes = {k: tuple(v.shape) for k, v in member.state_dict().items()}
        saved = {k: tuple(v.shape) for k, v in states[seed].items()}
        if shapes != saved:
            layers = [saved[k][0] for k in sorted(saved) if k.startswith("mlp.") and k.endswith(".weight")]
            raise DeepChromeError(path, "the saved networks are not of the architecture the settings give "
                                  f"(n_filters {params['n_filters']}, hidden {list(params['hidden'])}, "
                                  f"linear {params.get('linear', False)}; saved: n_filters "
                                  f"{saved.get('conv.weight', ('?',))[0]}, layer sizes {layers}): they were "
                                  "trained with other settings or an earlier default",
                                  "train them again with the current settings (delete the model's folder, or "
                                  "run Snakemake with --forcerun train_cnn)")
        member.load_state_dict(states[seed])
        members.append(member.eval())
    return members


def model_inputs(path: str | os.PathLike) -> dict | None:
    """What the model at ``path`` expects of its features (the ``inputs`` given to :func:`save_members`), or
    None for a file written without them."""
    return torch.load(path, map_location="cpu", weights_only=True).get(INPUTS_KEY)


class EnsembleCNN(nn.Module):
    """The members as one model: ``[batch, marks, bins]`` -> log of the mean P per class ``[batch, 2]``."""

    def __init__(self, members: list[DeepChromeCNN]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logp = torch.stack([m(x) for m in self.members])  # [S, batch, 2]
        return torch.logsumexp(logp, dim=0) - math.log(len(self.members))


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
        output = (lambda z: z[:, 1].exp()) if m.head == "class" else (lambda z: z[:, 0])
        out.append(torch.cat([output(m(c.to(device))).double().cpu() for c in x.split(_EVAL_CHUNK)])
                   if len(x) else torch.zeros(0, dtype=torch.float64))
    return torch.stack(out).numpy()


def predict(members: list[DeepChromeCNN], X: np.ndarray, params: dict, device: str | torch.device = "cpu") -> np.ndarray:
    """The ensemble's output, the mean over members, float64 ``[genes]``, for raw features ``X``
    ``[genes, marks, bins]`` (``params['transform']`` applied here): P(ON) for a ``class`` ensemble, the
    predicted log2(RPKM + 1) for a ``level`` one (which it is: ``members[0].head``, or :func:`saved_target`)."""
    from .train import transform

    return member_scores(members, transform(X, params["transform"]), device).mean(axis=0)
