"""A suite's ``published:`` block: which papers' numbers its results are compared with
(``ganbench compare OUT --published SOURCE``, the report), and how its names map to the
paper's. Checked when the suite is read, like every other field::

    published:
      pacgan2018:                   # a source in ganbench/published/, or a YAML file's path
        table: Table 1              # optional: use this table's entries only
        setting: ...                # optional: and this setting's (tables with several)
        datasets: {ring: ring8}     # optional: dataset label -> the file's dataset
        variants: {gan: GAN}        # optional: variant -> the paper's method

Unmapped names are matched by name, ignoring case and punctuation (``pacgan2`` is
``PacGAN2``). A path source is read relative to the suite file and kept as an absolute
path in the resolved suite.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError, at
from ..published import datasets as source_datasets, load as load_source, match, \
    methods as source_methods, names as source_names

FIELDS = ["table", "setting", "datasets", "variants"]


def check_published(raw: Any, datasets: dict[str, str], variants: list[str],
                    base: Path | None = None) -> dict:
    """The validated block ({source: {field: value}}); errors name the field. ``datasets``
    maps the suite's dataset labels to their dataset names."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        raise at("published", "expected a mapping of source -> settings, e.g. {pacgan2018: "
                              f"{{table: Table 1}}}}; sources: {', '.join(source_names())}.")
    out = {}
    for source, block in raw.items():
        where = f"published.{source}"
        key = str(source)
        if key not in source_names() and base is not None and (base / key).is_file():
            key = str((base / key).resolve())
        try:
            data = load_source(key)
        except InputError as e:
            raise at(where, str(e).split(": ", 1)[-1]) from None
        out[key] = _block(block, where, data, list(datasets), variants)
        metrics = {e["metric"] for e in data["entries"]}
        for label, name in datasets.items():          # every cell must name one entry at most
            for variant in variants:
                for metric in sorted(metrics):
                    try:
                        match(data["entries"], label, name, variant, metric, out[key])
                    except ValueError as e:
                        raise at(where, str(e).replace("<source>", str(source))) from None
    return out


def _mapping(value: Any, where: str, keys: list[str], values: list[str], what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise at(where, f"expected a mapping of {what} -> the paper's name.")
    for k, v in value.items():
        if str(k) not in keys:
            raise at(f"{where}.{k}", f"not a {what} of this suite; known: {', '.join(keys)}.")
        if str(v) not in values:
            raise at(f"{where}.{k}", f"{v!r} is not in the published entries here; "
                                     f"known: {', '.join(values)}.")
    return {str(k): str(v) for k, v in value.items()}


def _block(block: Any, where: str, data: dict, labels: list[str], variants: list[str]) -> dict:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise at(where, "expected a mapping with table, setting, datasets or variants (or "
                        "nothing, to match by name).")
    for k in block:
        if k not in FIELDS:
            raise at(f"{where}.{k}", f"unknown field; fields here: {', '.join(FIELDS)}.")
    entries = data["entries"]
    out: dict = {}
    for field in ("table", "setting"):
        if block.get(field) is None:
            continue
        known = list(dict.fromkeys(e[field] for e in entries if e[field]))
        if str(block[field]) not in known:
            raise at(f"{where}.{field}", f"{block[field]!r} is not in {data['name']}; "
                                         f"known: {', '.join(known) or 'none'}.")
        out[field] = str(block[field])
        entries = [e for e in entries if e[field] == out[field]]
    if not entries:
        raise at(where, f"no entry of {data['name']} has that table and setting together.")
    out["datasets"] = _mapping(block.get("datasets"), f"{where}.datasets", labels,
                               source_datasets(entries), "dataset label")
    out["variants"] = _mapping(block.get("variants"), f"{where}.variants", variants,
                               source_methods(entries), "variant")
    return {k: v for k, v in out.items() if v}
