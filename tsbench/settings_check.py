"""A misspelt setting on the command line, named in one line with its fix.

Hydra's own error for ``optim.lrr=0.01`` is several lines ending in the hint
``To append to your config use +optim.lrr=0.01``, which would add the typo rather than fix
it. ``tsbench`` and ``tsbench-tune`` compose the command's config first and say instead
``optim.lrr: no such setting -> check its spelling ...``. A misspelt option of a config
group (``model=dlinaer``, or one option of a swept ``model=dlinear,dlinaer``) is named in
one line with the group's options, and so is a list of options for one group
(``logger=[tensorboard,mlflow]``, which Hydra merges into its last option alone). Every
other composition problem is left to Hydra.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import warnings
from pathlib import Path

import yaml
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from tsbench.errors import ConfigError, TsbenchError, closest, closest_all, either
from tsbench.hidden_configs import searchpath_folders
from tsbench.hydra_private import args_parser
from tsbench.search.elsewhere import options_having
from tsbench.shell_override import shell_override

#: Hydra's error for an override of a key the config does not have.
UNKNOWN_KEY = re.compile(r"Could not override '([^']+)'")
#: Hydra's error for an option a config group does not have, and the options it lists.
#: Hydra launcher plugins tsbench's extras install (pyproject.toml), by launcher option.
LAUNCHER_EXTRAS = {"joblib": "launchers", "submitit_local": "launchers",
                   "submitit_slurm": "launchers", "ray": "ray"}
MISSING_OPTION = re.compile(r"Could not find '(.+)/([^'/]*)'")
LISTED_OPTIONS = re.compile(r"Available options in '[^']+':\n((?:\t.*\n?)+)")


def command_overrides(argv: list[str]) -> argparse.Namespace | None:
    """Hydra's parse of a command line (``overrides``, ``multirun``, ...), or None where no
    config is composed from the overrides alone: ``--help``, shell completion, another
    config path or name, or a bad flag (Hydra's own parse reports it)."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            args = args_parser().parse_args(argv)
    except SystemExit:
        return None
    other_config = args.config_path or args.config_name or args.config_dir
    if args.help or args.hydra_help or args.shell_completion or args.info or other_config:
        return None
    return args


#: The prefix of a sweeper's search space entries.
PARAMS = "hydra.sweeper.params."
#: The resume of tsbench's sweepers, which Hydra's own basic sweeper lacks.
RESUME = "hydra.sweeper.resume"


def unknown_setting(error: BaseException, choices: dict[str, list[str]] | None = None,
                    program: str = "tsbench",
                    default: tuple[str, tuple[str, list[str]]] | None = None,
                    near: str | None = None) -> TsbenchError | None:
    """The one-line error for Hydra's ``error`` when it names a setting the config lacks.
    ``choices`` are config groups chosen on the command line, each as its composed option
    followed by the other options given that do have the setting (``{"strategy": ["direct",
    "recursive"]}``): a setting of another option of a swept group is named as such, not as
    a misspelling. ``default``: the group of a setting the command line chose no option of,
    with :func:`_default_choice`'s option and options that have it. ``near``: the setting
    the config has whose spelling is closest (:func:`near_setting`), for a misspelling."""
    key = missing_setting(error)
    if key is None:
        return None
    if key.split(".")[0] == "recipe" and program == "tsbench":  # conf/recipe/ is listed too
        return TsbenchError(f"{key}: a setting of tsbench-tune's tuning recipe, not of one run "
                            "-> run the recipe with tsbench-tune (e.g. tsbench-tune "
                            "dataset=etth1 model=patchtst recipe=quick), or drop it")
    if key.startswith(PARAMS) and len(key) > len(PARAMS):  # a parameter params lack
        swept = key[len(PARAMS):]
        if "." in swept:  # params' keys are dotted names, which an override reads as nesting
            return TsbenchError(
                f"{key}: an override reads the dots of {swept} as nested keys, which the "
                f"sweeper's params (a mapping of dotted names) do not have -> sweep it on the "
                f"command line ({swept}=<values>), or give it in a mapping, merged into "
                f"params: '++hydra.sweeper.params={{{swept}: \"<values>\"}}'")
        return TsbenchError(
            f"{key}: the sweeper's params hold no {swept} to change -> sweep it on the "
            f"command line ({swept}=<values>), or add it to params with +{key}=<values>")
    if key == RESUME:  # the one sweeper without it (tsbench's have it)
        return TsbenchError(f"{key}: Hydra's own basic sweeper (hydra/sweeper=basic) does "
                            "not resume -> use hydra/sweeper=basic_resumable, the basic "
                            "sweeper with resume (a multirun's default)")
    inner = getattr(error.__cause__, "full_key", "")
    if inner.startswith(f"{key}."):  # the setting exists; the mapping given adds keys
        return TsbenchError(
            f"{key}: no key '{inner[len(key) + 1:]}' in it to set -> check that key's "
            f"spelling, or add keys to {key} with ++{key}=...")
    group = key.split(".")[0]
    options = (choices or {}).get(group, []) if "." in key else []
    if len(options) > 1:
        having = ", ".join(f"{group}={o}" for o in options[1:])
        return TsbenchError(
            f"{key}: no such setting of {group}={options[0]}, a setting of {having} only, "
            f"options this multirun sweeps together -> run each {group} in its own multirun, "
            f"setting {key} only where its {group} has it")
    meant = f"did you mean {near}? Else " if near else ""
    if options:
        return TsbenchError(
            f"{key}: no such setting of {group}={options[0]} -> {meant}check its spelling, or "
            f"choose a {group} that has it ({program} --cfg job {group}=<option> shows its "
            "settings)")
    if default is not None and default[0] == group:
        chosen, having = default[1]
        if having:
            return TsbenchError(
                f"{key}: no such setting of {group}={chosen} (the default), a setting of "
                f"{', '.join(f'{group}={o}' for o in having)} -> add {group}={having[0]} to "
                f"the command, or drop {key}")
    shows = "--cfg hydra shows Hydra's settings" if key.startswith("hydra.") else (
        "--cfg job shows every setting")
    return TsbenchError(f"{key}: no such setting -> {meant}check its spelling ({program} "
                        f"{shows})")


def unknown_option(error: BaseException, searchpath: list[str] | None = None,
                   ) -> TsbenchError | None:
    """The one-line error for Hydra's ``error`` when it names an option a config group lacks
    (None for any other error). ``searchpath``: the command's ``hydra.searchpath`` entries;
    a folder of theirs missing from the working directory is named, as the likely cause."""
    text = str(error)
    found = MISSING_OPTION.search(text)
    if found is None:
        return None
    group, option = found[1], found[2]
    listed = LISTED_OPTIONS.search(text)
    options = listed[1].split() if listed else []
    fix = f"use one of {', '.join(options)}" if options else "check its spelling"
    problem = f"no option '{option}'" if option else "no option given"
    meant = closest_all(option, options) if option else []
    if meant:
        fix = f"did you mean {either([f'{group}={m}' for m in meant])}? Else {fix}"
    missing = _missing_folder(searchpath or []) if option else None
    if missing and group in ("model", "dataset"):  # users add their own: the likely cause
        problem, fix = f"{problem}, and {missing[0]}", f"{missing[1]}; else {fix}"
    elif option and group in ("model", "dataset"):
        fix += (f", or for a {group} of your own, its folder of {group}/{option}.yaml on the "
                "search path: 'hydra.searchpath=[file://conf]'")
    if group == "hydra/launcher" and option in LAUNCHER_EXTRAS:  # a plugin not installed
        fix = f"pip install \"tsbench[{LAUNCHER_EXTRAS[option]}]\" for it, or {fix}"
    return TsbenchError(f"{group}: {problem} -> {fix}")


def _missing_folders(searchpath: list[str]) -> list[tuple[str, str]]:
    """Each entry of ``searchpath`` naming a local folder that does not exist, with that
    folder as written (none for a package or a ``${...}`` path, which Hydra resolves)."""
    return [(entry, entry.partition("://")[2] or entry) for entry in searchpath
            if any(not folder.is_dir() for folder in searchpath_folders([entry]))]


def missing_searchpath(overrides: list[str]) -> bool:
    """Whether the command line's ``hydra.searchpath`` names a local folder that does not
    exist (Hydra's composition warns of it; :func:`check_settings`'s keeps quiet)."""
    return bool(_missing_folders(searchpath_given(parse_each(overrides))))


def _missing_folder(searchpath: list[str]) -> tuple[str, str] | None:
    """The problem and fix :func:`unknown_option` names where a local folder of
    ``searchpath`` does not exist: Hydra reads a relative one from the working directory,
    so a command run from another folder than the one holding ``conf/`` finds none (Hydra
    only warns)."""
    entry, path = next(iter(_missing_folders(searchpath)), (None, ""))
    if entry is None:
        return None
    name = Path(path).name
    return (f"hydra.searchpath's {entry} is no folder in {Path.cwd()} (a relative folder is "
            "read from the working directory)", "run the command from the folder that holds "
            f"{name}/, or give its absolute path: 'hydra.searchpath=[file:///path/to/{name}]'")


def searchpath_given(parsed: list[Override]) -> list[str]:
    """The ``hydra.searchpath`` entries a command line gives (none where it gives none)."""
    for override in parsed:
        value = override.value() if override.get_key_element() == "hydra.searchpath" else None
        if isinstance(value, list):
            return [str(entry) for entry in value]
    return []


def missing_setting(error: BaseException) -> str | None:
    """The setting Hydra's ``error`` says the config lacks (None for any other error)."""
    found = UNKNOWN_KEY.match(" ".join(str(error).split()))
    return None if found is None else found[1]


def check_settings(overrides: list[str], config_name: str = "config",
                   program: str = "tsbench") -> DictConfig | None:
    """Raise :func:`unknown_setting`'s error for the first override of a setting that
    ``program``'s config (``config_name``) lacks, or :func:`unknown_option`'s for an option a
    config group lacks; else return the composed config, Hydra's included (None where it
    does not compose for another reason, which Hydra then reports). A sweep (``a=1,2``,
    ``choice(...)``, ``interval(...)``) is composed at its first value, or at null when it
    has none to list; a swept group's other options are checked too."""
    parsed = parse_each(overrides)
    single = at_first_values(parsed)
    try:
        with initialize_config_module("tsbench.conf", version_base="1.3"), \
                warnings.catch_warnings():
            for _, path in _missing_folders(searchpath_given(parsed)):  # Hydra's run warns
                warnings.filterwarnings(  # of it, or unknown_option's error names it
                    "ignore", re.escape(f"provider=hydra.searchpath in command-line, "
                                        f"path={path} is not available"))
            config = compose(config_name, overrides=single, return_hydra_config=True)
            _check_deletions(parsed, config, program)
            _check_one_option(parsed)
            _check_swept_options(parsed, single, config, config_name)
            return config
    except TsbenchError:
        raise
    except Exception as exc:  # noqa: BLE001 (anything but a misspelt key is Hydra's to say)
        missing = missing_setting(exc)
        choices = _group_choices(parsed, single, missing, config_name)
        default = None
        if missing is not None and missing.split(".")[0] not in choices:
            found = _default_choice(single, missing, config_name)
            default = None if found is None else (missing.split(".")[0], found)
        near = near_setting(single, missing, config_name)
        error = unknown_option(exc, searchpath_given(parsed)) or run_setting_elsewhere(
            missing, config_name, program) or prefix_refusal(exc, parsed, program) or (
            broken_yaml(exc)) or unknown_setting(exc, choices, program, default, near)
        if error is not None:
            raise error from None
        return None


#: Hydra's refusals of a ``+`` or ``~`` prefix (its messages' first lines).
APPEND_EXISTING = re.compile(r"Could not append to config\. An item is already at '(.+)'\.")
GROUP_TWICE = re.compile(r"Multiple values for (\S+)\. To override a value use|"
                         r"(\S+) appears more than once in the final defaults list")
DELETE_ABSENT = re.compile(r"Could not delete from config\. '(.+)' does not exist\.")
DELETE_OTHER_VALUE = re.compile(r"Could not delete from config\. The value of '(.+)' is ")


def prefix_refusal(exc: Exception, parsed: list[Override], program: str
                   ) -> TsbenchError | None:
    """One line for Hydra's refusal of a ``+`` on a setting the config has (``+seed=3``,
    ``+model=dlinear``) or a ``~`` of one it lacks (``~foo``), whose messages take three
    lines and a hint about Hydra's error trace; None for any other error."""
    said = str(exc)
    found = APPEND_EXISTING.match(said) or GROUP_TWICE.match(said)
    key = None if found is None else found[1] or found[2]
    line = next((o.input_line for o in parsed if o.key_or_group == key and o.is_add()), None)
    if found is not None and line is not None:
        what = "config group" if found.re is GROUP_TWICE else "setting"
        return TsbenchError(f"{line}: {key} is a {what} of the config already, and + adds one "
                            f"it lacks -> set it without the +: {line.lstrip('+')}")
    if (found := DELETE_ABSENT.match(said)) is not None:
        return TsbenchError(f"~{found[1]}: the config has no setting {found[1]} to delete -> "
                            f"drop it ({program} --cfg job shows every setting)")
    if (found := DELETE_OTHER_VALUE.match(said)) is not None:
        return _deleted(found[1], program)
    return None


def broken_yaml(exc: Exception) -> TsbenchError | None:
    """One line for a config file of the search path that is not YAML (a model config of
    the user's own with a bracket left open): where, and what the parser expected, instead
    of the parser's traceback; None for any other error."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return None
    mark, start = exc.problem_mark, exc.context_mark
    where = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
    context = "" if start is None or not exc.context else (
        f" ({exc.context} from line {start.line + 1}, column {start.column + 1})")
    name = "a config file" if mark is None else mark.name
    return TsbenchError(f"{name}: not YAML{where}: {exc.problem}{context} -> fix the file")


def _check_deletions(parsed: list[Override], config: DictConfig, program: str) -> None:
    """Refuse a ``~`` that deleted a setting or config group ``program`` reads (``~seed``,
    ``~logger``): the run stopped on its absence with a traceback, after making its folder.
    A setting read with a default where it is absent (:func:`read_with_default`) may go;
    Hydra's own are Hydra's to check."""
    deleted = [o.key_or_group for o in parsed if o.is_delete()]
    if not deleted:  # most commands: no reading of the defaulted settings' file
        return
    defaulted = read_with_default(config)
    loader = GlobalHydra.instance().config_loader()
    for key in deleted:
        if key not in defaulted and not key.startswith("hydra"):
            raise _deleted(key, program, bool(loader.get_group_options(key)))


def _deleted(key: str, program: str, group: bool = False) -> TsbenchError:
    fix = (f"choose its option instead ({key}=<option>; {program} --help lists them)" if group
           else f"set it instead ({key}=<value>; {program} --cfg job shows its value)")
    return TsbenchError(f"~{key}: {program} reads {key}, and stops where it is deleted -> "
                        f"{fix}")


def run_setting_elsewhere(missing: str | None, config_name: str, program: str
                          ) -> TsbenchError | None:
    """The one-line error for a setting of a ``tsbench`` run (``seq_len``,
    ``trainer.num_threads``, ``model=dlinear``; ``model.kernel_size``, a setting of the
    runs with ``model=dlinear``, not of the default model) given to another program
    (``program``, whose config ``config_name`` lacks it): the setting is spelt right, only
    not read there; the fix names the settings ``program`` does read. None for any other
    setting."""
    if missing is None or config_name == "config":
        return None
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        run = compose("config")  # tsbench's defaults (Hydra's settings left out)
        own = [str(key) for key in compose(config_name) if key != "dataset"]
        in_default = _has_key(run, missing)
        having = [] if in_default else _run_options_having(missing)
    if not in_default and not having:
        return None
    whose = f" with {either(having)}" if having else ""
    return TsbenchError(f"{missing}: a setting of a tsbench run{whose}, not of {program} -> "
                        f"leave it out ({program} reads dataset=<name>, dataset.<field>, "
                        f"{', '.join(own)}; see {program} --help)")


def _has_key(config: DictConfig, key: str) -> bool:
    absent = object()
    return OmegaConf.select(config, key, default=absent,
                            throw_on_resolution_failure=False) is not absent


def _run_options_having(missing: str) -> list[str]:
    """The options of a run's config group whose run has the setting ``missing`` that the
    default run lacks (``model=dlinear`` for ``model.kernel_size``), each as its override;
    none where ``missing``'s first part is no group. Call it where Hydra is initialised."""
    if "." not in missing:
        return []
    group = missing.split(".")[0]
    options = GlobalHydra.instance().config_loader().get_group_options(group)
    return [f"{group}={option}" for option in options_having(
        missing, options, lambda overrides: compose("config", overrides=overrides))]


#: Where a setting added with ``+`` is read: a model's own hyperparameters (its constructor
#: refuses one it lacks), Hydra's settings, and the block a pruning sweep hands its trials.
READS_ADDED = ("model", "hydra", "pruning")
#: The CSV reader's settings (conf/dataset/csv.yaml's): every dataset is read by it, with a
#: default where its config leaves one out; but ``path``, which dataset=csv alone reads.
READER_SETTINGS = Path(__file__).parent / "conf" / "dataset" / "csv.yaml"


def unread_additions(overrides: list[str], config: DictConfig,
                     config_name: str = "config") -> list[str]:
    """The ``+key=value`` and ``++key=value`` overrides that add a setting tsbench reads
    nowhere (``+foo=1``, ``+trainer.accumulate_grad_batches=2``): a key the config composed
    without them lacks (``+`` on a null setting such as ``trainer.limit_train_batches`` sets
    it, as ``++`` on any setting does), not a config group, nor under :data:`READS_ADDED`,
    nor one tsbench reads with a default (:func:`read_with_default`)."""
    groups = set(OmegaConf.select(config, "hydra.runtime.choices", default={}) or {})
    defaulted = read_with_default(config)

    def unread(o: Override) -> bool:
        key = o.key_or_group
        return key not in groups and key not in defaulted and (
            key.split(".")[0] not in READS_ADDED)

    added = {line: o for line, o in zip(overrides, parse_each(overrides), strict=True)
             if (o.is_add() or o.is_force_add()) and unread(o)}
    if not added:
        return []
    base = check_settings([line for line in overrides if line not in added], config_name)
    absent = object()
    return [line for line in overrides if line in added and base is not None
            and OmegaConf.select(base, added[line].key_or_group, default=absent) is absent]


def read_with_default(config: DictConfig) -> set[str]:
    """The settings tsbench reads with a default where ``config`` leaves them out, so that
    ``+`` adds one that is read: the CSV reader's (:data:`READER_SETTINGS`) and, with
    ``optim.name=sgd``, ``optim.nesterov``."""
    reader = OmegaConf.load(READER_SETTINGS)
    read = {f"dataset.{key}" for key in reader if key != "path"}
    if OmegaConf.select(config, "optim.name", default=None) == "sgd":
        read.add("optim.nesterov")
    return read


#: A sweeper's search space or grid.
SWEEPER_PARAMS = "hydra.sweeper.params"


def check_sweeper_params(overrides: list[str]) -> None:
    """Refuse :data:`SWEEPER_PARAMS` set or added on the command line where the sweeper has
    none to change (null): Hydra's basic sweeper, ``tsbench -m``'s own, cannot merge a
    mapping or a key into them (a traceback), nor take a sweep of them. Its grid is the
    values swept on the command line, where the setting itself is swept; a search preset's
    or the skopt sweeper's params are changed this way. For a command that does not
    compose (:func:`check_settings`'s None)."""
    parsed = parse_each(overrides)
    given = [(line, o) for line, o in zip(overrides, parsed, strict=True)
             if f"{o.key_or_group}.".startswith(f"{SWEEPER_PARAMS}.")]
    if not given:
        return
    given = [line for line, _ in given]
    rest = at_first_values(parse_each([line for line in overrides if line not in given]))
    try:
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            config = compose("config", overrides=rest, return_hydra_config=True)
            presets = GlobalHydra.instance().config_loader().get_group_options("search")
    except Exception:  # noqa: BLE001 (it does not compose without them either: Hydra's to say)
        return
    if OmegaConf.select(config, SWEEPER_PARAMS) is not None:
        return
    sweeper = config.hydra.runtime.choices.get("hydra/sweeper")
    raise ConfigError(
        SWEEPER_PARAMS, f"a plain multirun's sweeper (hydra/sweeper={sweeper}, Hydra's basic "
        "one) takes no params from the command line: its grid is the values swept there",
        "sweep the setting itself (e.g. tsbench -m seq_len=96,336), or choose a sweeper "
        f"whose params it changes: a preset, search={', '.join(presets)}, or "
        "hydra/sweeper=skopt")


def check_params_unquoted(overrides: list[str]) -> None:
    """Refuse an unquoted sweep of a :data:`SWEEPER_PARAMS` entry
    (``hydra.sweeper.params.seq_len=28,56``), which Hydra takes for a sweep of its own
    settings ("Sweeping over Hydra's configuration is not supported", and a traceback hint),
    naming the quoted form."""
    for line, override in zip(overrides, parse_each(overrides), strict=True):
        if (f"{override.key_or_group}.".startswith(f"{SWEEPER_PARAMS}.")
                and override.is_sweep_override()):
            key, _, value = line.partition("=")
            raise TsbenchError(
                f"{line}: Hydra reads an unquoted sweep of a params entry as a sweep of its "
                "own settings -> quote the values for Hydra inside the shell's quotes: "
                f"'{key}=\"{value}\"'")


#: The endings of the data files a bare argument names (``tsbench-analyze load.csv``).
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".gz", ".bz2", ".xz", ".zip", ".zst")


