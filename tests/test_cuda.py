"""The package's CUDA path: the device chosen and recorded, training, the stacked network, feature maps, attributions
and scoring on a GPU agree with the CPU, and training repeats on the GPU; AttentiveChrome's training, attention and
scoring too. Everything is float32 on both devices.

These tests run only where torch finds a CUDA device; elsewhere (CI) they are skipped with the reason. Each one
computes on ``DEVICE`` ("cuda") and compares with the CPU, with the tolerance stated in the test. Small cells and
networks (300 genes, 8 filters, hidden [16], 6 epochs): seconds on a GPU. On the GPU machine (no Snakemake needed)::

    PYTHONPATH=$PWD python3 -m pytest -q -rA -s tests/test_cuda.py

``-s`` shows the measured differences and whether two GPU trainings were bit-identical (``bit-identical:``).

Development only: ``DEEPCHROME_TEST_DEVICE=cpu`` sets ``DEVICE = "cpu"``, so that on a machine without a GPU every
line of these tests runs (a dry run of their logic: the "GPU" side is then the CPU and the recorded name "cpu").
Unset, ``DEVICE`` is "cuda" and the file skips without CUDA.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import synthetic_cell

from deepchrome.attribution import integrated_gradients
from deepchrome.dataset import save_features
from deepchrome.ensemble import SeedStack, build_member, full_float32, load_model, predict
from deepchrome.evaluate import metrics
from deepchrome.featuremaps import class_maps
from deepchrome.predict import predict_cell
from deepchrome.train import resolve_params, seed_list, select_device, train_and_save, train_cnn, transform

DEVICE = os.environ.get("DEEPCHROME_TEST_DEVICE", "cuda")
if DEVICE not in ("cuda", "cpu"):
    raise ValueError(f"DEEPCHROME_TEST_DEVICE={DEVICE!r}: use cpu (a dry run without a GPU), or leave it unset")
pytestmark = pytest.mark.skipif(DEVICE == "cuda" and not torch.cuda.is_available(),
                                reason="no CUDA device: these tests check the GPU path and need torch to find a GPU "
                                       f"(torch {torch.__version__}, torch.cuda.is_available() is False)")
# train_cnn sets this before a workflow job's first GPU operation; in this session other tests may run cuBLAS first.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

SMALL = {"n_filters": 8, "hidden": [16], "epochs": 6, "patience": None, "seeds": 3}  # default preset otherwise
CNN = {"preset": "default", "params": {k: v for k, v in SMALL.items() if k != "seeds"}, "seeds": SMALL["seeds"]}
"""The same as the config's cnn block (what train_and_save takes)."""
FIRST_SEED = 3
AUTO = "auto" if DEVICE == "cuda" else "cpu"  # the device the workflow's runs ask for: "auto" (the CPU in a dry run)


def recorded_name() -> str:
    """What a run on ``DEVICE`` records as its device: ``cuda:0 (<GPU name>)``, or ``cpu`` in a dry run."""
    return f"cuda:0 ({torch.cuda.get_device_name(0)})" if DEVICE == "cuda" else "cpu"


def model_files(folder) -> dict:
    """The files train_and_save writes, in ``folder``."""
    return {"model": folder / "model.pt", "history": folder / "history.tsv", "metrics": folder / "metrics.json"}


def auc_on_test(cell, scores: np.ndarray) -> float:
    """ROC AUC of ``scores`` ``[genes]`` on the cell's test genes."""
    test = cell.split == "test"
    return metrics(cell.y[test], scores[test])["auc"]


@pytest.fixture(scope="module")
def cell():
    return synthetic_cell(300)


@pytest.fixture(scope="module")
def device_run(cell, tmp_path_factory):
    """The small default ensemble trained and saved by the workflow's path with ``device="auto"`` (the GPU)."""
    out = tmp_path_factory.mktemp("device_run")
    paths = model_files(out)
    result = train_and_save(cell, CNN, FIRST_SEED, AUTO, None, "class", "c", **paths)
    return result, paths


def test_auto_picks_the_gpu_and_runs_record_it(device_run):
    assert select_device("auto") == (torch.device("cuda:0" if torch.cuda.is_available() else "cpu"), None)
    result, paths = device_run
    print(f"device recorded: {result.device!r}")
    assert result.device == recorded_name() and result.warning is None
    saved = json.loads(paths["metrics"].read_text())
    assert saved["device"] == recorded_name() and saved["device_warning"] is None
    if DEVICE == "cuda":  # training computes in full float32: no TF32 in cuDNN's convolutions
        assert torch.backends.cudnn.allow_tf32 is False


