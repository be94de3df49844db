"""Counting what would make a GPU wait, on the CPU.

On a GPU the host queues kernels and runs ahead; anything that reads a tensor's value
on the host (``item``, ``float(t)``, ``if t:``, ``.cpu()``, ``.numpy()``, ``.tolist()``),
an op whose output size depends on the data (``nonzero``, boolean masks, ``unique``)
and a tensor built from host data (``torch.tensor(...)``, ``.to(device)`` of a host
tensor: a copy from pageable memory) makes it wait for the GPU. :class:`HostSyncs`
counts each of them while it is active, with where it came from, whatever the device:

- the Python methods above, patched on ``torch.Tensor``;
- ``Tensor.to``/``Tensor.cuda`` asked for a device (a copy on a GPU; a no-op on the
  CPU, which is why it is counted by call);
- the aten ops every such read ends in, by a dispatch mode: what Python code and
  composite ops call, not what a kernel calls inside itself (the CPU's fused Adam reads
  each step count with ``item()`` inside its kernel; CUDA's reads it on the device).
"""
from __future__ import annotations

import traceback

import torch
from torch.utils._python_dispatch import TorchDispatchMode

METHODS = ("item", "cpu", "numpy", "tolist", "__float__", "__bool__", "__int__", "__index__")
#: aten ops that read data on the host or size their output from the data
SYNC_OPS = {"aten::_local_scalar_dense", "aten::nonzero", "aten::masked_select", "aten::unique",
            "aten::_unique2", "aten::unique_dim", "aten::unique_consecutive", "aten::is_nonzero",
            "aten::equal", "aten::lift_fresh", "aten::repeat_interleave"}


def _where() -> str:
    """The innermost ganbench frame of the current stack (else the innermost frame
    outside torch)."""
    frames = [f for f in traceback.extract_stack()[:-2]
              if f.filename != __file__ and "/site-packages/torch/" not in f.filename]
    own = [f for f in frames if "/ganbench/" in f.filename]
    f = (own or frames)[-1]
    return f"{f.filename.rsplit('/ganbench/', 1)[-1]}:{f.lineno} {f.line}"


def _asks_for_device(args, kwargs) -> bool:
    if "device" in kwargs and kwargs["device"] is not None:
        return True
    return any(isinstance(a, (str, torch.device)) for a in args[:1])


class _Ops(TorchDispatchMode):
    def __init__(self, owner):
        super().__init__()
        self.owner = owner

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name
        if name in ("aten::index", "aten::index_put", "aten::index_put_"):
            masks = [i for i in args[1] if isinstance(i, torch.Tensor) and i.dtype == torch.bool]
            name = f"{name} by a boolean mask" if masks else name
        if (name in SYNC_OPS or "boolean" in name) and self.owner._depth == 0:
            self.owner.hits.append((name, _where()))
        return func(*args, **(kwargs or {}))


class HostSyncs:
    """``with HostSyncs() as s: ...`` then ``s.hits``: (what, where) of every host sync."""

    def __init__(self):
        self.hits: list[tuple[str, str]] = []
        self._saved: dict = {}
        self._mode = _Ops(self)
        self._depth = 0

    def _wrap(self, name, fn, counts=lambda a, k: True):
        def wrapper(*args, **kwargs):
            if self._depth == 0 and counts(args[1:], kwargs):
                self.hits.append((f"Tensor.{name}", _where()))
            self._depth += 1              # what a counted call does inside is not counted again
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
        return wrapper

    def __enter__(self):
        for name in METHODS:
            fn = getattr(torch.Tensor, name)
            self._saved[name] = fn
            setattr(torch.Tensor, name, self._wrap(name, fn))
        for name in ("to", "cuda"):
            fn = getattr(torch.Tensor, name)
            self._saved[name] = fn
            counts = _asks_for_device if name == "to" else (lambda a, k: True)
            setattr(torch.Tensor, name, self._wrap(name, fn, counts))
        self._mode.__enter__()
        return self

    def __exit__(self, *exc):
        self._mode.__exit__(*exc)
        for name, fn in self._saved.items():
            setattr(torch.Tensor, name, fn)
        return False

    def report(self) -> str:
        from collections import Counter
        return "\n".join(f"{n:3d} x {what} at {where}"
                         for (what, where), n in Counter(self.hits).most_common())
