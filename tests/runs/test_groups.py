"""Groups: stacks cut for the workers (a long stack split while that shortens the
predicted wall time), and the same cut again on resume."""
from ganbench.config.suite import parse_suite
from ganbench.runs.groups import makespan, pending_groups

MLP = {"generator": {"name": "mlp", "width": 64, "depth": 3},
       "discriminator": {"name": "mlp", "width": 64, "depth": 3}}


def suite(seeds=12):
    return parse_suite({"seeds": seeds, "datasets": ["ring8"], "defaults": {**MLP, "steps": 1500},
                        "variants": {"ns": {"objective": "nonsaturating"},
                                     "gp": {"objective": "wgan_gp", "n_critic": 5}}})


def test_makespan_is_longest_first_on_the_least_loaded_worker():
    assert makespan([5, 4, 3, 3], 2) == 8          # 5+3 | 4+3 (LPT; the optimum is 8 too)
    assert makespan([3, 3, 2, 2, 2], 2) == 7       # 3+2+2 | 3+2: LPT's, the optimum is 6
    assert makespan([4, 1], 1) == 5
    assert makespan([], 3) == 0


def test_a_long_stack_is_halved_for_two_workers_not_for_one(tmp_path):
    s = suite()
    one = pending_groups(tmp_path, s.specs, slots=1)
    two = pending_groups(tmp_path, s.specs, slots=2)
    assert [(g.label, len(g.specs)) for g in one] == [("ring8/ns", 12), ("ring8/gp", 12)]
    assert sorted((g.label, len(g.specs)) for g in two) == [
        ("ring8/gp (1 of 2)", 6), ("ring8/gp (2 of 2)", 6), ("ring8/ns", 12)]
    assert makespan([g.cost for g in two], 2) < 0.99 * makespan([g.cost for g in one], 2)
    halves = [g for g in two if g.part]
    assert [s.seed for g in halves for s in g.specs] == list(range(12))


def test_a_stack_no_longer_than_the_others_stays_whole(tmp_path):
    s = parse_suite({"seeds": 4, "datasets": ["ring8"], "defaults": {**MLP, "steps": 200},
                     "variants": {"a": {"objective": "nonsaturating"}, "b": {"objective": "lsgan"}}})
    groups = pending_groups(tmp_path, s.specs, slots=2)
    assert [g.part for g in groups] == [""]


def test_a_resumed_suite_finds_the_same_halves(tmp_path):
    """Cut from all of the suite's runs, then the finished ones left out: the second
    half's runs are the same whether the first half finished or not."""
    from ganbench.runs import store
    s = suite()
    first = pending_groups(tmp_path, s.specs, slots=2)
    done = {sp.run_id for g in first if g.part == "1 of 2" for sp in g.specs}
    original = store.is_finished
    store_finished = lambda out, spec: spec.run_id in done  # noqa: E731
    import ganbench.runs.groups as groups
    groups.is_finished = store_finished
    try:
        again = pending_groups(tmp_path, s.specs, slots=2)
    finally:
        groups.is_finished = original
    assert sorted((g.label, [sp.run_id for sp in g.specs]) for g in again) == sorted(
        (g.label, [sp.run_id for sp in g.specs]) for g in first if g.part != "1 of 2")
