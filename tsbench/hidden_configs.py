"""A config of the user's that tsbench's own hides, refused by name.

Hydra reads a config group's option from the first folder of its search path that has it,
and tsbench's own configs (``tsbench/conf``) come before the folders of ``hydra.searchpath``.
A user's ``conf/model/patchtst.yaml`` or ``conf/search/dlinear_tune.yaml`` is never read:
the run trains with tsbench's file and says nothing, a day of compute on settings nobody
chose. Such a file that says something else than tsbench's is an error naming the file and
its fix (a copy that differs in its comments alone changes nothing and passes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from tsbench.errors import TsbenchError

#: tsbench's own config folder, read before any folder of ``hydra.searchpath``.
OWN_CONFIGS = Path(__file__).resolve().parent / "conf"


def searchpath_of(config: DictConfig) -> list[str]:
    """A composed config's ``hydra.searchpath`` as written: Hydra resolves no ``${...}``
    there, so neither does this (``${hydra:runtime.cwd}`` cannot be resolved here)."""
    searchpath = OmegaConf.select(config, "hydra.searchpath", default=None)
    return [] if searchpath is None else list(map(str, OmegaConf.to_container(
        searchpath, resolve=False)))


def searchpath_folders(searchpath: Sequence[str]) -> list[Path]:
    """The local folders of ``hydra.searchpath`` (``file://conf``, or a bare path, which
    Hydra reads as a file path; ``pkg://`` entries are packages, and an entry holding
    ``${...}`` is Hydra's to read, both left out)."""
    folders = []
    for entry in map(str, searchpath):
        if "${" in entry:
            continue
        scheme, found, path = entry.partition("://")
        if not found:
            folders.append(Path(entry))
        elif scheme == "file":
            folders.append(Path(path))
    return folders


def hidden_configs(searchpath: Sequence[str]) -> Iterator[tuple[Path, Path]]:
    """Each config of a ``searchpath`` folder that tsbench's own config of the same group and
    name hides, and that says something else: (the user's file, its path inside the config
    tree)."""
    own_files = sorted(OWN_CONFIGS.rglob("*.yaml"))  # a few dozen, not a user's whole tree
    for folder in searchpath_folders(searchpath):
        if not folder.is_dir() or folder.resolve() == OWN_CONFIGS:
            continue
        for own in own_files:
            inside = own.relative_to(OWN_CONFIGS)
            path = folder / inside
            if path.is_file() and _content(own) != _content(path):
                yield path, inside


def _content(path: Path) -> Any:
    """What a YAML file says (its comments aside); its text where it does not parse."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def check_hidden_configs(searchpath: Sequence[str], space_field: str | None = None) -> None:
    """Raise a :class:`TsbenchError` naming each config of ``searchpath`` that tsbench's own
    hides, with the fix: the same file under a name of its own, chosen by that name
    (``space_field``: the setting that chooses a tuning space, ``recipe.space`` in
    ``tsbench-tune``)."""
    said = [_hidden(path, inside, space_field) for path, inside in hidden_configs(searchpath)]
    if said:
        raise TsbenchError("; ".join(said))


def _hidden(path: Path, inside: Path, space_field: str | None) -> str:
    """One hidden config, and its fix."""
    group, name = inside.parent.as_posix(), inside.stem
    if group == ".":
        fix = (f"rename it: the primary config is tsbench's own; put your settings in "
               f"experiment/my_{name}.yaml and choose experiment=my_{name}")
    elif group == "search" and name.endswith("_tune") and space_field:
        fix = (f"rename it, e.g. {group}/my_{name}.yaml, and choose it with "
               f"{space_field}=my_{name}")
    else:
        fix = f"rename it, e.g. {group}/my_{name}.yaml, and choose {group}=my_{name}"
    return (f"{path}: never read, tsbench's own {inside.as_posix()} hides it (Hydra reads "
            f"tsbench's configs before the folders of hydra.searchpath) -> {fix}")
