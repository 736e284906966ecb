"""YAML read by libyaml's C loader where PyYAML has it, into the values safe_load gives."""

from __future__ import annotations

import pytest
import yaml
from omegaconf import OmegaConf

from tsbench.search.composition import compose_tsbench
from tsbench.yaml_load import load_yaml


@pytest.fixture(scope="module")
def hydra_yaml() -> str:
    """A job folder's ``.hydra/hydra.yaml`` as Hydra saves it (a search's trial)."""
    config = compose_tsbench(["search=patchtst_bo", "dataset=etth1", "optim.lr=0.000123"])
    return OmegaConf.to_yaml(OmegaConf.create({"hydra": config.hydra}))


def test_a_hydra_yaml_reads_as_safe_load_reads_it(hydra_yaml: str) -> None:
    assert load_yaml(hydra_yaml) == yaml.safe_load(hydra_yaml)
    assert load_yaml(hydra_yaml)["hydra"]["sweeper"]["params"]["optim.lr"] == (
        "tag(log, interval(1e-5, 1e-2))")


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_the_c_loader_reads_it_where_pyyaml_has_one(
        hydra_yaml: str, monkeypatch: pytest.MonkeyPatch) -> None:
    used = []

    class Recorded(yaml.CSafeLoader):
        def __init__(self, stream: str) -> None:
            used.append(self)
            super().__init__(stream)

    monkeypatch.setattr(yaml, "CSafeLoader", Recorded)
    assert load_yaml(hydra_yaml) == yaml.safe_load(hydra_yaml) and len(used) == 1


def test_without_libyaml_the_python_loader_reads_it(
        hydra_yaml: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = yaml.safe_load(hydra_yaml)
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    assert load_yaml(hydra_yaml) == expected
    with pytest.raises(yaml.YAMLError):
        load_yaml("hydra: [unclosed")


def test_text_that_is_no_yaml_raises_yaml_error() -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml("hydra: [unclosed")
    with pytest.raises(yaml.YAMLError):  # a tag only the unsafe loaders build
        load_yaml("!!python/object:os.system {}")
