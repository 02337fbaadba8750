import numpy as np
import pytest

from deepchrome.featuremaps import class_maps, reported_map, stability
from deepchrome.model import DeepChromeCNN
from deepchrome.ensemble import build_member
from deepchrome.train import resolve_params, train_cnn
from conftest import FAST, synthetic_cell


@pytest.fixture(scope="module")
def model():
    cell = synthetic_cell(seed=2)
    params = resolve_params("default", FAST)
    res = train_cnn(cell, params, seeds=[0], device="cpu", threads=1)
    net = build_member(params, 5, 100)
    net.load_state_dict(res.states[0])
    return net


def test_map_shape_and_range():
    m = class_maps([DeepChromeCNN(n_marks=3, n_bins=40)], target=1, n_marks=3, n_bins=40, starts=4, steps=20)
    assert m.shape == (4, 3, 40) and m.dtype == np.float32
    assert m.min() >= 0 and np.allclose(m.max(axis=(1, 2)), 1.0)
    for method in ("paper", "mean"):
        r = reported_map(m, method)
        assert r.shape == (3, 40) and r.max() == pytest.approx(1.0)


def test_seeded_and_leaves_model_untouched(model):
    model.train()
    a = class_maps([model], 1, 5, 100, starts=3, steps=50, seed=4)
    assert model.training and all(p.requires_grad for p in model.parameters())
    assert np.array_equal(a, class_maps([model], 1, 5, 100, starts=3, steps=50, seed=4))


def test_start_zero_is_the_papers_single_start(model):
    """The starts are optimised together but independently: start 0 equals the paper's one-start map."""
    single = class_maps([model], 0, 5, 100, starts=1, steps=100, seed=7)[0]
    batched = class_maps([model], 0, 5, 100, starts=6, steps=100, seed=7)
    assert np.allclose(batched[0], single, atol=1e-4)
    assert not np.allclose(batched[1], single, atol=1e-2)


def test_on_map_shows_the_planted_h3k4me3_signal_and_averaging_is_stable(model):
    on, off = (class_maps([model], target, 5, 100, starts=12, steps=300) for target in (1, 0))
    assert reported_map(on, "mean")[0, 40:60].mean() > reported_map(off, "mean")[0, 40:60].mean() + 0.1
    s = stability(on)
    assert s["starts"] == 12 and s["split_half_r"] > s["single_start_r"]
    assert np.isnan(stability(on[:1])["split_half_r"])
