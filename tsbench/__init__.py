"""tsbench: benchmark and tune deep time-series forecasters with Hydra and Lightning."""

from tsbench.code_digest import record_imports

__version__ = "0.1.0"

# before any other module of the package is imported: a run's card names the code it runs
record_imports()
