"""Read a W&B offline run's ``run-<id>.wandb`` file back, with wandb's own record
definitions (``wandb.proto.wandb_internal_pb2.Record``).

wandb 0.31 has no Python reader of its transaction log any more (the Go core writes
it): the framing is LevelDB's log format after a 7-byte header (``:W&B``, magic
0xBEE1, version 0): 32 KiB blocks of chunks, each 4 bytes CRC-32C, 2 bytes length
(little-endian), 1 byte type (1 full, 2 first, 3 middle, 4 last). That framing is the
only thing read by hand here; the records are parsed by wandb's protobuf classes.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

HEADER = 7
BLOCK = 32768
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> list:
    """Every record of a .wandb file, as wandb_internal_pb2.Record."""
    from wandb.proto import wandb_internal_pb2 as pb
    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", f"{path}: not a W&B transaction log"
    out, pos, pending = [], HEADER, b""
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:                      # a block's tail too short for a chunk header
            pos += left
            continue
        length, kind = struct.unpack("<HB", data[pos + 4:pos + 7])
        if kind == 0 and length == 0:     # zero padding at a block's end
            pos += left
            continue
        chunk = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == FULL:
            pending = chunk
        elif kind == FIRST:
            pending = chunk
            continue
        elif kind == MIDDLE:
            pending += chunk
            continue
        else:
            pending += chunk
        rec = pb.Record()
        rec.ParseFromString(pending)
        out.append(rec)
        pending = b""
    return out


def read_offline_run(run_dir: Path) -> dict:
    """An offline run's name, group, tags, config, history rows (step -> values) and
    summary, from its .wandb file."""
    (log,) = Path(run_dir).glob("run-*.wandb")
    run = {"history": {}, "summary": {}, "config": {}}
    for rec in records(log):
        kind = rec.WhichOneof("record_type")
        if kind == "run":
            run.update(name=rec.run.display_name, group=rec.run.run_group, project=rec.run.project, tags=list(rec.run.tags),
                       job_type=rec.run.job_type)
            run["config"].update({i.key: json.loads(i.value_json) for i in rec.run.config.update})
        elif kind == "config":
            run["config"].update({i.key: json.loads(i.value_json) for i in rec.config.update})
        elif kind == "history":
            items = {(i.key or "/".join(i.nested_key)): json.loads(i.value_json)
                     for i in rec.history.item}
            step = rec.history.step.num if rec.history.HasField("step") else items.get("_step")
            run["history"].setdefault(int(step), {}).update(items)
        elif kind == "summary":
            run["summary"].update({(i.key or "/".join(i.nested_key)): json.loads(i.value_json)
                                   for i in rec.summary.update})
    return run


def offline_runs(wandb_dir: Path) -> dict[str, dict]:
    """Each ``offline-run-*`` folder's name -> :func:`read_offline_run`, leaving out a log
    not yet readable while wandb-core writes it (no file yet, its header not written, a
    record cut off)."""
    from google.protobuf.message import DecodeError
    got = {}
    for d in sorted(Path(wandb_dir).glob("offline-run-*")):
        try:
            got[d.name] = read_offline_run(d)
        except (ValueError, AssertionError, DecodeError):
            continue
    return got
