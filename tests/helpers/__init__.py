"""What the tests share, apart from the tests themselves (import from here, never from
a test module or conftest.py):

- :mod:`helpers.cli`: ``run_cli`` (the CLI in-process, as a test calls it) and ``TINY``,
  the tiny suite behind conftest's ``tiny_suite`` fixture;
- :mod:`helpers.faults`: the real CLI in a subprocess, its worker processes, and a
  folder compared with an uninterrupted run (the fault tests);
- :mod:`helpers.digit_fixtures`: the digits and their classifier features (fixtures);
- :mod:`helpers.image_files`: tiny image datasets in their real file formats, random
  Inception weights;
- :mod:`helpers.host_syncs`: counting what would make a GPU wait, on the CPU;
- :mod:`helpers.fake_cuda`: CUDA simulated on the CPU;
- :mod:`helpers.readme_tables`: benchmarks/readme_tables.py, the results tables' maker.

``tests/`` is on ``sys.path`` (pytest puts the folder of the root conftest.py there), so
a test module anywhere under it writes ``from helpers.cli import run_cli``.
"""