def refuse_a_file(overrides: list[str], program: str) -> None:
    """Refuse a bare data file among ``program``'s overrides (``tsbench-analyze load.csv``:
    an existing file, or a name with a data file's ending) in one line naming the setting
    that reads it; Hydra's own error is about the override's syntax and its quoting."""
    for line in overrides:
        if "=" in line or line.startswith("~") and not line.startswith("~/"):
            continue  # a setting, or a deletion (~key)
        path = Path(line).expanduser()
        if path.is_file() or path.suffix.lower() in DATA_SUFFIXES:
            raise TsbenchError(f"{line}: {program} takes settings, not a file -> use "
                               f"dataset=csv {shell_override('dataset.path', line)}")


def parse_each(overrides: list[str]) -> list[Override]:
    """Hydra's parse of ``overrides``; one it cannot read is named in one line, with the
    quoting that a value of Hydra's special characters needs (Hydra's own error shows its
    parser's state)."""
    parser = OverridesParser.create()
    parsed = []
    for line in overrides:
        try:
            parsed += parser.parse_overrides([line])
        except HydraException as error:
            unknown = UNKNOWN_FUNCTION.search(str(error))
            if unknown is not None:
                raise _unknown_function(line, unknown[1], unknown[2].split(",")) from None
            said = " ".join(str(error).split("\n")[0].split())
            raise TsbenchError(
                f"cannot read the override {line!r} ({said}) -> check its syntax; a value "
                "holding , ; : = ( ) [ ] { } or spaces needs Hydra's quotes inside the "
                "shell's, e.g. \"dataset.sep=';'\" or \"dataset.decimal=','\"") from None
    return parsed


