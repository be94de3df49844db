"""The bottom of fault handling: a failing write leaves the old file and no temporary
file, and a signal during a write takes effect when the write is done."""
import errno
import os
import signal

import pytest

from ganbench.errors import OutputError
from ganbench.interrupts import Interrupted, deferred, handled
from ganbench.layout import atomic_write, write_text


def test_a_failing_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    f = tmp_path / "summary.csv"
    write_text(f, "old\n")

    def half_then_full(p):
        p.write_text("ne")
        raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(OutputError, match=r"cannot write .*summary.csv: No space left on device"):
        atomic_write(f, half_then_full)
    assert f.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_write_waits_for_the_write(tmp_path, sig):
    f = tmp_path / "metrics.json"
    before = signal.getsignal(sig)          # e.g. Ray's, when an earlier test started Ray
    with handled():
        with pytest.raises(Interrupted) as stop:
            def write(p):
                os.kill(os.getpid(), sig)          # arrives mid-write
                p.write_text("{}")
            atomic_write(f, write)
        assert stop.value.signum == sig and stop.value.exit_code == 128 + sig
        assert f.read_text() == "{}"               # the file was completed first
        assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
        with pytest.raises(Interrupted):           # outside a write: at once
            os.kill(os.getpid(), sig)
            for _ in range(1000):
                pass
    with deferred():                               # nested blocks and no signal: nothing
        with deferred():
            pass
    assert signal.getsignal(sig) is before   # handled() put it back
