"""Attributions (captum) of the CNN's P(ON): completeness, the ensemble's linearity, DeepLiftShap on the model,
class summaries; and the model change DeepLIFT needs (weights and parameter count unchanged)."""

import copy

import numpy as np
import pytest
import torch

from deepchrome.attribution import (MeanScore, _StraightPath, attribute, explain_test_genes, gradientshap,
                                    integrated_gradients, summarise)
from deepchrome.errors import DeepChromeError
from deepchrome.model import DeepChromeCNN
from deepchrome.ensemble import build_member, load_model, save_model
from deepchrome.train import model_description, resolve_params, train_cnn, transform
from conftest import FAST, synthetic_cell

PARAMS = resolve_params("default", FAST)


@pytest.fixture(scope="module")
def cell():
    return synthetic_cell(n_genes=400, seed=3)


@pytest.fixture(scope="module")
def members(cell):
    """Two networks trained with different seeds (an ensemble of two)."""
    res = train_cnn(cell, PARAMS, seeds=[0, 1], device="cpu", threads=1)
    nets = []
    for seed in (0, 1):
        net = build_member(PARAMS, 5, 100)
        net.load_state_dict(res.states[seed])
        nets.append(net.eval())
    return nets


def test_model_keeps_its_parameters_and_saved_weights_load(tmp_path):
    net = DeepChromeCNN()
    assert sum(p.numel() for p in net.parameters()) == 644_177
    # The activation modules hold no state: the saved weights are the same keys as before.
    assert set(net.state_dict()) == {"input_shape", "conv.weight", "conv.bias", "mlp.0.weight", "mlp.0.bias",
                                     "mlp.2.weight", "mlp.2.bias", "mlp.4.weight", "mlp.4.bias"}
    save_model(tmp_path / "m.pt", {0: net.state_dict()},
               model_description(synthetic_cell(10), "paper", resolve_params("paper"), [0], "class", "x"))
    (back,), _ = load_model(tmp_path / "m.pt")  # the paper-sized network, from the file alone
    x = torch.rand(4, 5, 100)
    assert torch.equal(back(x), net.eval()(x))
    assert torch.allclose(MeanScore([net])(x), net(x)[:, 1].exp(), atol=1e-6)


def test_integrated_gradients_complete_within_one_percent(cell, members):
    X = transform(cell.X[cell.split == "test"], "log1p")
    res = integrated_gradients(members, X, steps=16, max_steps=1024, tolerance=0.01)
    assert res.values.shape == X.shape and res.values.dtype == np.float32
    summary = res.completeness(0.01)
    assert summary["share_under_tolerance"] >= 0.99, summary
    # The reference is the model at the all-zero input, and the score its P(ON) at x.
    with torch.no_grad():
        model = MeanScore(members)
        assert res.reference[0] == pytest.approx(float(model(torch.zeros(1, 5, 100))[0]), abs=1e-6)
        assert np.allclose(res.score, model(torch.from_numpy(X)).numpy(), atol=1e-6)


def test_integrated_gradients_equal_captums(cell, members):
    """The workflow's own path integral (first layers folded, the members stacked, the head's backward written
    out) against captum's IntegratedGradients on the same model, in float64 so that float rounding is out of
    the way: the same gradients at captum's Gauss-Legendre points; and the trapezoid rule with per-gene step
    doubling equals captum's riemann_trapezoid at each gene's final steps after its two documented fixes."""
    from captum.attr import IntegratedGradients
    from captum.attr._utils.approximation_methods import approximation_parameters

    nets = [copy.deepcopy(m).double() for m in members]
    model = MeanScore(nets).eval()
    X = transform(cell.X[cell.split == "test"][:12], "log1p")
    x = torch.from_numpy(X).double()
    ig = IntegratedGradients(model)
    step_sizes, alphas = approximation_parameters("gausslegendre")
    with torch.no_grad():
        path = _StraightPath(nets, x)
        _, sums = path.gradient_sums(torch.arange(12), torch.tensor(alphas(16), dtype=torch.float64),
                                     torch.tensor(step_sizes(16), dtype=torch.float64))
        ours = path.to_input(torch.arange(12), sums)
    theirs = ig.attribute(x, baselines=0.0, n_steps=16, method="gausslegendre")
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-8 * float(theirs.abs().max()))

    def gradient(z):
        z = z.clone().requires_grad_()
        model(z).sum().backward()
        return z.grad

    res = integrated_gradients(nets, X, steps=4, max_steps=64, tolerance=1e-3)
    assert len(set(res.steps)) > 1  # genes stopped at different steps
    for i, n in enumerate(res.steps):
        # captum's trapezoid weights add up to n / (n + 1); at the zero input, where every max-pool window
        # ties, autograd picks the window's first position, the path's limit (alpha -> 0+) its maximum.
        theirs = ig.attribute(x[i:i + 1], baselines=0.0, n_steps=int(n) + 1, method="riemann_trapezoid") * (n + 1) / n
        theirs += x[i:i + 1] * (gradient(1e-12 * x[i:i + 1]) - gradient(0 * x[i:i + 1])) / (2 * n)
        assert np.allclose(res.values[i], theirs[0].numpy(), rtol=0, atol=1e-6 * np.abs(res.values).max())


