import pytest

from ganbench.errors import InputError
from ganbench.registry import Registry, merge_spec


def make():
    r = Registry("widget")

    @r.register("round_widget")
    def round_widget(size: int = 1):
        """A round widget."""
        return ("round", size)

    r.register("square_widget", lambda size=2: ("square", size))
    return r


def test_build_by_name_or_mapping():
    r = make()
    assert r.build("round_widget") == ("round", 1)
    assert r.build({"name": "round_widget", "size": 3}) == ("round", 3)
    assert r.names() == ["round_widget", "square_widget"]
    assert r.describe("round_widget") == "A round widget."


def test_unknown_name_lists_known_names_and_closest():
    with pytest.raises(InputError) as e:
        make().build("round_widgte", "variants.a.widget")
    msg = str(e.value)
    assert msg.startswith("variants.a.widget: unknown widget 'round_widgte'")
    assert "Did you mean 'round_widget'?" in msg and "square_widget" in msg


def test_unknown_setting_names_its_path():
    with pytest.raises(InputError, match=r"^x\.sise: unknown setting\. Did you mean 'size'\?"):
        make().build({"name": "round_widget", "sise": 2}, "x")


def test_duplicate_registration_is_refused():
    r = make()
    with pytest.raises(ValueError):
        r.register("round_widget", lambda: None)


def test_merge_spec():
    base = {"name": "adam", "lr": 1e-4, "betas": [0.5, 0.999]}
    assert merge_spec(base, {"lr": 1e-3}) == {"name": "adam", "lr": 1e-3, "betas": [0.5, 0.999]}
    assert merge_spec(base, {"name": "sgd"}) == {"name": "sgd"}
    assert merge_spec(base, "rmsprop") == "rmsprop"
    assert merge_spec("adam", {"lr": 1.0}) == {"name": "adam", "lr": 1.0}
    assert merge_spec(base, None) is base
    assert merge_spec(None, {"lr": 1.0}) == {"lr": 1.0}   # name filled later from `optimizer`


def test_unknown_name_hints_at_imports():
    with pytest.raises(InputError) as e:
        make().build("my_own_widget", "variants.a.widget")
    assert str(e.value).endswith("Your own widget? Register it in a module and name that module "
                                 "under the suite's 'imports:' (or pass --import MODULE).")
