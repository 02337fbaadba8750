"""One forward pass: the stacked ensemble (training), the ensemble module (feature maps), the scorer (predict) and
the attribution path (integrated gradients) compute what ``DeepChromeCNN.forward`` computes, for every option of
the architecture: the paper's and the default sizes, the linear path on and off, the class and the level head."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from deepchrome.attribution import MeanScore, _StraightPath, integrated_gradients
from deepchrome.ensemble import EnsembleCNN, SeedStack, build_member, member_scores
from deepchrome.train import resolve_params

OPTIONS = [(preset, linear, head) for preset in ("paper", "default") for linear in (False, True)
           for head in ("class", "level")]


def networks(preset: str, linear: bool, head: str, n: int = 3) -> list:
    """``n`` seeded networks of the option, in eval mode, with biases moved off zero (so that a wrongly placed bias
    or a missing linear path shows)."""
    params = resolve_params(preset, {"linear": linear})
    members = []
    for seed in range(n):
        torch.manual_seed(seed)
        net = build_member(params, 5, 100, head=head).eval()
        with torch.no_grad():
            for name, p in net.named_parameters():
                if name.endswith("bias"):
                    p.add_(0.1 * torch.randn(p.shape))
        members.append(net)
    return members


def inputs(genes: int = 9) -> torch.Tensor:
    """log1p of Poisson counts ``[genes, 5, 100]``, float32, as the default transform gives them."""
    return torch.log1p(torch.poisson(torch.full((genes, 5, 100), 2.0), generator=torch.Generator().manual_seed(1)))


@pytest.mark.parametrize("preset,linear,head", OPTIONS)
def test_every_path_equals_the_networks_forward(preset, linear, head):
    members = networks(preset, linear, head)
    x = inputs()
    with torch.no_grad():
        forward = torch.stack([m(x) for m in members])  # [S, genes, 2] log-probabilities or [S, genes, 1] levels
        score = torch.stack([m.score(x) for m in members])  # [S, genes]
        if head == "class":
            torch.testing.assert_close(score, forward[..., 1].exp(), rtol=0, atol=1e-7)
        # the stacked network of training: each member its own input
        stacked = SeedStack(members).eval()(x.unsqueeze(0).expand(len(members), *x.shape))
        torch.testing.assert_close(stacked, forward, rtol=0, atol=1e-6)
        # the ensemble as one module (feature maps) and the scorer (predict, transfer, the CLI)
        ensemble = EnsembleCNN(members)
        mean = forward.exp().mean(0).log() if head == "class" else forward.mean(0)
        torch.testing.assert_close(ensemble(x), mean, rtol=0, atol=1e-6)
        torch.testing.assert_close(ensemble.score(x), score.mean(0), rtol=0, atol=1e-6)
        np.testing.assert_allclose(member_scores(members, x.numpy()), score.double().numpy(), rtol=0, atol=1e-6)
        # the attribution path: the mean score along the straight path, including its start (alpha -> 0+)
        alphas = torch.tensor([1.0, 0.5, 0.0])
        along, _ = _StraightPath(members, x).gradient_sums(torch.arange(len(x)), alphas, torch.ones(3))
        for k, alpha in enumerate(alphas):
            want = torch.stack([m.score(alpha * x) for m in members]).mean(0)
            torch.testing.assert_close(along[:, k], want, rtol=0, atol=1e-6)
        torch.testing.assert_close(MeanScore(members)(x), score.mean(0), rtol=0, atol=1e-7)


@pytest.mark.parametrize("preset,linear,head", OPTIONS)
def test_attribution_path_gradients_are_autograds(preset, linear, head):
    """The path's gradient of the mean score (written out, through the linear path too) equals autograd's through
    ``forward`` at points of the path, in float64 so that rounding is out of the way."""
    members = [copy.deepcopy(m).double() for m in networks(preset, linear, head, n=2)]
    x = inputs(5).double()
    for alpha in (0.3, 1.0):
        with torch.no_grad():
            path = _StraightPath(members, x)
            genes = torch.arange(len(x))
            _, sums = path.gradient_sums(genes, torch.tensor([alpha], dtype=torch.float64),
                                         torch.ones(1, dtype=torch.float64))
            ours = path.to_input(genes, sums)  # x * d mean-score / dx at alpha * x
        point = (alpha * x).requires_grad_()
        MeanScore(members)(point).sum().backward()
        theirs = x * point.grad
        torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-10 * float(theirs.abs().max()))


@pytest.mark.parametrize("linear,head", [(False, "class"), (True, "class"), (True, "level")])
def test_completeness_is_checked_against_the_real_forward_pass(linear, head):
    """Integrated gradients add up to f(x) - f(0) with both ends from the members' own forward pass."""
    members = networks("default", linear, head, n=2)
    x = inputs(20)
    res = integrated_gradients(members, x.numpy(), steps=16, max_steps=1024, tolerance=0.01)
    with torch.no_grad():
        np.testing.assert_array_equal(res.score, MeanScore(members)(x).double().numpy())
        assert np.all(res.reference == MeanScore(members)(torch.zeros(1, 5, 100)).double().item())
    assert res.completeness(0.01)["share_under_tolerance"] == 1.0, res.completeness(0.01)
    total = res.values.reshape(len(x), -1).sum(1, dtype=np.float64)
    np.testing.assert_allclose(total, res.score - res.reference, rtol=0.01, atol=1e-6)
