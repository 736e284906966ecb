"""The pieces of Hydra's private ``hydra._internal`` that tsbench uses, in one place, so
that a Hydra upgrade that moves or changes them breaks here alone.

Checked against hydra-core 1.3.8 (pyproject.toml allows >=1.3.2,<1.4). None of these has a
public API (``hydra.core.*``, ``hydra.utils``, ``hydra.plugins.*``, ``omegaconf``) that
does the same job:

- :func:`args_parser`: Hydra's command-line parser (``--help``, ``-m``, ``--config-name``,
  the overrides). ``@hydra.main`` builds it internally; a copy of its flags would drift from
  the Hydra that parses the command.
- :func:`config_sources` and :func:`load_config`: the config sources of a search path
  (``file://``, ``pkg://``, a plugin's scheme) and a config loaded from them with its
  defaults list parsed. The public ``ConfigLoader`` (``GlobalHydra.instance()
  .config_loader()``) offers sources and defaults only for the primary config of an
  initialized Hydra, not for one preset file of a given search path, and the public
  ``ConfigSource`` leaves scheme resolution and the defaults list's grammar to the
  private ``ConfigRepository``.
- :func:`basic_sweeper_class`, :func:`basic_sweeper_conf_class` and
  :func:`basic_sweeper_jobs`: Hydra's basic sweeper, which
  ``hydra_plugins/tsbench_basic_sweeper`` subclasses (its ``split_arguments``,
  ``_parse_config``, ``validate_batch_is_legal`` and attributes too), and its expansion of
  a multirun's overrides into jobs, which a report counts as planned.
  ``hydra.plugins.sweeper.Sweeper`` is only the abstract base. The classes are looked up in
  Hydra's module when asked for, not bound when this module is imported: Hydra's plugin scan
  executes ``hydra._internal.core_plugins``' modules again where they were imported before
  (by this module, when ``tsbench`` checks a command), which makes a new ``BasicSweeper``,
  and its ``__init__`` calls ``super(BasicSweeper, self)``, which names the new one; a
  subclass of the class bound before the scan fails there (``super(type, obj): obj must be
  an instance or subtype of type``). :func:`basic_sweeper_target` is the ``_target_`` Hydra
  records for it in a multirun's ``multirun.yaml``, as the class names itself.
- :func:`known_mode`: Hydra's ``Hydra.get_mode``, which ``_run_hydra`` (``@hydra.main``)
  calls before a run or multirun to read ``hydra.mode``, composing the command's whole
  config for it (about 0.1 s of CPU, spent again by the run's own composition), answered
  from what ``tsbench``'s check of the same command line composed. No public hook reaches
  it: ``@hydra.main`` builds the ``Hydra`` object and calls it itself.
- :func:`known_config`: Hydra's ``Hydra.run`` composes the run's config, which ``tsbench``'s
  check of the same command line composed a moment before (about a fifth of a small run's
  CPU); the config loader Hydra's ``Hydra`` object holds, which composes it, is built
  inside ``@hydra.main``; :func:`run_config_of` builds one as it does, for the tests that
  compare the two configs.
- :func:`config_loader_class`: the class whose ``load_configuration`` every composition of
  a config passes through, Hydra's and the Compose API's alike, which
  ``benchmarks/command_start.py`` wraps to count compositions.
- :func:`parse_each_config_once`: Hydra reads and parses every config file again at each
  composition (``ConfigLoaderImpl.load_configuration``, through its private config
  sources' ``OmegaConf.load``), and a sweep composes every trial's config. Only the loader's
  calls can tell a composition's reads from tsbench's own reads of run folders.
- :func:`multirun_in_process`: a multirun of a Hydra app run in the calling process, as
  ``-m`` runs it, with what its jobs raise raised to the caller (the tests' sweeps of
  their quadratic app). ``@hydra.main`` reads ``sys.argv`` and turns an exception into a
  printed error and an exit; the ``Hydra`` object that runs it has no public API.

The ``_target_`` Hydra records for its basic sweeper is data, not an import: it stays in
:data:`tsbench.search.names.BASIC_SWEEPERS`, which must import nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.config_repository import ConfigRepository
from hydra._internal.config_search_path_impl import ConfigSearchPathImpl
from hydra._internal.core_plugins import basic_sweeper
from hydra._internal.hydra import Hydra
from hydra._internal.utils import (
    detect_calling_file_or_module_from_task_function,
    detect_task_name,
    get_args_parser,
)
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.types import Override
from hydra.core.plugins import Plugins
from hydra.plugins.config_source import ConfigResult, ConfigSource
from hydra.plugins.sweeper import Sweeper
from hydra.types import RunMode
from omegaconf import DictConfig, ListConfig, OmegaConf


def args_parser() -> argparse.ArgumentParser:
    """Hydra's parser of a command line, as ``@hydra.main`` uses it."""
    return get_args_parser()