#: Hydra's error for a sweep function it does not have (``choise(96,168)``), and its list.
UNKNOWN_FUNCTION = re.compile(r"Unknown function '([^']+)'\s+Available: (\S+)")


def _unknown_function(line: str, name: str, available: list[str]) -> TsbenchError:
    """One line for a misspelt sweep function, with the one meant where one is close."""
    meant = closest_all(name, available)
    guess = f"did you mean {either([f'{m}(...)' for m in meant])}? Else use" if meant else "use"
    return TsbenchError(f"{line}: Hydra has no function {name!r} -> {guess} one of "
                        f"{', '.join(available)} (choice, range and interval sweep)")


def _check_one_option(parsed: list[Override]) -> None:
    """Refuse a list of options for one of the config's own groups (``logger=[tensorboard,
    mlflow]``, also as a sweep's value): Hydra merges their configs into one node, where
    the last option's ``name`` wins, so only it would act (the others' settings, such as
    MLflow's sweep callback, left behind). Each group holds one option. Call it where
    Hydra is initialised."""
    groups = set(GlobalHydra.instance().config_loader().list_groups("")) - {"hydra"}
    for override in parsed:
        group = override.key_or_group
        if group not in groups:
            continue
        value = override.value()
        values = value.list if override.is_sweep_override() and hasattr(value, "list") \
            else [value]
        for options in values:
            if isinstance(options, list) and len(set(map(str, options))) > 1:
                one = " or ".join(f"{group}={o}" for o in options)
                raise TsbenchError(
                    f"{override.input_line}: a run takes one {group} option, and Hydra "
                    f"merges a list of them into one config, where the last one's name wins "
                    f"(only {group}={options[-1]} would act) -> give one: {one} (tsbench -m "
                    f"{group}={','.join(map(str, options))} runs one run with each)")


