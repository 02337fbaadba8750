"""The CNN ensemble: seeds trained together behave as seeds trained alone; saving, loading, averaging."""

import numpy as np
import pytest
import torch

from conftest import FAST, synthetic_cell
from deepchrome.ensemble import (EnsembleCNN, SeedStack, build_member, fold_input_scaling, load_model, member_scores,
                                 predict, save_model)
from deepchrome.errors import DeepChromeError
from deepchrome.train import mark_scaling, model_description, resolve_params, train_cnn, transform


@pytest.fixture(scope="module")
def cell():
    return synthetic_cell(n_genes=200, seed=4)


def test_a_seed_in_the_stack_trains_as_it_would_alone(cell):
    """Without dropout (the one draw the seeds share) seed 2 learns the same weights in a stack of three."""
    params = resolve_params("default", {**FAST, "epochs": 3, "dropout": 0.0})
    alone = train_cnn(cell, params, seeds=[2], device="cpu", threads=1)
    stacked = train_cnn(cell, params, seeds=[1, 2, 3], device="cpu", threads=1)
    np.testing.assert_allclose(stacked.member_scores[1], alone.member_scores[0], atol=1e-5)
    assert stacked.best_epoch[2] == alone.best_epoch[2]
    assert not np.allclose(stacked.member_scores[0], stacked.member_scores[1])  # own init and shuffling


@pytest.mark.parametrize("linear", [False, True])
def test_stack_forward_equals_members(cell, linear):
    torch.manual_seed(0)
    params = resolve_params("default", {"linear": linear})
    members = [build_member(params, 5, 100).eval() for _ in range(3)]
    stack = SeedStack(members).eval()
    x = torch.from_numpy(transform(cell.X[:7], "log1p"))
    out = stack(x.unsqueeze(0).expand(3, *x.shape))
    for s, m in enumerate(members):
        torch.testing.assert_close(out[s], m(x))
        assert list(stack.member_state(s)) == list(m.state_dict())
        for k, v in stack.member_state(s).items():
            torch.testing.assert_close(v, m.state_dict()[k])


def test_ensemble_is_the_mean_of_the_seeds_p_on(cell, tmp_path):
    """Trained with per-mark scaling: the saved members take the unscaled input (scaling folded in)."""
    params = resolve_params("default", {**FAST, "epochs": 2, "scale": "mark"})
    res = train_cnn(cell, params, seeds=[0, 1, 2], device="cpu", threads=1)
    np.testing.assert_array_equal(res.scores, res.member_scores.mean(axis=0))
    save_model(tmp_path / "model.pt", res.states, model_description(cell, "default", params, [0, 1, 2], "class", "c"))
    members, description = load_model(tmp_path / "model.pt")
    assert description["seeds"] == [0, 1, 2] and description["params"]["scale"] == "mark"
    assert len(members) == 3 and not any(m.training for m in members)
    each = np.stack([m(torch.from_numpy(transform(cell.X, "log1p")))[:, 1].exp().detach().double().numpy()
                     for m in members])
    np.testing.assert_allclose(each, res.member_scores, atol=1e-6)
    np.testing.assert_allclose(predict(members, cell.X, "log1p"), each.mean(axis=0), atol=1e-6)
    log_mean = EnsembleCNN(members)(torch.from_numpy(transform(cell.X, "log1p")))
    np.testing.assert_allclose(log_mean[:, 1].exp().detach().numpy(), each.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(log_mean.exp().sum(1).detach().numpy(), 1.0, atol=1e-6)


def test_model_file_is_byte_identical_for_identical_runs(cell, tmp_path):
    params = resolve_params("default", {**FAST, "epochs": 2})
    description = model_description(cell, "default", params, [0, 1], "class", "c")
    for name in ("a.pt", "b.pt"):
        save_model(tmp_path / name, train_cnn(cell, params, seeds=[0, 1], device="cpu", threads=1).states, description)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    states = torch.load(tmp_path / "a.pt", weights_only=True)  # plain torch reads it, description included
    assert sorted(states, key=str) == [0, 1, "description"] and "conv.weight" in states[0]
    assert states["description"] == description


@pytest.mark.parametrize("linear", [False, True])
def test_folded_scaling_is_exact(cell, linear):
    params = resolve_params("default", {"linear": linear})
    torch.manual_seed(0)
    member = build_member(params, 5, 100).eval()
    Xt = transform(cell.X, "log1p")
    mean, std = mark_scaling(Xt, np.arange(len(Xt)))
    scaled = ((Xt - mean[None, :, None]) / std[None, :, None]).astype(np.float32)
    folded = build_member(params, 5, 100).eval()
    folded.load_state_dict(fold_input_scaling(member.state_dict(), mean, std))
    np.testing.assert_allclose(member_scores([folded], Xt), member_scores([member], scaled), atol=1e-5)


def test_a_model_of_another_preset_loads_from_its_file_alone(cell, tmp_path):
    """A model.pt of the paper-sized network loads and scores with no settings at all: its description says what
    to build (no preset, no overrides)."""
    paper = resolve_params("paper", {"linear": True})
    torch.manual_seed(0)
    net = build_member(paper, 5, 100).eval()
    save_model(tmp_path / "model.pt", {7: net.state_dict()}, model_description(cell, "paper", paper, [7], "class", "c"))
    (member,), description = load_model(tmp_path / "model.pt")
    assert description["preset"] == "paper" and description["network"]["n_filters"] == 50
    assert description["network"]["linear"] is True and description["inputs"]["transform"] == "none"
    np.testing.assert_array_equal(predict([member], cell.X, "none"), member_scores([net], cell.X)[0])


def test_damaged_or_earlier_model_files_are_one_clear_error(cell, tmp_path):
    """A truncated model.pt, one without a description (written by an earlier version), weights that do not fit the
    described network, a missing file and an unknown network family: each one DeepChromeError naming the file, what
    is wrong and how to fix it."""
    params = resolve_params("default", None)
    torch.manual_seed(0)
    state = build_member(params, 5, 100).state_dict()
    good = tmp_path / "model.pt"
    save_model(good, {0: state}, model_description(cell, "default", params, [0], "class", "c"))
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[:len(good.read_bytes()) // 2])
    old = tmp_path / "old.pt"
    torch.save({0: state}, old)
    other = tmp_path / "other.pt"
    save_model(other, {0: state}, model_description(cell, "paper", resolve_params("paper"), [0], "class", "c"))
    alien = tmp_path / "alien.pt"
    described = model_description(cell, "default", params, [0], "class", "c")
    save_model(alien, {0: state}, {**described, "network": {**described["network"], "family": "alien"}})
    for path, problem in ((cut, "truncated"), (old, "earlier version"), (other, "do not fit"),
                          (tmp_path / "missing.pt", "does not exist"), (alien, "unknown network family 'alien'")):
        with pytest.raises(DeepChromeError, match=problem) as err:
            load_model(path)
        assert str(path) in str(err.value) and "Fix:" in str(err.value)
