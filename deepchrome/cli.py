"""``deepchrome``: a trained model for people who have a ``model.pt`` and features, without the workflow.

* ``deepchrome info MODEL``: the model's card, from the file alone (its description): architecture and weights,
  inputs, target, preset, the cell it was trained on, seeds, version, and the test AUC where the workflow's
  ``metrics.json`` lies beside it.
* ``deepchrome predict MODEL FEATURES OUT``: every gene of a workflow ``features.npz`` scored (``gene_id``,
  ``score``: the ensemble's P(ON), or the predicted log2(RPKM + 1) of a level model), written atomically; the
  scores are the workflow's own (``deepchrome.predict.score_features``, CPU, one thread by default, as its jobs).

A problem with an input (a damaged or earlier model file, features built otherwise than the model's) is one message
naming the file(s), what is wrong and the fix, exit status 2, no traceback and no output file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .errors import DeepChromeError

EXIT_INPUT = 2  # as argparse's usage errors: the command was given something it cannot use


def _metrics_beside(model: str | os.PathLike) -> dict:
    """The workflow's metrics.json in the model's folder, or {} where there is none."""
    path = os.path.join(os.path.dirname(os.path.abspath(model)), "metrics.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def card(model: str | os.PathLike) -> str:
    """The model's card: what ``deepchrome info`` prints (the description of the model file at ``model``)."""
    from .ensemble import load_model
    from .spec import model_long_name, target

    members, d = load_model(model)
    net, inputs, params = d["network"], d["inputs"], d["params"]
    weights = sum(p.numel() for p in members[0].parameters())
    window_kb = inputs["bins"] * inputs["bin_size"] / 1000
    rows = [
        ("model", f"{d['model']} ({model_long_name(d['model'])}), an ensemble of {len(members)} network(s); "
                  f"its score is their mean"),
        ("network", f"{net['family']}: {net['n_filters']} filters of width {net['kernel']} over {net['n_marks']} "
                    f"marks x {net['n_bins']} bins, max-pool {net['pool']}, hidden layers {net['hidden']}, "
                    f"dropout {net['dropout']}, linear path {'yes' if net['linear'] else 'no'}, head {net['head']}; "
                    f"{weights:,} weights per network"),
        ("inputs", f"marks {', '.join(inputs['marks'])}; {inputs['bins']} bins of {inputs['bin_size']} bp "
                   f"({window_kb:g} kb around the TSS), bin order {inputs['bin_order']}, input {inputs['input']}, "
                   f"transform {inputs['transform']}"),
        ("target", f"{d['target']}: {target(d['target']).output}"),
        ("preset", f"{d['preset']} ({params['optimizer']}, lr {params['lr']:g}, batch {params['batch_size']}, "
                   f"up to {params['epochs']} epochs, selection by {params['select']})"),
        ("cell", d["cell"] + ("" if d["cells"] == [d["cell"]] else f" (trained on {', '.join(d['cells'])})")),
        ("seeds", " ".join(str(s) for s in d["seeds"])),
        ("version", f"deepchrome {d['version']}"),
    ]
    metrics = _metrics_beside(model)
    for key, label in (("test_auc", "test AUC"), ("test_r", "test Pearson r")):
        if metrics.get(key) is not None:
            rows.append((label, f"{metrics[key]:.4f} (metrics.json beside the model)"))
    width = max(len(k) for k, _ in rows)
    return f"{model}\n" + "".join(f"  {k:<{width}}  {v}\n" for k, v in rows)


def _features_readable(path: str | os.PathLike) -> None:
    """Raise a DeepChromeError unless ``path`` is a features file that describes itself."""
    from .dataset import feature_description

    fix = "give a features.npz written by the workflow (results/<cell>/features.npz)"
    if not os.path.exists(path):
        raise DeepChromeError(path, "the features file does not exist", fix)
    try:
        feature_description(path)
    except DeepChromeError:
        raise
    except Exception as err:  # not an npz, or one without X/marks: numpy's and zipfile's errors differ by cause
        raise DeepChromeError(path, f"cannot be read as a features file ({type(err).__name__}: {err})", fix) from None


def _info(args: argparse.Namespace) -> None:
    print(card(args.model), end="")


def _predict(args: argparse.Namespace) -> None:
    import torch

    from .io import write_tsv
    from .predict import score_features

    torch.set_num_threads(args.threads)
    _features_readable(args.features)
    table, description = score_features(args.model, args.features, args.device)
    write_tsv(table, args.out)
    what = "P(ON)" if description["target"] == "class" else "predicted log2(RPKM + 1)"
    print(f"{len(table)} genes scored ({what}) with {args.model}: {args.out}", file=sys.stderr)


def parser() -> argparse.ArgumentParser:
    """The command line: ``deepchrome info`` and ``deepchrome predict``."""
    top = argparse.ArgumentParser(prog="deepchrome", description="Use a trained DeepChrome model: its card, or "
                                  "scores for every gene of a features file.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    info = commands.add_parser("info", help="print the model's card",
                               description="Print the model's card: architecture and weights, inputs (marks, bins, "
                               "bin size, order, input kind, transform), target, preset, cell, seeds, version, and "
                               "the test AUC where a metrics.json lies beside the model.")
    info.add_argument("model", metavar="MODEL", help="a model.pt written by the workflow")
    info.set_defaults(run=_info)
    predict = commands.add_parser("predict", help="score every gene of a features file",
                                  description="Score every gene of a workflow features.npz with the model and write "
                                  "OUT (tab-separated: gene_id, score; score is P(ON), or the predicted "
                                  "log2(RPKM + 1) of a level model). The features must be built as the model's were "
                                  "(marks in its order, bins, bin size, bin order, input kind: see `deepchrome "
                                  "info`).")
    predict.add_argument("model", metavar="MODEL", help="a model.pt written by the workflow")
    predict.add_argument("features", metavar="FEATURES", help="a features.npz written by the workflow")
    predict.add_argument("out", metavar="OUT", help="the scores to write (TSV)")
    predict.add_argument("--device", default="cpu",
                         help="cpu (default), auto (a GPU where there is one), cuda or cuda:N")
    predict.add_argument("--threads", type=int, default=1,
                         help="CPU threads (default 1, as the workflow's jobs: the same scores to the last bit)")
    predict.set_defaults(run=_predict)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the command line; 0 on success, 2 for an input it cannot use (message on stderr, no traceback)."""
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except DeepChromeError as err:
        print(f"deepchrome {args.command}: error: {err}", file=sys.stderr)
        return EXIT_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
