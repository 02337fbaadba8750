"""AttentiveChrome: shapes, the forward against a hand-written reference, training, repeatability, the level
head, the self-description and where its attention goes on the synthetic cell."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from deepchrome.attentive import (AttentiveChrome, attention_maps, attentive_schedule, build_network,
                                  members_from_states, network_description, train_attentive)
from deepchrome.errors import DeepChromeError
from deepchrome.spec import ATTENTIVE_PRESETS as PRESETS
from deepchrome.spec import network_params, resolve_attentive
from deepchrome.train import transform
from conftest import synthetic_cell


def resolve_params(preset: str, overrides: dict | None = None) -> dict:
    """The preset's parameters as the workflow gives them (the CNN default's log1p transform, the preset's seeds)."""
    return network_params("attentive", {"preset": "default", "params": {}, "seeds": None},
                          {"preset": preset, "params": overrides or {}})[1]

# Quick training on the synthetic cell: one seed, 12 epochs at the default lr (enough to leave the initial plateau),
# the epoch of lowest valid loss kept: the valid AUC is 1 from the first epoch on, before the network has learned.
QUICK = {"epochs": 12, "patience": None, "seeds": 1, "select": "loss"}


@pytest.fixture(scope="module")
def trained():
    """The synthetic cell and one network trained on it."""
    cell = synthetic_cell()
    params = resolve_params("default", QUICK)
    return cell, params, train_attentive(cell, params, seeds=[0], device="cpu", threads=1)


def test_shapes_and_attention_sums():
    torch.manual_seed(0)
    x = torch.rand(4, 5, 100)
    net = AttentiveChrome().eval()
    assert sum(p.numel() for p in net.parameters()) == 55_681
    out = net(x)
    assert out.shape == (4, 2)
    assert torch.allclose(out.exp().sum(1), torch.ones(4), atol=1e-6)
    alpha, beta = net.attention(x)
    assert alpha.shape == (4, 5, 100) and beta.shape == (4, 5)
    assert torch.allclose(alpha.sum(2), torch.ones(4, 5), atol=1e-6)
    assert torch.allclose(beta.sum(1), torch.ones(4), atol=1e-6)
    assert AttentiveChrome(n_marks=3, n_bins=20, head="level")(torch.rand(2, 3, 20)).shape == (2, 1)
    assert all(-0.1 <= float(p.detach().min()) and float(p.detach().max()) <= 0.1 for p in net.parameters())


def _lstm_reference(x: np.ndarray, lstm: torch.nn.LSTM) -> np.ndarray:
    """A bidirectional one-layer LSTM written out step by step in float64: ``x`` [batch, steps, inputs] ->
    [batch, steps, 2 * hidden] (forward states, then backward states)."""
    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    def run(seq, suffix):
        w_ih, w_hh = (getattr(lstm, f"{k}_l0{suffix}").detach().double().numpy() for k in ("weight_ih", "weight_hh"))
        b = (getattr(lstm, f"bias_ih_l0{suffix}") + getattr(lstm, f"bias_hh_l0{suffix}")).detach().double().numpy()
        hidden = w_hh.shape[1]
        h, c, out = np.zeros((len(seq), hidden)), np.zeros((len(seq), hidden)), []
        for t in range(seq.shape[1]):
            gates = seq[:, t] @ w_ih.T + h @ w_hh.T + b
            i, f, g, o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))  # PyTorch's gate order
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            out.append(h)
        return np.stack(out, axis=1)

    return np.concatenate([run(x, ""), run(x[:, ::-1], "_reverse")[:, ::-1]], axis=2)


