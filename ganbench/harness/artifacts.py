"""Files a run adds to its folder beside config.json, history.csv and metrics.json,
each declared with a caption and a kind, so the report shows whatever a run declares
(the declarations are written into the run's metrics.json as ``artifacts``).

Kinds: ``image`` (a PNG shown as is), ``table`` (a CSV, linked), ``d_map`` (an .npz
of D and D* on a grid over the plane, drawn by the report), ``image_series`` (a
folder of PNGs, one per evaluation, ``step_000400.png``: the report draws a strip of
them over training, :mod:`ganbench.harness.snapshots`), ``text`` (plain text, e.g. a
failed run's ``error.txt``: its full traceback).
"""
from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import numpy as np

from . import plots, snapshots

KINDS = ("image", "table", "d_map", "image_series", "text")


@dataclass(frozen=True)
class Artifact:
    file: str
    caption: str
    kind: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"artifact kind must be one of {', '.join(KINDS)}")

    def record(self) -> dict:
        return asdict(self)


#: the end-of-run checkpoint's file (ganbench.harness.saved.FILE)
MODEL_FILE = "model.pt"
SAMPLES = Artifact("samples.png", "samples", "image")
D_MAP = Artifact("discriminator.npz", "D and D*", "d_map")
#: the samples of each evaluation, one picture per step in the folder samples/
SAMPLES_OVER_TRAINING = Artifact(snapshots.FOLDER, "samples over training", "image_series")
#: a failed run's full traceback (or a dead worker's stderr)
ERROR = Artifact("error.txt", "the error that failed the run, with its traceback", "text")


def error_artifact(result) -> tuple[dict, list[dict]]:
    """A failed run's error.txt (its traceback) and its declaration; none without one."""
    if not getattr(result, "traceback", None):
        return {}, []
    return {ERROR.file: result.traceback}, [ERROR.record()]


def run_artifacts(result, dataset, checkpoint_probes: list, title: str) -> tuple[dict, list[dict]]:
    """The files of one seed's run (name -> bytes or text) and their declarations."""
    files: dict = {}
    declared: list[Artifact] = []
    if result.real is not None and (dataset.dim == 2 or dataset.is_image):
        draw = plots.image_samples_png if dataset.is_image else plots.samples_png
        files[SAMPLES.file] = draw(dataset, result.real, result.fake,
                                   f"{title} ({result.status}, step {result.steps})")
        declared.append(SAMPLES)
    if result.pictures:
        files.update({snapshots.file_name(k): pic for k, pic in sorted(result.pictures.items())})
        declared.append(SAMPLES_OVER_TRAINING)
    if result.d_map is not None:
        buf = io.BytesIO()
        np.savez_compressed(buf, **result.d_map)
        files[D_MAP.file] = buf.getvalue()
        declared.append(D_MAP)
    if result.model is not None:          # the end-of-run checkpoint (not shown by the report)
        files[MODEL_FILE] = result.model
    for probe in checkpoint_probes:
        table = result.probe_tables.get(probe.name)
        if table is not None:
            files.update(probe.files(table, f"{title}: {probe.name}"))
            declared += probe.artifacts
    return files, [a.record() for a in declared]