def _repository(search_path: Sequence[tuple[str, str]]) -> ConfigRepository:
    """Hydra's config repository over ``search_path`` (``(provider, path)`` entries, in
    order); ValueError for a scheme Hydra has no source for."""
    Plugins.instance()  # registers the config sources (Hydra's, once per process)
    path = ConfigSearchPathImpl()
    for provider, entry in search_path:
        path.append(provider, entry)
    return ConfigRepository(path)


def config_sources(search_path: Sequence[tuple[str, str]]) -> list[ConfigSource]:
    """The config source of each ``(provider, path)`` entry of ``search_path``, in order;
    ValueError for a scheme Hydra has no source for."""
    return _repository(search_path).get_sources()


def load_config(search_path: Sequence[tuple[str, str]], config_path: str
                ) -> ConfigResult | None:
    """The config ``config_path`` (``experiment/dlinear_ili``) of the first source of
    ``search_path`` that has it, with its parsed ``defaults_list``; None where none has it.
    Raises what Hydra raises for a config it cannot load."""
    return _repository(search_path).load_config(config_path)


def basic_sweeper_class() -> type[Sweeper]:
    """Hydra's basic sweeper class (``hydra/sweeper=basic``), as its module holds it now."""
    return basic_sweeper.BasicSweeper


def basic_sweeper_conf_class() -> type:
    """The dataclass of Hydra's basic sweeper's settings, as its module holds it now."""
    return basic_sweeper.BasicSweeperConf


def basic_sweeper_target() -> str:
    """The ``_target_`` of Hydra's basic sweeper, as Hydra records it in ``multirun.yaml``."""
    sweeper = basic_sweeper_class()
    return f"{sweeper.__module__}.{sweeper.__qualname__}"


def basic_sweeper_jobs(overrides: list[Override]) -> list[list[str]]:
    """The jobs Hydra's basic sweeper makes of a multirun's parsed ``overrides`` (every
    combination of the swept values, as ``key=value`` lines), in job-number order."""
    return [job for batch in basic_sweeper.BasicSweeper.split_arguments(overrides, None)
            for job in batch]


def multirun_in_process(app_file: str, config_path: str, config_name: str, job_name: str,
                        task_function: Callable[[Any], Any], overrides: list[str]) -> None:
    """Run ``app_file``'s multirun (``-m`` with ``overrides``) of ``task_function`` in this
    process, its configs read from ``config_path`` beside ``app_file``, without touching
    logging; what Hydra or a job raises reaches the caller. Hydra is cleared at the end,
    so that the next one can start."""
    hydra = Hydra.create_main_hydra_file_or_module(
        calling_file=app_file, calling_module=None, config_path=config_path,
        job_name=job_name)
    try:
        hydra.multirun(config_name=config_name, task_function=task_function,
                       overrides=overrides, with_log_configuration=False)
    finally:
        GlobalHydra.instance().clear()


@contextlib.contextmanager
def known_mode(config_name: str, overrides: Sequence[str], mode: RunMode | None
               ) -> Iterator[None]:
    """Within it, Hydra's ``Hydra.get_mode`` answers ``mode`` for ``config_name`` with
    exactly ``overrides`` (in order) without composing the config; for any other config
    name or overrides (another command line) it is Hydra's own. ``mode`` must be what
    ``get_mode`` would return: ``hydra.mode`` of the config composed in MULTIRUN mode with
    its sweep overrides left out (None where it does not compose)."""
    own = Hydra.get_mode
    known = (config_name, list(overrides))

    def get_mode(self: Hydra, config_name: str | None, overrides: list[str]) -> Any:
        if (config_name, list(overrides)) == known:  # Hydra passes both by keyword
            return mode
        return own(self, config_name=config_name, overrides=overrides)

    Hydra.get_mode = get_mode  # type: ignore[method-assign]
    try:
        yield
    finally:
        Hydra.get_mode = own  # type: ignore[method-assign]