def _check_swept_options(parsed: list[Override], single: list[str], config: DictConfig,
                         config_name: str) -> None:
    """Raise :func:`unknown_option`'s error for an option after the first of a swept config
    group that the group lacks (one the search path alone has is composed to be sure)."""
    groups = config.hydra.runtime.choices
    loader = GlobalHydra.instance().config_loader()
    for i, override in enumerate(parsed):
        key = override.get_key_element().lstrip("+")
        if key not in groups or not override.is_sweep_override():
            continue
        try:
            values = list(override.sweep_string_iterator())
        except HydraException:
            continue  # an interval: no options to list
        known = set(loader.get_group_options(key))
        for value in values[1:]:
            if value not in known:
                try:
                    compose(config_name,
                            overrides=[*single[:i], f"{key}={value}", *single[i + 1:]])
                except Exception as exc:  # noqa: BLE001 - only a missing option is ours
                    error = unknown_option(exc)
                    if error is not None:
                        raise error from None


def _group_choices(parsed: list[Override], single: list[str], missing: str | None,
                   config_name: str) -> dict[str, list[str]]:
    """Each config group chosen on the command line (``strategy=direct,recursive``): the
    option composed, then the other options given whose config has the ``missing`` setting
    (composed once each, on this error's path only). A swept group none of whose other
    options has it is left out: the setting is then misspelt."""
    choices = {}
    for i, override in enumerate(parsed):
        key = override.get_key_element()
        if "." in key or "/" in key or key.startswith(("+", "~")):
            continue
        try:
            values = list(override.sweep_string_iterator()) if override.is_sweep_override() \
                else [str(override.value())]
        except HydraException:
            continue
        choices.pop(key, None)  # the last override of a group is the one composed
        if missing is None or not missing.startswith(f"{key}.") or len(values) == 1:
            choices[key] = values
            continue
        having = [v for v in values[1:]
                  if _has_setting(single, i, f"{key}={v}", missing, config_name)]
        if having:
            choices[key] = [values[0], *having]
    return choices


