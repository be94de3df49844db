from ganbench.runs.executors.processes import slot_device
from ganbench.runs.groups import Group, pending_groups
from ganbench.config.suite import parse_suite


def test_worker_slots_spread_over_gpus():
    assert [slot_device("cuda", s, 4) for s in range(5)] == ["cuda:0", "cuda:1", "cuda:2", "cuda:3", "cuda:0"]
    assert slot_device("cuda", 3, 1) == "cuda"
    assert slot_device("cuda:2", 0, 4) == "cuda:2"      # a named GPU stays that GPU
    assert slot_device("cpu", 1, 0) == "cpu"


def test_runs_differing_only_in_seed_and_plane_set_form_one_group_and_costlier_groups_rank_first(tmp_path):
    s = parse_suite({"seeds": 3, "datasets": ["ring8", "moons"],
                     "defaults": {"steps": 100},
                     "variants": {"ns": {"objective": "nonsaturating"},
                                  "gp": {"objective": "wgan_gp", "n_critic": 5}}})
    groups = pending_groups(tmp_path, s.specs)
    assert [g.label for g in groups] == ["ring8+moons/ns", "ring8+moons/gp"]
    assert all(len(g.specs) == 6 and len({(sp.dataset["label"], sp.seed) for sp in g.specs}) == 6
               for g in groups)
    assert groups[1].cost > groups[0].cost
    assert isinstance(groups[0], Group)
