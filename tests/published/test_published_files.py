"""The published-numbers files: every shipped file parses, every entry names its source,
spot values against the papers' tables, and the validator's refusals."""
import pytest
import yaml

import ganbench.published as pub
from ganbench.errors import InputError
from ganbench.metrics import catalogue


def entry(data, **key):
    found = [e for e in data["entries"] if all(e[k] == v for k, v in key.items())]
    assert len(found) == 1, (key, found)
    return found[0]


def test_the_shipped_files_are_pacgan_and_veegan():
    assert pub.names() == ["pacgan2018", "veegan2017"]


@pytest.mark.parametrize("name", pub.names())
def test_every_entry_parses_and_names_its_source(name):
    data = pub.load(name)
    assert data["name"] == name and data["paper"].strip()
    columns = {m.name for m in catalogue.metrics() if m.column}
    for e in data["entries"]:
        assert set(e) == set(pub.FIELDS)
        assert e["source"].strip() and e["table"] in e["source"], e
        assert "/" in e["source"], e            # the repository file it was read from
        assert e["error_kind"] in pub.ERROR_KINDS
        assert (e["error"] is None) == (e["error_kind"] == "none")
        if e["metric"] in ("modes_captured", "hq_fraction", "reverse_kl"):
            assert e["metric"] in columns   # named as ganbench's columns
        if e["metric"] == "hq_fraction":
            assert 0 <= e["mean"] <= 1


def test_pacgan_tables_spot_values():
    d = pub.load("pacgan2018")
    e = entry(d, table="Table 1", dataset="ring8", method="GAN", metric="hq_fraction")
    assert (e["mean"], e["error"], e["error_kind"], e["runs"]) == (0.982, 0.002, "standard_error", 10)
    e = entry(d, table="Table 1", dataset="grid25", method="PacGAN4", metric="modes_captured")
    assert (e["mean"], e["error"]) == (24.8, 0.2)
    e = entry(d, table="Table 2", method="PacDCGAN2", metric="reverse_kl")
    assert (e["dataset"], e["mean"], e["error"], e["runs"]) == ("stacked_mnist", 0.06, 0.003, 10)
    e = entry(d, table="Table 2", method="DCGAN", metric="modes_captured")   # quoted from VEEGAN
    assert (e["mean"], e["error_kind"]) == (99.0, "none")
    e = entry(d, table="Table 3", setting="D is 1/2 size of G", method="PacDCGAN3",
              metric="modes_captured")
    assert (e["mean"], e["error"], e["runs"]) == (866.6, 12.10, 50)
    e = entry(d, table="Table 3", setting="D is 1/4 size of G", method="Unrolled GAN, 1 step",
              metric="reverse_kl")
    assert (e["mean"], e["error_kind"], e["runs"]) == (5.91, "unstated", None)
    assert len([x for x in d["entries"] if x["table"] == "Table 1"]) == 5 * 2 * 3


def test_veegan_tables_spot_values():
    d = pub.load("veegan2017")
    assert entry(d, dataset="ring8", method="GAN", metric="modes_captured")["mean"] == 1
    assert entry(d, dataset="grid25", method="VEEGAN", metric="hq_fraction")["mean"] == 0.40
    e = entry(d, dataset="stacked_mnist", method="DCGAN", metric="reverse_kl")
    assert (e["mean"], e["runs"], e["error_kind"]) == (3.4, 5, "none")


GOOD = {"name": "x", "paper": "A. B. A paper. 2020.",
        "groups": [{"table": "Table 1", "source": "paper Table 1; repo/file.png",
                    "error_kind": "standard_error", "runs": 10,
                    "entries": [{"dataset": "ring8", "method": "GAN", "metric": "modes_captured",
                                 "mean": 6.3, "error": 0.5}]}]}


def broken(path, value):
    raw = yaml.safe_load(yaml.safe_dump(GOOD))
    *head, last = path
    node = raw
    for k in head:
        node = node[k]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return raw


@pytest.mark.parametrize("path,value,message", [
    (("groups", 0, "source"), None, r"entries\[0\]\.source: missing"),
    (("groups", 0, "source"), "  ", r"entries\[0\]\.source: missing"),
    (("groups", 0, "error_kind"), "sem", r"error_kind: 'sem'; use one of standard_error, std"),
    (("groups", 0, "runs"), 0, r"runs: expected a whole number >= 1 or null"),
    (("groups", 0, "entries", 0, "metric"), "hq_fraction", None),   # 6.3 is no fraction
    (("groups", 0, "entries", 0, "mean"), "6.3", r"mean: expected a number"),
    (("groups", 0, "entries", 0, "colour"), "red", r"colour: unknown field"),
    (("groups", 0, "error_kind"), "none", r"error: given with error_kind none"),
    (("paper",), None, r"paper: cite the paper"),
])
def test_the_validator_names_the_bad_field(path, value, message):
    raw = broken(path, value)
    with pytest.raises(InputError, match=message or r"hq_fraction is a fraction \(0-1\), got 6.3"):
        pub.validate(raw, "x.yaml", "x")


def test_a_duplicate_entry_and_a_wrong_name_are_refused():
    raw = yaml.safe_load(yaml.safe_dump(GOOD))
    raw["groups"][0]["entries"].append(dict(raw["groups"][0]["entries"][0]))
    with pytest.raises(InputError, match="a second entry"):
        pub.validate(raw, "x.yaml", "x")
    with pytest.raises(InputError, match="differs from the file name 'y'"):
        pub.validate(GOOD, "y.yaml", "y")


def test_a_source_is_a_shipped_name_or_a_yaml_file(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text(yaml.safe_dump(GOOD))
    assert pub.load(str(f))["entries"][0]["mean"] == 6.3
    with pytest.raises(InputError, match="unknown; use one of pacgan2018, veegan2017"):
        pub.load("pacgan2019")
