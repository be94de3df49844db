"""CUDA simulated on the CPU, for tests of device handling on a machine without a GPU.

:class:`FakeCuda` patches torch so that code written for GPUs runs its CUDA branches:

- ``torch.cuda.is_available()`` is True and ``torch.cuda.device_count()`` is ``n``;
- ``torch.cuda.device(i)`` (a context), ``set_device(i)`` and ``current_device()`` keep
  a current GPU index, as CUDA does per thread;
- ``Module.cuda(device=None)`` and ``Tensor.cuda(device=None)`` move to the ``meta``
  device, a device apart from the CPU: a CPU batch sent into a moved module raises, as
  it would against CUDA weights. Each move is recorded with the GPU index it was meant
  for (its ``device`` argument, else the current index);
- ``Tensor.cpu()`` of a meta tensor returns random numbers of its shape (the copy back
  a GPU would make; the values are not the point); ``pin_memory()`` returns the tensor.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch


class FakeCuda:
    def __init__(self, monkeypatch, n: int = 2):
        self.n, self.current = n, 0
        #: (kind, object, GPU index) of every .cuda() move: kind "module" or "tensor"
        self.moves: list[tuple[str, object, int]] = []
        #: ids of the parameters of every module moved by .cuda() (taken before the move)
        self.moved_parameters: set[int] = set()
        fake = self
        real_cpu = torch.Tensor.cpu

        def index_of(device) -> int:
            if device is None:
                return fake.current
            if isinstance(device, int):
                return device
            d = torch.device(device)
            return fake.current if d.index is None else d.index

        @contextmanager
        def device(d):
            old = fake.current
            if d is not None and index_of(d) >= 0:
                fake.current = index_of(d)
            try:
                yield
            finally:
                fake.current = old

        def set_device(d):
            fake.current = index_of(d)

        def module_cuda(self, device=None):
            fake.moves.append(("module", self, index_of(device)))
            fake.moved_parameters |= {id(p) for p in self.parameters()}
            return self._apply(lambda t: t.to("meta"))

        def tensor_cuda(self, device=None, non_blocking=False, **kw):
            fake.moves.append(("tensor", self, index_of(device)))
            return self.to("meta")

        def tensor_cpu(self, *a, **kw):
            if self.is_meta:
                return torch.randn(self.shape).to(self.dtype)
            return real_cpu(self, *a, **kw)

        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: fake.n)
        monkeypatch.setattr(torch.cuda, "current_device", lambda: fake.current)
        monkeypatch.setattr(torch.cuda, "device", device)
        monkeypatch.setattr(torch.cuda, "set_device", set_device)
        monkeypatch.setattr(torch.nn.Module, "cuda", module_cuda)
        monkeypatch.setattr(torch.Tensor, "cuda", tensor_cuda)
        monkeypatch.setattr(torch.Tensor, "cpu", tensor_cpu)
        # page-locked host memory needs a driver; a plain CPU tensor stands in for it
        monkeypatch.setattr(torch.Tensor, "pin_memory", lambda self, *a, **kw: self)

    def indices(self) -> set[int]:
        """The GPU indices anything was moved to."""
        return {i for _, _, i in self.moves}