def test_training_on_the_gpu_matches_the_cpu(cell):
    """Dropout off: its masks come from each device's own random generator (the CPU's and the GPU's differ), so
    with it the two runs would be different draws. Without it the only difference is float32 rounding: P(ON) of
    every member within 1e-4 (perturbing the input by 1e-6 moves them by < 2e-7 on the CPU), test AUC within 0.01."""
    params = resolve_params("default", {**SMALL, "dropout": 0.0})
    seeds = seed_list(params, FIRST_SEED)
    on_cpu = train_cnn(cell, params, seeds, device="cpu")
    on_device = train_cnn(cell, params, seeds, device=DEVICE)
    assert on_device.device == recorded_name()
    diff = np.abs(on_device.member_scores - on_cpu.member_scores).max()
    auc_cpu, auc_device = auc_on_test(cell, on_cpu.scores), auc_on_test(cell, on_device.scores)
    print(f"CPU vs {DEVICE} training: member P(ON) max |diff| {diff:.3g}, test AUC {auc_cpu:.4f} vs {auc_device:.4f}, "
          f"best epochs {on_cpu.best_epoch} vs {on_device.best_epoch}")
    assert on_device.member_scores.shape == on_cpu.member_scores.shape == (len(seeds), len(cell.y))
    assert abs(auc_device - auc_cpu) <= 0.01 and auc_device > 0.9  # and it learned
    assert diff <= 1e-4


def test_training_repeats_on_the_gpu(cell, device_run):
    """Same seeds twice on the GPU (dropout on, its masks reseeded): scores within 1e-6; bit-identity is printed."""
    first, _ = device_run
    params = resolve_params("default", SMALL)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = train_cnn(cell, params, seed_list(params, FIRST_SEED), device=AUTO)
    nondeterministic = sorted({str(w.message).split("\n")[0] for w in caught if "determinis" in str(w.message)})
    identical = np.array_equal(again.member_scores, first.member_scores) and again.history.equals(first.history)
    print(f"{DEVICE} training twice with the same seeds: bit-identical: {identical} (scores and history; scores max "
          f"|diff| {np.abs(again.member_scores - first.member_scores).max():.3g}, best epochs {first.best_epoch} vs "
          f"{again.best_epoch}); warnings about determinism: {nondeterministic or 'none'}")
    assert np.allclose(again.member_scores, first.member_scores, rtol=0, atol=1e-6)


@pytest.mark.parametrize("head,linear", [("class", False), ("level", False), ("class", True), ("level", True)])
def test_seed_stack_on_the_gpu_equals_the_cpu(head, linear):
    """The stacked network (training's forward and backward pass) at the default architecture, random float32
    inputs: outputs within 1e-5 relative (of the largest output), gradients within 1e-4 of the largest gradient;
    also with a subset of members (``which``: stopped seeds). In float64 on the CPU the float32 outputs are within
    5e-7 of the largest, the gradients within 4e-7 of theirs: the tolerances leave 20x for the GPU's own rounding."""
    full_float32(DEVICE)  # as train_cnn sets before its SeedStack runs
    params = resolve_params("default", {"linear": linear})
    members = []
    for seed in range(3):
        torch.manual_seed(seed)
        members.append(build_member(params, 5, 100, head=head))
    on_cpu = SeedStack(members).eval()
    on_device = copy.deepcopy(on_cpu).to(DEVICE)
    x = torch.log1p(torch.poisson(torch.full((3, 64, 5, 100), 2.0), generator=torch.Generator().manual_seed(0)))
    for which in (None, torch.tensor([0, 2])):
        xs = x if which is None else x[: len(which)]
        out_cpu = on_cpu(xs, which)
        out_device = on_device(xs.to(DEVICE), None if which is None else which.to(DEVICE))
        assert out_device.device.type == DEVICE and out_device.dtype == torch.float32
        scale = out_cpu.abs().max().item()
        np.testing.assert_allclose(out_device.detach().cpu().numpy(), out_cpu.detach().numpy(), rtol=1e-5,
                                   atol=1e-5 * scale)
        on_cpu.zero_grad()
        on_device.zero_grad()
        out_cpu.square().sum().backward()
        out_device.square().sum().backward()
        worst = 0.0
        for (name, p_cpu), p_device in zip(on_cpu.named_parameters(), on_device.parameters()):
            g_cpu, g_device = p_cpu.grad.numpy(), p_device.grad.cpu().numpy()
            assert p_device.grad.device.type == DEVICE, name
            gap = np.abs(g_device - g_cpu).max() / max(np.abs(g_cpu).max(), 1e-30)
            worst = max(worst, gap)
            assert gap <= 1e-4, (name, gap)
        print(f"SeedStack {head}, linear {linear}, members {'all' if which is None else which.tolist()}: outputs max "
              f"|diff| {(out_device.detach().cpu() - out_cpu.detach()).abs().max().item():.3g} (largest {scale:.3g}), "
              f"gradients max relative diff {worst:.3g}")


