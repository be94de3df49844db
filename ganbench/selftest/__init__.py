"""``python -m ganbench.selftest --device cuda``: the first thing to run on a new GPU machine.

In a few minutes on one GPU (a budget of 8) it runs, in order:

1. ``tests``: the GPU-relevant tests of the source checkout (host syncs in a step, FID
   on a GPU, GPU workers, ``--deterministic``), with pytest; skipped, with why, when
   ganbench is installed without its tests (:mod:`.checkout_tests`);
2. ``mog``: the flagship suite shortened, trained through ``ganbench.run``; then each of
   its stacked groups on the device: placement, host syncs (CUDA's sync debug mode),
   steps/s and kernel launches per step against the GPU estimates (:mod:`.speed`);
3. ``digits``: a DCGAN on the digits with FID/KID on the device, offline (:mod:`.digits_fid`);
4. ``repeat``: ``ganbench run --deterministic`` twice, compared bit for bit (:mod:`.repeat`).

It writes one JSON report (``OUT/selftest.json``, default ``results/selftest``) and
prints a summary; exit 0 when no part failed, 1 when one did, 2 on bad input.
``--device cpu`` runs the same at a few steps each (a test of the self-test). What the
numbers mean against the estimates: docs/devices.md, "On a GPU".
"""
