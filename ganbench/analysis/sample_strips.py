"""The report's "samples over training": for a run that keeps a picture of its samples
at each evaluation (the ``image_series`` artifact, ``samples/step_000400.png``), a strip
of STRIP of them evenly spaced over training, first and last included, in one row, and,
when imageio is installed (``pip install ganbench[gif]``), all of them as an animated
GIF. The pictures are read as files: no torch, no drawing.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..layout import image_series
from .html import esc, figure, img_tag

#: pictures in a strip (fewer when the run has fewer evaluations)
STRIP = 8
#: frames in the GIF at most (evenly spaced); each shown FRAME_MS, the last one LAST_MS
GIF_FRAMES = 48
FRAME_MS, LAST_MS = 350, 1500
#: a picture's width on the page, CSS pixels
WIDTH = 120


def evenly(n: int, k: int) -> list[int]:
    """Indices of ``k`` of ``n`` items evenly spaced, the first and last included (all
    when n <= k)."""
    if n <= k:
        return list(range(n))
    return sorted(set(np.round(np.linspace(0, n - 1, k)).astype(int).tolist()))


def gif_bytes(pictures: list[Path]) -> bytes | None:
    """The pictures as a looping animated GIF (None without imageio, or when the
    pictures differ in size)."""
    try:
        import imageio.v3 as iio
    except ImportError:
        return None
    frames = [iio.imread(p) for p in pictures]
    frames = [f[..., :3] if f.ndim == 3 else np.repeat(f[..., None], 3, -1) for f in frames]
    if not frames or len({f.shape for f in frames}) != 1:
        return None
    return iio.imwrite("<bytes>", np.stack(frames), extension=".gif", loop=0,
                       duration=[FRAME_MS] * (len(frames) - 1) + [LAST_MS])


def strip_html(name: str, run_id: str, said: str, pics: list[tuple[int, Path]]) -> str:
    """One variant's strip: its run's pictures at STRIP evaluations, each captioned with
    its step, then the animation of all of them."""
    cells = [figure(img_tag(pics[i][1].read_bytes(), f"{run_id} samples at step {pics[i][0]}",
                            WIDTH), f"step {pics[i][0]}")
             for i in evenly(len(pics), STRIP)]
    gif = gif_bytes([p for _, p in (pics[i] for i in evenly(len(pics), GIF_FRAMES))])
    if gif is not None:
        cells.append(figure(img_tag(gif, f"{run_id} samples over training, animated", WIDTH,
                                    mime="image/gif"), f"animated, {len(pics)} evaluations"))
    return (f"<div class='strip'><div class='vname'>{esc(name)} "
            f"<span class='sub'>{esc(run_id)}: {esc(said)}</span></div>"
            f"<div class='row'>{''.join(cells)}</div></div>")


def strips_html(out_runs: list[tuple[str, Path, str, str, list[dict]]]) -> str:
    """"Samples over training" for each (variant, run folder, run id, diagnosis, declared
    artifacts) whose run keeps a picture per evaluation ("" when none does)."""
    strips = []
    for name, d, run_id, said, declared in out_runs:
        pics = image_series(d, declared)
        if pics:
            strips.append(strip_html(name, run_id, said, pics))
    if not strips:
        return ""
    animated = "; then all of them animated" if any("image/gif" in s for s in strips) else ""
    return ("<h3>Samples over training</h3><p>Each variant's representative run (the first "
            "seed with its most common diagnosis): its samples at evaluations evenly spaced "
            f"over training, the last at the end of training{animated}.</p>"
            "<div class='strips'>" + "".join(strips) + "</div>")