def _default_choice(single: list[str], missing: str | None, config_name: str
                    ) -> tuple[str, list[str]] | None:
    """For a ``missing`` setting of a config group the command line does not choose
    (``strategy.step`` under the default ``strategy=direct``): the group, its default
    option, then its other options that have the setting (composed once each, on this
    error's path only). None where the setting's first part is no config group."""
    if missing is None or "." not in missing:
        return None
    group = missing.split(".")[0]
    kept = [o for o in single if not o.lstrip("+~").startswith(f"{group}.")]
    try:
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            config = compose(config_name, overrides=kept, return_hydra_config=True)
            options = GlobalHydra.instance().config_loader().get_group_options(group)
    except Exception:  # noqa: BLE001 - not composable without it either: say nothing more
        return None
    default = OmegaConf.select(config, f"hydra.runtime.choices.{group}", default=None)
    if default is None:
        return None
    return str(default), [o for o in options if o != default
                          and _has_setting(single, len(single), f"{group}={o}", missing,
                                           config_name)]


#: Other libraries' names of settings of a run (config.yaml), which no spelling makes close.
OTHER_NAMES = {"horizon": "pred_len", "forecast_horizon": "pred_len",
               "prediction_length": "pred_len", "lookback": "seq_len", "look_back": "seq_len",
               "context_length": "seq_len", "input_size": "seq_len"}