def test_feature_maps_with_members_on_the_gpu(device_run):
    """Class maps by input optimisation with the members on the GPU: finite, in [0, 1], the CPU's shape; 100
    RMSprop steps from the same starts: each start's map correlates with the CPU's at r > 0.999 and differs by at
    most 1e-3 (maps are scaled to maximum 1). Few steps, as long runs amplify rounding: on the CPU, weights
    perturbed by 1e-6 (relative) move the maps by 2e-6 after 100 or 200 steps, but one start's ON map to r = 0.44
    after 1,000."""
    result, paths = device_run
    members, _ = load_model(paths["model"])
    on_device = [copy.deepcopy(m).to(DEVICE) for m in members]
    for target in (1, 0):
        maps_cpu = class_maps(members, target, 5, 100, starts=4, steps=100, seed=0)
        maps_device = class_maps(on_device, target, 5, 100, starts=4, steps=100, seed=0)
        assert maps_device.shape == maps_cpu.shape == (4, 5, 100)
        assert np.isfinite(maps_device).all() and maps_device.min() >= 0 and maps_device.max() <= 1
        r = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(maps_device, maps_cpu)]
        diff = np.abs(maps_device - maps_cpu).max()
        print(f"feature maps, target {target}: CPU vs {DEVICE} r per start {np.round(r, 6).tolist()}, max |diff| "
              f"{diff:.3g}")
        assert min(r) > 0.999 and diff <= 1e-3
    assert all(p.device.type == DEVICE for m in on_device for p in m.parameters())  # the members stay where they were


def test_attributions_of_a_model_trained_on_the_gpu(device_run, cell):
    """Integrated gradients compute on the CPU by design (no device argument): a model trained on the GPU is saved
    with CPU weights, and its attributions are complete, their f(x) the GPU's P(ON) within 1e-5. Scoring on the GPU
    first leaves the caller's members on the CPU, so attributions can follow it."""
    result, paths = device_run
    assert all(t.device.type == "cpu" for state in result.states.values() for t in state.values())
    params = resolve_params("default", SMALL)
    members, _ = load_model(paths["model"])
    test = np.flatnonzero(cell.split == "test")
    p_device = predict(members, cell.X[test], params["transform"], device=DEVICE)
    assert all(p.device.type == "cpu" for m in members for p in m.parameters())
    ig = integrated_gradients(members, transform(cell.X[test], params["transform"]))
    assert ig.values.shape == (len(test), 5, 100) and np.isfinite(ig.values).all()
    assert ig.completeness(0.01)["share_under_tolerance"] >= 0.99
    print(f"integrated gradients of the {DEVICE}-trained model: f(x) vs {DEVICE} P(ON) max |diff| "
          f"{np.abs(ig.score - p_device).max():.3g}, completeness {ig.completeness(0.01)}")
    np.testing.assert_allclose(ig.score, p_device, rtol=1e-5, atol=1e-5)