def _attend(states: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Soft attention: states [batch, steps, d], context [d] -> (pooled [batch, d], weights [batch, steps])."""
    score = states @ context
    w = np.exp(score - score.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    return (w[:, :, None] * states).sum(axis=1), w


def test_forward_equals_a_per_mark_reference():
    torch.manual_seed(3)
    net = AttentiveChrome(n_marks=3, n_bins=12).eval()
    x = torch.rand(4, 3, 12) * 3
    xd = x.double().numpy()
    vectors, alphas = [], []
    for m in range(3):  # mark by mark, as written in the paper
        states = _lstm_reference(xd[:, m, :, None], net.bin_lstms[m])
        v, a = _attend(states, net.bin_context[m].detach().double().numpy())
        vectors.append(v)
        alphas.append(a)
    gene, beta = _attend(_lstm_reference(np.stack(vectors, axis=1), net.mark_lstm),
                         net.mark_context.detach().double().numpy())
    z = gene @ net.output.weight.detach().double().numpy().T + net.output.bias.detach().double().numpy()
    expected = np.concatenate([-np.logaddexp(0, z), -np.logaddexp(0, -z)], axis=1)  # log P(OFF), log P(ON)
    with torch.no_grad():
        out = net(x).double().numpy()
        alpha, b = net.attention(x)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    np.testing.assert_allclose(alpha.numpy(), np.stack(alphas, axis=1), atol=1e-6)
    np.testing.assert_allclose(b.numpy(), beta, atol=1e-6)


def test_trains_on_the_synthetic_cell(trained):
    cell, _, result = trained
    test = cell.split == "test"
    assert roc_auc_score(cell.y[test], result.scores[test]) > 0.8
    assert result.member_scores.shape == (1, len(cell.y))
    h = result.history
    assert list(h["epoch"]) == list(range(1, 13)) and h["kept"].sum() == 1
    assert h["loss"].iloc[-1] < 0.5 * h["loss"].iloc[0]  # it learned, beyond the untrained network's ranking


def test_seeds_repeat_exactly_and_are_independent():
    cell = synthetic_cell(n_genes=100)
    params = resolve_params("default", {"epochs": 2, "patience": None})
    pair = train_attentive(cell, params, seeds=[0, 1], device="cpu", threads=1)
    alone = train_attentive(cell, params, seeds=[0], device="cpu", threads=1)
    assert pair.states[0].keys() == alone.states[0].keys()
    assert all(torch.equal(pair.states[0][k], alone.states[0][k]) for k in alone.states[0])
    assert np.array_equal(pair.member_scores[0], alone.member_scores[0])
    assert not torch.equal(pair.states[0]["output.weight"], pair.states[1]["output.weight"])
    np.testing.assert_allclose(pair.scores, pair.member_scores.mean(axis=0))


def test_level_head_trains():
    cell = synthetic_cell()
    rng = np.random.default_rng(0)
    cell.level = cell.X[:, 0, 40:60].mean(axis=1).astype(np.float64) / 4 + rng.normal(0, 0.1, len(cell.y))
    params = resolve_params("default", {"epochs": 10, "patience": None, "seeds": 1})
    result = train_attentive(cell, params, seeds=[0], device="cpu", threads=1, target="level")
    test = cell.split == "test"
    assert result.member_scores.shape == (1, len(cell.y))
    assert np.corrcoef(cell.level[test], result.scores[test])[0, 1] > 0.8
    assert "valid_r" in result.history and "level_output" in result.states[0]


def test_description_round_trips_the_weights(trained):
    cell, params, result = trained
    description = json.loads(json.dumps(network_description(params, 5, 100, "class")))
    assert description["family"] == "attentive"
    net = build_network(description)
    net.load_state_dict(result.states[0])
    assert all(torch.equal(net.state_dict()[k], v) for k, v in result.states[0].items())
    x = torch.from_numpy(transform(cell.X[:50], params["transform"]))
    with torch.no_grad():
        assert torch.equal(net.eval()(x), members_from_states(result.states, description)[0](x))
    with pytest.raises(DeepChromeError, match="family"):
        build_network({**description, "family": "cnn"})


def test_attention_finds_the_signal(trained):
    cell, params, result = trained
    members = members_from_states(result.states, network_description(params, 5, 100))
    alpha, beta = attention_maps(members, transform(cell.X, params["transform"]))
    np.testing.assert_allclose(alpha.sum(axis=2), 1, atol=1e-6)
    np.testing.assert_allclose(beta.sum(axis=1), 1, atol=1e-6)
    on = (cell.y == 1) & (cell.split == "test")
    assert beta[on].mean(axis=0).argmax() == 0  # the model looks at H3K4me3 (mark 0), the only informative mark
    # The joint weight of a (mark, bin) position: the signal's positions, mark 0 bins 41-60, against all others.
    joint = (beta[on][:, :, None] * alpha[on]).mean(axis=0)  # [marks, bins]
    inside = np.zeros(joint.shape, dtype=bool)
    inside[0, 40:60] = True
    assert joint[inside].mean() > 2 * joint[~inside].mean()


def test_presets_and_errors():
    assert PRESETS["paper"]["lr"] == 1e-4 and PRESETS["paper"]["batch_size"] == 10 and PRESETS["paper"]["clip"] == 1
    with pytest.raises(DeepChromeError, match="unknown attentive parameter"):
        resolve_attentive("default", {"n_filters": 3})
    with pytest.raises(DeepChromeError, match="preset"):
        resolve_attentive("fast")
    with pytest.raises(DeepChromeError, match="distinct"):
        train_attentive(synthetic_cell(n_genes=50), resolve_params("default"), seeds=[1, 1], device="cpu")


def test_schedule_of_small_and_paper_scale_cells():
    """Small cells train as set; a paper-scale cell (6,601 train genes) gets the CNN's minibatches with the lr per
    gene kept (lr_scale inverse), the CNN's patience in genes seen, and at most max_genes genes seen per seed."""
    default, paper = PRESETS["default"], PRESETS["paper"]
    small = attentive_schedule(default, 320)
    assert small == {"batch_size": 32, "lr": default["lr"], "patience": 15, "epochs": 30_000 // 320}
    large = attentive_schedule(default, 6601)
    assert large["batch_size"] == 104 and large["lr"] == pytest.approx(default["lr"] * 32 / 104)
    assert large["patience"] == 3 and large["epochs"] == 4
    assert attentive_schedule(paper, 6601) == {"batch_size": 10, "lr": 1e-4, "patience": None, "epochs": 90}
