"""The DeepChrome convolutional network (Singh et al. 2016)."""

from __future__ import annotations

import torch
from torch import nn


HEADS = ("class", "level")  # the network's output: log P(OFF), log P(ON); or one expression level
FAMILY = "cnn"


class DeepChromeCNN(nn.Module):
    """Conv1d -> ReLU -> MaxPool -> Dropout -> MLP -> log-softmax over {OFF, ON}.

    Input ``[batch, marks, bins]`` float32; output ``[batch, 2]`` log-probabilities. At the defaults
    (5 marks x 100 bins) the flattened map is 50 filters x 18 pooled positions = 900 values and the
    network has 644,177 parameters, as in the paper (the ``default`` preset builds a smaller one, 20 filters and
    one hidden layer of 125: 46,397 parameters; ``deepchrome.spec.PRESETS``). With ``linear=True`` a linear path from the flattened
    input (``marks * bins`` values) to the outputs is added to the MLP's, so the network holds logistic
    regression on the input as a special case (1,002 more parameters at the defaults).

    ``head="level"`` (``target: level``) ends in one linear output instead, the predicted log2(RPKM + 1),
    ``[batch, 1]`` with no softmax (644,051 parameters); its weights carry a ``level_output`` buffer so a
    loader knows what the saved network predicts. The class network is unchanged by the option.
    """

    def __init__(self, n_marks: int = 5, n_bins: int = 100, n_filters: int = 50, kernel: int = 10,
                 pool: int = 5, hidden: tuple[int, ...] = (625, 125), dropout: float = 0.5, head: str = "class",
                 linear: bool = False):
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"unknown head {head!r}; use one of {', '.join(HEADS)}")
        self.head = head
        n_pooled = (n_bins - kernel + 1) // pool  # "valid" convolution, then non-overlapping pooling
        if n_pooled < 1:
            raise ValueError(f"{n_bins} bins are too few for kernel {kernel} and pool {pool}")
        # A buffer, not a parameter: saved weights then say which input shape they expect.
        self.register_buffer("input_shape", torch.tensor([n_marks, n_bins]))
        self.conv = nn.Conv1d(n_marks, n_filters, kernel)
        # One activation module per use (no parameters): DeepLIFT-style attribution (captum) hooks modules.
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool1d(pool)
        self.dropout = nn.Dropout(dropout)
        layers: list[nn.Module] = []
        width = n_filters * n_pooled
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 2 if head == "class" else 1))
        self.mlp = nn.Sequential(*layers)
        if head == "level":
            self.register_buffer("level_output", torch.tensor(1))
        self.linear = nn.Linear(n_marks * n_bins, 2 if head == "class" else 1) if linear else None

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[batch, marks, bins]`` -> unnormalised scores ``[batch, 2]`` (OFF, ON), before the softmax
        (the level head: ``[batch, 1]``, the level itself)."""
        h = self.pool(self.relu(self.conv(x))).flatten(1)
        out = self.mlp(self.dropout(h))
        return out if self.linear is None else out + self.linear(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[batch, marks, bins]`` -> log-probabilities ``[batch, 2]`` (the level head: levels ``[batch, 1]``)."""
        z = self.logits(x)
        return torch.log_softmax(z, dim=1) if self.head == "class" else z


def network_description(params: dict, n_marks: int, n_bins: int, head: str = "class") -> dict:
    """Everything that shapes a :class:`DeepChromeCNN` (JSON values): what a model file stores to rebuild it.
    ``params``: a preset's parameters (:func:`deepchrome.spec.resolve_params`)."""
    return {"family": FAMILY, "n_marks": int(n_marks), "n_bins": int(n_bins), "n_filters": int(params["n_filters"]),
            "kernel": int(params["kernel"]), "pool": int(params["pool"]), "hidden": [int(h) for h in params["hidden"]],
            "dropout": float(params["dropout"]), "linear": bool(params.get("linear", False)), "head": head}


def build_network(description: dict) -> DeepChromeCNN:
    """A freshly initialised network of ``description`` (:func:`network_description`)."""
    d = description
    return DeepChromeCNN(d["n_marks"], d["n_bins"], n_filters=d["n_filters"], kernel=d["kernel"], pool=d["pool"],
                         hidden=tuple(d["hidden"]), dropout=d["dropout"], head=d["head"], linear=d["linear"])