def near_setting(overrides: list[str], missing: str | None, config_name: str = "config"
                 ) -> str | None:
    """The setting another library names ``missing`` (:data:`OTHER_NAMES`), else the
    setting closest in spelling to the ``missing`` one, each of its parts
    (``trainr.max_epoch`` -> ``trainer.max_epochs``) among the keys at that level of the
    config ``overrides`` compose without those of ``missing``; None where a part has none
    close (:func:`~tsbench.errors.closest`), or ``missing`` is None."""
    if missing is None:
        return None
    if missing in OTHER_NAMES and config_name == "config":  # tsbench's run settings
        return OTHER_NAMES[missing]
    kept = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") != missing]
    try:
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            config = compose(config_name, overrides=kept, return_hydra_config=True)
    except Exception:  # noqa: BLE001 - not composable without it either: say nothing more
        return None
    parts: list[str] = []
    for part in missing.split("."):
        node = OmegaConf.select(config, ".".join(parts), throw_on_resolution_failure=False)
        if not isinstance(node, DictConfig):
            return None
        keys = [str(k) for k in node.keys()]
        found = part if part in keys else closest(part, keys)
        if found is None:
            return None
        parts.append(found)
    return None if parts == missing.split(".") else ".".join(parts)


def _has_setting(single: list[str], index: int, choice: str, setting: str,
                 config_name: str) -> bool:
    """Whether the command ``single`` with its override ``index`` replaced by ``choice``
    composes a config that has ``setting``."""
    overrides = [*single[:index], choice, *single[index + 1:]]
    try:
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            compose(config_name, overrides=overrides)
    except Exception as exc:  # noqa: BLE001 - only the same missing setting counts
        return missing_setting(exc) != setting
    return True


