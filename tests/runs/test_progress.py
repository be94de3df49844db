"""The progress of a suite in a log (no terminal): a line per finished group with the runs
done and the time left, the time left from the work done (groups in flight counted by
their steps), and a line at most every HEARTBEAT seconds while groups train."""
from dataclasses import dataclass

import pytest

from ganbench.runs import progress as prog


@dataclass
class G:
    label: str
    cost: float
    steps: int = 100
    n: int = 2

    @property
    def specs(self):
        return [None] * self.n

    def share_after(self, n: int) -> float:
        return min(1.0, n / self.steps)


class Clock:
    t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(prog.time, "monotonic", c)
    return c


def records(n, wall=5.0):
    return [{"status": "ok", "group_wall_s": wall, "run_id": f"r{i}"} for i in range(n)]


def test_time_left_is_the_work_left_at_the_pace_so_far(clock, capsys):
    a, b, c = G("ring8/a", 1.0), G("ring8/b", 1.0), G("moons/c", 2.0)
    p = prog.Progress(8, 6, True, [a, b, c], tty=False)
    p.start(0, a)
    p.start(1, b)
    assert p.left() is None and "time left unknown" in p.status()
    clock.t += 30
    p.steps(0, 50)                     # a half done, b a quarter: 0.75 of 4 cost units in 30 s
    p.steps(1, 25)
    assert p.left() == pytest.approx(30 * (4 - 0.75) / 0.75)
    clock.t += 30
    p.finish(0, a, records(2))         # a done, b still at a quarter: 1.25 of 4 in 60 s
    err = capsys.readouterr().err
    assert err == f"ring8/a: 2 ok (5.0 s); 4/8 runs, 1 min 00 s elapsed, about " \
                  f"{prog.duration(60 * 2.75 / 1.25)} left\n"
    assert prog.duration(132) == "2 min 12 s" and prog.duration(7322) == "2 h 02 min"
    p.close()


def test_a_log_gets_a_line_at_most_every_heartbeat_while_groups_train(clock, capsys):
    a = G("ring8/a", 1.0)
    p = prog.Progress(2, 2, True, [a], tty=False)
    p.start(0, a)
    clock.t += 10
    p.steps(0, 10)
    assert capsys.readouterr().err == ""                    # no bar, no line yet
    clock.t += prog.HEARTBEAT
    p.steps(0, 20)
    assert capsys.readouterr().err.startswith("... 0/2 runs, 1 min 10 s elapsed, about ")
    clock.t += 1
    p.steps(0, 30)
    assert capsys.readouterr().err == ""
    p.close()
    quiet = prog.Progress(2, 2, False, [a], tty=False)      # --no-progress: group lines only
    quiet.start(0, a)
    clock.t += 2 * prog.HEARTBEAT
    quiet.steps(0, 50)
    assert capsys.readouterr().err == ""
    quiet.finish(0, a, records(2))
    assert capsys.readouterr().err.startswith("ring8/a: 2 ok (5.0 s); 2/2 runs")
    quiet.close()


def test_real_groups_count_the_share_of_their_predicted_seconds(clock, tmp_path):
    from ganbench.config.suite import parse_suite
    from ganbench.runs.groups import pending_groups
    s = parse_suite({"seeds": 2, "datasets": ["ring8"],
                     "defaults": {"steps": 200, "eval_every": 50, "n_eval": 500},
                     "variants": {"ns": {"objective": "nonsaturating"},
                                  "gp": {"objective": "wgan_gp", "n_critic": 5}}})
    ns, gp = pending_groups(tmp_path, s.specs)
    shares = [gp.share_after(n) for n in (50, 100, 150, 200)]
    assert 0 < shares[0] < shares[1] < shares[2] < shares[3] < 1   # the end is still to come
    p = prog.Progress(4, 4, True, [ns, gp], tty=False)
    p.start(0, gp)
    clock.t += 20
    p.steps(0, 100)
    done = gp.cost * shares[1]
    assert p.left() == pytest.approx(20 * (ns.cost + gp.cost - done) / done)
    p.close()
