"""FID on a GPU, simulated on the CPU (tests/fake_cuda.py): torch-fidelity's ``.cuda()``
calls move a copy of the digit classifier, never the cached one (so the next seed's
digit_modes still works), and they go to the run's GPU index, not GPU 0."""
import numpy as np
import pytest

from helpers.digit_fixtures import digits, extractor  # noqa: F401  (fixtures)
from helpers.fake_cuda import FakeCuda
from ganbench.harness.features import fid_kid
from ganbench.harness.probes import Evaluation, probes


def digit_modes(digits, extractor, fake: np.ndarray) -> dict:
    """The digit_modes probe on CPU samples, as the next seed's evaluation runs it."""
    ev = Evaluation(digits, None, fake, fake, np.zeros(len(fake)), np.zeros(len(fake)),
                    classifier=extractor.classifier)
    return probes.build("digit_modes").measure(ev)


@pytest.mark.parametrize("device,index", [("cuda", 0), ("cuda:1", 1)])
def test_fid_on_cuda_moves_a_copy_of_the_classifier_to_the_runs_gpu(
        monkeypatch, tmp_path, digits, extractor, device, index):
    fake = digits.test.reshape(len(digits.test), -1)[:200].numpy()
    before = digit_modes(digits, extractor, fake)
    net = extractor.classifier.net
    params = {n: (p.device, p.data_ptr()) for n, p in net.named_parameters()}
    # reference statistics made from simulated features must not reach the session's cache
    monkeypatch.setenv("GANBENCH_CACHE", str(tmp_path))
    cuda = FakeCuda(monkeypatch, n=2)
    out = fid_kid(fake, digits, extractor, device)
    assert set(out) == {"fid", "kid"}
    assert any(kind == "module" for kind, _, _ in cuda.moves), "torch-fidelity moved no extractor"
    # bug 1: the cached classifier stays where it was (CPU), untouched
    assert not cuda.moved_parameters & {id(p) for p in net.parameters()}
    assert {n: (p.device, p.data_ptr()) for n, p in net.named_parameters()} == params
    # bug 2: every move went to the run's GPU
    assert cuda.indices() == {index}
    # the next seed's digit_modes on its CPU samples: works, same numbers as before
    after = digit_modes(digits, extractor, fake)
    assert after.keys() == before.keys()
    for k in before:       # numbers and per-mode arrays (tracks)
        np.testing.assert_array_equal(np.asarray(after[k]), np.asarray(before[k]))
