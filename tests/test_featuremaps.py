import numpy as np
import pytest

from deepchrome.featuremaps import class_map
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
    m = class_map(DeepChromeCNN(n_marks=3, n_bins=40), target=1, n_marks=3, n_bins=40, steps=20)
    assert m.shape == (3, 40) and m.dtype == np.float32
    assert m.min() >= 0 and m.max() == pytest.approx(1.0)


def test_seeded_and_leaves_model_untouched(model):
    model.train()
    a = class_map(model, 1, 5, 100, steps=50, seed=4)
    assert model.training and all(p.requires_grad for p in model.parameters())
    assert np.array_equal(a, class_map(model, 1, 5, 100, steps=50, seed=4))


def test_on_map_shows_the_planted_h3k4me3_signal(model):
    on, off = (class_map(model, target, 5, 100, steps=300) for target in (1, 0))
    assert on[0, 40:60].mean() > off[0, 40:60].mean() + 0.1
