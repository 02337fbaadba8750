"""The CNN ensemble: seeds trained together behave as seeds trained alone; saving, loading, averaging."""

import numpy as np
import pytest
import torch

from conftest import FAST, synthetic_cell
from deepchrome.ensemble import (EnsembleCNN, SeedStack, build_member, fold_input_scaling, load_members,
                                 member_scores, predict, save_members)
from deepchrome.errors import DeepChromeError
from deepchrome.train import mark_scaling, resolve_params, train_cnn, transform


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
    save_members(res.states, tmp_path / "model.pt")
    members = load_members(tmp_path / "model.pt", params)
    assert len(members) == 3 and not any(m.training for m in members)
    each = np.stack([m(torch.from_numpy(transform(cell.X, "log1p")))[:, 1].exp().detach().double().numpy()
                     for m in members])
    np.testing.assert_allclose(each, res.member_scores, atol=1e-6)
    np.testing.assert_allclose(predict(members, cell.X, params), each.mean(axis=0), atol=1e-6)
    log_mean = EnsembleCNN(members)(torch.from_numpy(transform(cell.X, "log1p")))
    np.testing.assert_allclose(log_mean[:, 1].exp().detach().numpy(), each.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(log_mean.exp().sum(1).detach().numpy(), 1.0, atol=1e-6)


def test_model_file_is_byte_identical_for_identical_runs(cell, tmp_path):
    params = resolve_params("default", {**FAST, "epochs": 2})
    for name in ("a.pt", "b.pt"):
        save_members(train_cnn(cell, params, seeds=[0, 1], device="cpu", threads=1).states, tmp_path / name)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    states = torch.load(tmp_path / "a.pt", weights_only=True)
    assert sorted(states) == [0, 1] and "conv.weight" in states[0]


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


def test_saved_networks_of_another_architecture_are_one_clear_error(tmp_path):
    """A model.pt of the paper-sized network (the default before 2026-11-30) read with today's default settings."""
    paper = resolve_params("paper", None)
    torch.manual_seed(0)
    save_members({0: build_member(paper, 5, 100).state_dict()}, tmp_path / "model.pt")
    with pytest.raises(DeepChromeError, match="architecture") as err:
        load_members(tmp_path / "model.pt", resolve_params("default", None))
    assert str(tmp_path / "model.pt") in str(err.value) and "Fix:" in str(err.value)
    assert len(load_members(tmp_path / "model.pt", paper)) == 1