@contextlib.contextmanager
def known_config(config_name: str, overrides: Sequence[str], config: DictConfig
                 ) -> Iterator[None]:
    """Within it, Hydra's composition of a run (``RunMode.RUN``) of ``config_name`` with
    exactly ``overrides`` (in order) is a deep copy of ``config``, not composed again; any
    other composition (another command line, a multirun's, a job's) is Hydra's own.
    ``config`` must be what Hydra would compose: the config its Compose API composed of the
    same overrides, before anything read or changed it (``tests/cli/test_one_composition.py``
    compares the two)."""
    own = ConfigLoaderImpl.load_configuration
    known = (config_name, list(overrides))

    def load_configuration(self: ConfigLoaderImpl, config_name: str | None,
                           overrides: list[str], run_mode: RunMode, *args: Any,
                           **kwargs: Any) -> DictConfig:
        if run_mode == RunMode.RUN and (config_name, list(overrides)) == known:
            return copy.deepcopy(config)
        return own(self, config_name, overrides, run_mode, *args, **kwargs)

    ConfigLoaderImpl.load_configuration = load_configuration  # type: ignore[method-assign]
    try:
        yield
    finally:
        ConfigLoaderImpl.load_configuration = own  # type: ignore[method-assign]


def run_config_of(task_function: Callable[..., Any], config_path: str, config_name: str,
                  overrides: list[str]) -> DictConfig:
    """The config that ``@hydra.main(config_path=config_path)`` on ``task_function`` (the
    undecorated function) composes for a run of ``overrides``, as ``Hydra.run`` composes it
    (what :func:`known_config`'s config must equal); Hydra is cleared at the end."""
    calling_file, calling_module = detect_calling_file_or_module_from_task_function(
        task_function)
    hydra = Hydra.create_main_hydra_file_or_module(
        calling_file=calling_file, calling_module=calling_module, config_path=config_path,
        job_name=detect_task_name(calling_file, calling_module))
    try:
        return hydra.compose_config(config_name, list(overrides), run_mode=RunMode.RUN)
    finally:
        GlobalHydra.instance().clear()


def config_loader_class() -> type:
    """Hydra's config loader, whose ``load_configuration`` composes every config."""
    return ConfigLoaderImpl


#: Each config file's text a composition in this process parsed, and what it parsed to.
_parsed: dict[str | bytes, DictConfig | ListConfig] = {}
#: How deep this thread is in Hydra's compositions (0: not composing).
_composing = threading.local()
#: Whether :func:`parse_each_config_once` has made the compositions of this process do so.
_parsing_once: list[bool] = []


def parse_each_config_once() -> None:
    """From now on, every composition in this process parses a config file's text once:
    ``OmegaConf.load`` in a composition hands out a deep copy of what that same text parsed
    to before (each composition gets its own config, as when it parsed the file itself; an
    edited file is new text, parsed anew; a text that does not parse raises as before, and
    is not kept). Parsing (PyYAML's pure-Python loader, then OmegaConf's nodes) was about a
    third of a composition: a sweep composes every trial's config, a ``tsbench`` command
    composes its check's config then Hydra's, and each command forked from
    :mod:`tsbench.preload`'s server parsed again what the server had parsed. Reads outside
    a composition (a report reading run folders) are left as they were: not kept."""
    if _parsing_once:
        return
    _parsing_once.append(True)
    compose = ConfigLoaderImpl.load_configuration
    load = OmegaConf.load

    def load_configuration(self: ConfigLoaderImpl, *args: Any, **kwargs: Any) -> DictConfig:
        _composing.depth = getattr(_composing, "depth", 0) + 1
        try:
            return compose(self, *args, **kwargs)
        finally:
            _composing.depth -= 1

    def load_once(file_: Any) -> DictConfig | ListConfig:
        read = getattr(file_, "read", None)
        if not getattr(_composing, "depth", 0) or read is None:
            return load(file_)
        text = read()
        if text not in _parsed:
            _parsed[text] = load(_named(text, getattr(file_, "name", None)))
        return copy.deepcopy(_parsed[text])

    ConfigLoaderImpl.load_configuration = load_configuration  # type: ignore[method-assign]
    OmegaConf.load = staticmethod(load_once)  # type: ignore[method-assign,assignment]


def _named(text: str | bytes, name: str | None) -> IO[Any]:
    """``text`` as a stream that YAML's errors name as the file it was read from."""
    stream: IO[Any] = io.StringIO(text) if isinstance(text, str) else io.BytesIO(text)
    if name is not None:
        stream.name = name  # type: ignore[misc]
    return stream