def test_scoring_on_the_gpu_and_a_gpu_model_on_the_cpu(device_run, cell, tmp_path):
    """``ensemble.predict`` on the GPU equals the CPU within 1e-5; model.pt of a GPU run holds CPU tensors only
    (loads without map_location), and the CPU-only scoring path (predict_cell, device cpu) gives the training run's
    GPU scores within 1e-5; predict_cell with device auto (the GPU) gives the same."""
    result, paths = device_run
    raw = torch.load(paths["model"], weights_only=True)  # no map_location: would fail on a CPU-only machine
    assert all(t.device.type == "cpu" for seed, state in raw.items() if seed != "description" for t in state.values())
    members, description = load_model(paths["model"])
    kind = description["inputs"]["transform"]
    on_device, on_cpu = predict(members, cell.X, kind, device=DEVICE), predict(members, cell.X, kind, device="cpu")
    print(f"ensemble.predict CPU vs {DEVICE}: max |diff| {np.abs(on_device - on_cpu).max():.3g}; vs training's "
          f"scores {np.abs(on_cpu - result.scores).max():.3g}")
    np.testing.assert_allclose(on_device, on_cpu, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(on_cpu, result.scores, rtol=1e-5, atol=1e-5)
    features = tmp_path / "features.npz"
    save_features(features, cell.X, cell.gene_id, cell.marks, cell.bins)
    for device in ("cpu", "auto"):
        table = predict_cell(paths["model"], features, tmp_path / f"{device}.tsv", device=device)
        assert table["gene_id"].tolist() == cell.gene_id.tolist()
        np.testing.assert_allclose(table["score"].to_numpy(), result.scores, rtol=1e-5, atol=1e-5)


def test_level_target_trains_on_the_gpu(cell, tmp_path):
    """``target="level"`` (the regression head, MSE) on the GPU: the device recorded in the result and metrics.json,
    a learned level (test r > 0.5), the GPU's predictions as the CPU scores them from model.pt (within 1e-5)."""
    signal = np.log1p(cell.X[:, 0, 40:60].sum(axis=1)).astype(np.float64)  # promoter H3K4me3, higher for ON genes
    leveled = replace(cell, level=np.clip(signal - 2.5, 0, None))
    paths = model_files(tmp_path)
    result = train_and_save(leveled, {**CNN, "params": {**CNN["params"], "lr": 1e-3}}, FIRST_SEED, AUTO, None, "level",
                            "c", **paths)
    saved = json.loads(paths["metrics"].read_text())
    print(f"level target on {result.device!r}: test r {saved['test_r']:.3f}, valid r per seed {result.valid_auc}")
    assert result.device == saved["device"] == recorded_name() and saved["target"] == "level"
    assert list(result.history.columns) == ["epoch", "loss", "valid_r", "valid_loss", "seed", "kept"]
    assert np.isfinite(result.member_scores).all() and saved["test_r"] > 0.5
    members, description = load_model(paths["model"])
    assert all(m.head == "level" for m in members) and description["target"] == "level"
    np.testing.assert_allclose(predict(members, cell.X, "log1p", device="cpu"), result.scores, rtol=1e-5, atol=1e-5)


ATTENTIVE = {"preset": "default", "params": {"bin_hidden": 8, "mark_hidden": 4, "epochs": 4, "patience": None,
                                             "dropout": 0.0}}
"""A small AttentiveChrome (the config's attentive block), dropout off so that the two devices draw no masks."""


def test_attentive_on_the_gpu_matches_the_cpu(cell, tmp_path):
    """AttentiveChrome through the workflow's path (train_and_save, network attentive) with device auto (the GPU)
    and on the CPU: the device recorded; member P(ON) within 1e-3 and test AUC within 0.01 (the LSTMs' float32
    rounding differs between cuDNN and the CPU); the GPU model's attention, computed on the GPU, equals the CPU's
    within 1e-5, and the CPU-only scoring path gives the GPU run's scores within 1e-5."""
    from deepchrome.attentive import attention_maps

    runs = []
    for folder, device in (("device", AUTO), ("cpu", "cpu")):
        (tmp_path / folder).mkdir()
        paths = model_files(tmp_path / folder)
        runs.append((train_and_save(cell, CNN, FIRST_SEED, device, None, "class", "c", **paths, network="attentive",
                                    attentive=ATTENTIVE), paths))
    (on_device, paths), (on_cpu, _) = runs
    saved = json.loads(paths["metrics"].read_text())
    assert on_device.device == saved["device"] == recorded_name() and saved["device_warning"] is None
    diff = np.abs(on_device.member_scores - on_cpu.member_scores).max()
    auc_cpu, auc_device = auc_on_test(cell, on_cpu.scores), auc_on_test(cell, on_device.scores)
    print(f"AttentiveChrome CPU vs {DEVICE}: member P(ON) max |diff| {diff:.3g}, test AUC {auc_cpu:.4f} vs "
          f"{auc_device:.4f}, best epochs {on_cpu.best_epoch} vs {on_device.best_epoch}")
    assert abs(auc_device - auc_cpu) <= 0.01 and auc_device > 0.8 and diff <= 1e-3

    members, description = load_model(paths["model"])
    assert description["network"]["family"] == "attentive"
    x = transform(cell.X, description["inputs"]["transform"])
    bins_device, marks_device = attention_maps(members, x, device=DEVICE)
    bins_cpu, marks_cpu = attention_maps(members, x, device="cpu")
    assert all(p.device.type == "cpu" for m in members for p in m.parameters())  # scored on copies
    np.testing.assert_allclose(bins_device, bins_cpu, rtol=0, atol=1e-5)
    np.testing.assert_allclose(marks_device, marks_cpu, rtol=0, atol=1e-5)
    features = tmp_path / "features.npz"
    save_features(features, cell.X, cell.gene_id, cell.marks, cell.bins)
    table = predict_cell(paths["model"], features, tmp_path / "scores.tsv", device="cpu")
    np.testing.assert_allclose(table["score"].to_numpy(), on_device.scores, rtol=1e-5, atol=1e-5)