def test_attribution_of_the_mean_is_the_mean_of_attributions(cell, members):
    X = transform(cell.X[:20], "log1p")
    both = integrated_gradients(members, X, steps=32, max_steps=32).values
    each = [integrated_gradients([m], X, steps=32, max_steps=32).values for m in members]
    assert np.allclose(both, (each[0] + each[1]) / 2, atol=1e-6)


def test_gradientshap_is_complete_in_expectation(cell, members):
    X = transform(cell.X[:30], "log1p")
    refs = transform(cell.X[100:120], "log1p")
    res = gradientshap(members, X, refs, samples=200, seed=0)
    assert res.values.shape == X.shape
    total, delta = res.values.reshape(30, -1).sum(1), res.score - res.reference
    # An unbiased estimate of f(x) - mean f(references): right on average over genes, close per gene.
    assert abs(np.mean(total - delta)) < 0.1 * np.mean(np.abs(delta))
    assert np.corrcoef(total, delta)[0, 1] > 0.9
    assert np.array_equal(res.values, gradientshap(members, X, refs, samples=200, seed=0).values)
    with pytest.raises(DeepChromeError, match="unknown attribution method"):
        attribute(members, X, "saliency")


def test_why_not_captums_deeplift():
    """captum 0.9's DeepLIFT rules break summation-to-delta for ReLU followed by MaxPool (this model's layers);
    should a captum release fix it, DeepLiftShap can replace GradientShap as the second method."""
    from captum.attr import DeepLift

    class ReluPool(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.relu, self.pool = torch.nn.ReLU(), torch.nn.MaxPool1d(5)

        def forward(self, x):
            return self.pool(self.relu(x)).sum((1, 2))

    gen = torch.Generator().manual_seed(0)
    x, base = torch.randn(2, 3, 90, generator=gen), torch.randn(1, 3, 90, generator=gen)
    _, delta = DeepLift(ReluPool().eval()).attribute(x, baselines=base, return_convergence_delta=True)
    assert delta.abs().max() > 1.0


def test_summaries_by_hand():
    values = np.zeros((4, 2, 3), dtype=np.float32)
    values[0, 0] = [1, 2, 3]  # ON, predicted ON
    values[1, 0] = [-3, 0, 0]  # ON, predicted ON
    values[2, 1] = [-6, 0, 0]  # OFF, predicted OFF
    values[3] = 100  # OFF, predicted ON: wrong, left out of both classes
    s = summarise(values, label=np.array([1, 1, 0, 0]), score=np.array([0.9, 0.6, 0.1, 0.7]))
    assert (s.n_on, s.n_off) == (2, 1)
    assert np.allclose(s.on, [[-1, 1, 1.5], [0, 0, 0]])
    assert np.allclose(s.off, [[0, 0, 0], [-6, 0, 0]])
    assert np.allclose(s.importance_on, [(1 + 2 + 3 + 3) / 6, 0])
    assert np.allclose(s.importance_off, [0, 2])


def test_planted_h3k4me3_drives_the_on_genes(cell, members):
    """The synthetic cell's ON genes carry extra H3K4me3 over bins 41-60: that is what must come out."""
    res, summary = explain_test_genes(members, cell, "log1p", "integrated_gradients", steps=16)
    on = res.values[cell.y[cell.split == "test"] == 1]
    assert on[:, 0, 40:60].mean() > 0
    assert np.argmax(np.abs(on).mean(axis=(0, 2))) == 0
    assert np.abs(on[:, 0, 40:60]).mean() > 3 * np.abs(on[:, 0, :30]).mean()
    assert summary.importance_all.shape == (5,) and np.argmax(summary.importance_all) == 0
