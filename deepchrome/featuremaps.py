"""Feature pattern maps (paper Fig. 4-5): the input a trained CNN finds most typical of a class."""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch.nn import functional as F

from .model import DeepChromeCNN

log = logging.getLogger("deepchrome.featuremaps")


def class_map(model: DeepChromeCNN, target: int, n_marks: int, n_bins: int, steps: int = 1000,
              lr: float = 0.1, l2: float = 0.009, seed: int = 0) -> np.ndarray:
    """Class model by input optimisation: float32 ``[marks, bins]`` in [0, 1], maximum 1 (unless all 0).

    Starts from X uniform in [0, 1) and minimises NLL(model(X), target) + l2 * ||X||^2 with RMSprop,
    dropout off and the weights frozen; ``target`` 1 = ON, 0 = OFF. X lives in the model's input space
    (after the training transform). The model's mode and ``requires_grad`` flags are restored afterwards.
    """
    device = next(model.parameters()).device
    x = torch.rand(1, n_marks, n_bins, generator=torch.Generator().manual_seed(seed)).to(device).requires_grad_()
    label = torch.tensor([target], device=device)
    was_training = model.training
    frozen = [(p, p.requires_grad) for p in model.parameters()]
    model.eval()
    for p, _ in frozen:
        p.requires_grad_(False)
    try:
        opt = torch.optim.RMSprop([x], lr=lr)
        report_every = max(1, steps // 10)
        for step in range(1, steps + 1):
            opt.zero_grad()
            loss = F.nll_loss(model(x), label) + l2 * x.pow(2).sum()
            loss.backward()
            opt.step()
            if step % report_every == 0 or step == steps:
                log.info("%s map: step %d/%d, objective %.4f", "ON" if target == 1 else "OFF", step, steps, loss.item())
    finally:
        model.train(was_training)
        for p, flag in frozen:
            p.requires_grad_(flag)
    m = x.detach()[0].clamp(0, 1).cpu().numpy().astype(np.float32)
    top = m.max()
    return m / top if top > 0 else m