def at_first_values(parsed: list[Override]) -> list[str]:
    """The overrides with each sweep at its first value (null for an interval)."""
    return [o.input_line if not o.is_sweep_override() else
            f"{o.get_key_element()}={_first_value(o)}" for o in parsed]


def _first_value(override: Override) -> str:
    try:
        return next(override.sweep_string_iterator())
    except (HydraException, StopIteration):
        return "null"


def target_not_alone(overrides: list[str], cfg: DictConfig) -> list[str]:
    """A warning for ``dataset.target=`` given with ``features=M`` (the default): every
    column is forecast and scored, and the target names only the plotted one; a user
    naming a column means to score it. None for a target that the CSV file's header lacks,
    or a ``dataset=csv`` file it cannot read (a path that does not exist): the run refuses
    them, naming the file's columns or the path, and a warning before would be noise."""
    given = [o for o in parse_each(overrides) if o.key_or_group == "dataset.target"]
    if not given or cfg.get("features") != "M":
        return []
    target = OmegaConf.select(cfg, "dataset.target", throw_on_resolution_failure=False)
    if target is None:  # a ${...} no value resolves: a sweep's trial says so (a run's check)
        return []
    from tsbench.data.loading import csv_columns  # pandas: only where a target is given

    columns = csv_columns(cfg.dataset)
    if columns is None and str(cfg.dataset.name) == "csv":  # a file the run cannot read
        return []
    if columns is not None and str(target) not in columns:
        return []
    return [f"dataset.target={target} with features=M: every column is "
            f"forecast and scored (test_mse is their mean), {target} only plotted -> add "
            f"features=MS to score {target} alone from all columns, or features=S to forecast "
            "it from itself"]
