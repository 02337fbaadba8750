"""Start-up checks of the workflow's configuration: unknown keys, command-line value types, schema.

Snakemake hands ``--config`` values over as strings (nested ones always: ``cnn={params: {epochs: 5}}``
gives ``'5'``); they are converted here by the types the schema gives each key, so a command-line
override means the same as the line in a config file. Every problem names the key (dotted path), where
it came from (the command line or a config file) and how to give it.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import jsonschema
import yaml

from .errors import DeepChromeError
from .spec import run_params

COMMAND_LINE = "the command line (--config)"
_NULL = {"", "null", "none", "~"}
_TRUE, _FALSE = {"true", "yes", "on"}, {"false", "no", "off"}
MOVED = {"cnn.params.seeds": "cnn.seeds"}
"""Keys with one home elsewhere: the key given -> the key that sets it."""


def _types(schema: dict) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _convert(text: str, kind: str) -> Any:
    """``text`` as a value of JSON-schema type ``kind``; raises ValueError when it is not one."""
    low = text.strip().lower()
    if kind == "null" and low in _NULL:
        return None
    if kind == "integer":
        return int(text)
    if kind == "number":
        return float(text)
    if kind == "boolean" and low in _TRUE | _FALSE:
        return low in _TRUE
    raise ValueError(text)


def coerce(value: Any, schema: dict) -> Any:
    """``value`` (as Snakemake parsed it from ``--config``) converted by ``schema``'s types, recursively.

    Strings become integers, numbers, booleans or null where the schema wants one of those (and no
    string); an array key takes a comma-separated string (``cells=E003,E123``) or a YAML list. A value
    that does not convert is returned unchanged, for the schema check to report.
    """
    kinds = _types(schema)
    if isinstance(value, str) and "string" not in kinds:
        if "array" in kinds:
            items = value.split(",") if not value.lstrip().startswith("[") else yaml.safe_load(value)
            return coerce(items, schema)
        for kind in kinds:
            try:
                return _convert(value, kind)
            except ValueError:
                continue
        return value
    if isinstance(value, list) and "items" in schema:
        return [coerce(v, schema["items"]) for v in value]
    if isinstance(value, dict):
        return {k: coerce(v, property_schema(schema, k)) for k, v in value.items()}
    return value


def property_schema(schema: dict, key: str) -> dict:
    """The schema of ``key`` inside an object ``schema`` (its properties, patterns or additionalProperties)."""
    if key in schema.get("properties", {}):
        return schema["properties"][key]
    for pattern, sub in schema.get("patternProperties", {}).items():
        if re.search(pattern, key):
            return sub
    extra = schema.get("additionalProperties", {})
    return extra if isinstance(extra, dict) else {}


def apply_overrides(config: dict, overrides: dict, schema: dict) -> None:
    """Convert, in place, the values of ``config`` that came from the command line (``overrides``)."""
    for key, given in overrides.items():
        if key not in config:
            continue
        sub = property_schema(schema, key)
        if isinstance(given, dict) and isinstance(config[key], dict):
            apply_overrides(config[key], given, sub)
        else:
            config[key] = coerce(config[key], sub)


def has_path(data: Any, path: list) -> bool:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True


def origin(path: list, overrides: dict, files: dict[str, dict]) -> str:
    """Where the key at ``path`` was set: the command line, the last config file that sets it, or the defaults."""
    if has_path(overrides, path[:1]) and (len(path) == 1 or has_path(overrides, path)):
        return COMMAND_LINE
    for name, data in reversed(list(files.items())):
        if has_path(data, path[:1]):
            return name
    return "the schema's defaults"


def command_line_form(path: list, value: str = "VALUE") -> str:
    """How to give the key at ``path`` on the command line: ``a=V``, ``a={b: V}``, ``a={b: {c: V}}``."""
    inner = value
    for key in reversed(path[1:]):
        inner = f"{{{key}: {inner}}}"
    return f'--config "{path[0]}={inner}"'


def unknown_keys(data: Any, schema: dict, path: list | None = None) -> list[tuple[list, list[str]]]:
    """(path, close valid keys) of each key that the schema does not allow, recursively."""
    path = path or []
    found: list[tuple[list, list[str]]] = []
    if not isinstance(data, dict) or "object" not in _types(schema) and "properties" not in schema:
        return found
    known = list(schema.get("properties", {}))
    for key, value in data.items():
        allowed = key in known or any(re.search(p, str(key)) for p in schema.get("patternProperties", {}))
        if not allowed and schema.get("additionalProperties", True) is False:
            found.append((path + [key], difflib.get_close_matches(str(key), known, n=2, cutoff=0.5)))
        else:
            found += unknown_keys(value, property_schema(schema, key), path + [key])
    return found


def check_config(config: dict, schema: dict, overrides: dict, files: dict[str, dict]) -> None:
    """Convert command-line values and check ``config`` against ``schema`` (defaults filled by the caller).

    ``overrides``: the ``--config`` values as Snakemake parsed them; ``files``: each config file's
    name -> its content. Raises DeepChromeError naming the key, where it came from and the fix.
    """
    for path, close in unknown_keys(config, schema):
        where = origin(path, overrides, files)
        dotted = ".".join(map(str, path))
        parent = property_schema_at(schema, path[:-1])
        valid = ", ".join(parent.get("properties", {}))
        if dotted in MOVED:
            raise DeepChromeError(where, f"{dotted}: this setting has one key, {MOVED[dotted]}",
                                  f"set {MOVED[dotted]} instead ({command_line_form(MOVED[dotted].split('.'))} on the "
                                  f"command line) and drop {dotted}")
        hint = f"did you mean {' or '.join(repr('.'.join(map(str, path[:-1] + [c]))) for c in close)}? " if close else ""
        raise DeepChromeError(where, f"unknown key {dotted!r}",
                              f"{hint}valid keys{' of ' + '.'.join(map(str, path[:-1])) if path[:-1] else ''}: {valid}")
    apply_overrides(config, overrides, schema)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(config))
    if error is None:
        return
    path = list(error.absolute_path)
    where = origin(path, overrides, files)
    dotted = ".".join(map(str, path)) or "the configuration"
    fix = "correct that entry (schemas/config.schema.yaml lists every key, its type and default)"
    if where == COMMAND_LINE and path:
        example = "{key: value}" if "object" in _types(property_schema_at(schema, path)) else "VALUE"
        fix = (f"give it on the command line as {command_line_form(path, example)} with a value of the right type "
               "(nested keys go in braces; a dotted name such as cnn.preset=paper is not accepted by Snakemake)")
    raise DeepChromeError(where, f"{dotted}: {error.message}", fix)


def check_target(target: str, processed: bool, where: str, genes=None) -> None:
    """``target: level`` needs expression values: the published processed files carry 0/1 labels only; and it has
    no explanation, so no genes to explain (``genes``, ``snakemake explain``).

    ``where``: where ``target`` (or ``processed``, ``genes``) was set. Raises DeepChromeError with the fix.
    """
    if target == "level" and genes:
        raise DeepChromeError(where, "`snakemake explain` (genes) explains the class model's P(ON), and target: level "
                              "has no explanation", "run `snakemake explain --config genes=...` with target: class")
    if target == "level" and processed:
        raise DeepChromeError(where, "target: level predicts log2(RPKM + 1), and the published processed files "
                              "(processed:) hold 0/1 labels only, no expression values",
                              "run the raw route instead: drop 'processed' and give the marks (sample_sheet), an "
                              "annotation, chrom_sizes and an expression table (RPKM per gene and cell), as in "
                              "config/config.yaml or config/remc.yaml; or keep target: class for the processed files")


def set_by(keys: list[str], overrides: dict, files: dict[str, dict]) -> str:
    """Where the config keys ``keys`` (dotted) were set: the command line, a config file or the defaults."""
    return ", ".join(dict.fromkeys(origin(k.split("."), overrides, files) for k in keys))


def check_run(config: dict, processed: bool, overrides: dict, files: dict[str, dict]) -> None:
    """The checks of a validated ``config`` (defaults filled) that the schema cannot express: windows of whole bins,
    one key per setting (``cnn.seeds``), the CNN's parameters, the target, and a CNN that fits the window.

    ``overrides``, ``files``: as for :func:`check_config`, to name where each key was set.
    """
    def where(*keys: str) -> str:
        return set_by(list(keys), overrides, files)

    flank, bin_size = config["windows"]["flank"], config["windows"]["bin_size"]
    if (2 * flank) % bin_size:
        raise DeepChromeError(where("windows.flank", "windows.bin_size"),
                              f"windows.flank {flank} and windows.bin_size {bin_size}: the window of 2 x flank = "
                              f"{2 * flank} bp is not a whole number of bins",
                              "choose windows.bin_size dividing 2 x windows.flank (e.g. flank 5000 with bin_size "
                              "100, 200, 250 or 500)")
    try:
        params = run_params(config["cnn"])
    except DeepChromeError as err:
        raise DeepChromeError(where("cnn.preset", "cnn.params"), f"cnn.params: {err.problem}", err.fix) from None
    check_target(config["target"], processed, where("target", "processed", "genes"), config.get("genes"))
    n_bins = 2 * flank // bin_size
    if not processed and (n_bins - params["kernel"] + 1) // params["pool"] < 1:
        raise DeepChromeError(where("windows.bin_size", "cnn.params"),
                              f"{n_bins} bins per window (windows.flank {flank}, windows.bin_size {bin_size}) are "
                              f"too few for the CNN's kernel {params['kernel']} and pool {params['pool']}",
                              "use smaller bins (windows.bin_size) or a smaller cnn.params.kernel / cnn.params.pool")


def property_schema_at(schema: dict, path: list) -> dict:
    """The schema of the key at ``path``."""
    for key in path:
        schema = property_schema(schema, key)
    return schema


def nest_dotted(args: list[str]) -> list[str]:
    """Command-line ``args`` with the ``--config`` entries gathered into one ``--config`` at the end and dotted
    ones nested: ``cnn.preset=paper cnn.seeds=3`` -> ``cnn={preset: paper, seeds: 3}`` (which Snakemake's
    parser accepts; it refuses dotted names, and a second ``--config`` would replace the first).

    Values stay text (the start-up checks convert them by the schema); other arguments keep their order.
    """
    out: list[str] = []
    entries: list[str] = []
    nested: dict[str, dict] = {}
    in_config = False
    for arg in args:
        if arg in ("--config", "-C"):
            in_config = True
        elif arg.startswith("-"):
            in_config = False
            out.append(arg)
        elif not in_config:
            out.append(arg)
        elif "." in arg.split("=", 1)[0] and "=" in arg:
            key, value = arg.split("=", 1)
            head, *rest = key.split(".")
            node = nested.setdefault(head, {})
            for part in rest[:-1]:
                node = node.setdefault(part, {})
            node[rest[-1]] = value
        else:
            entries.append(arg)

    def flow(node: dict) -> str:
        return "{" + ", ".join(f"{k}: {flow(v) if isinstance(v, dict) else v}" for k, v in node.items()) + "}"

    entries += [f"{head}={flow(node)}" for head, node in nested.items()]
    return out + (["--config", *entries] if entries else [])


if __name__ == "__main__":  # run.sh: print the arguments, NUL-separated, with dotted --config entries nested
    import sys

    sys.stdout.write("".join(a + "\0" for a in nest_dotted(sys.argv[1:])))
