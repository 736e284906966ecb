"""Bayesian and random search with scikit-optimize, run as a Hydra sweeper.

The Hydra plugin in ``hydra_plugins/tsbench_skopt_sweeper`` is a thin shim around
:class:`tsbench.search.sweep.SkoptSweep` (the ask -> launch -> tell loop). The other
modules each do one job: ``settings`` (``hydra.sweeper.*``), ``space`` (override
grammar -> skopt dimensions), ``constraints``, ``validate`` (checks before any trial),
``optimizer`` and ``gbrt`` (skopt set-up), ``proposer`` (feasible, new points only),
``faults`` (failed trials, penalty, failure rate), ``timing``, ``trials``
(trials.csv), ``report`` (best.yaml, log line), ``plots`` and ``files`` (atomic writes).
"""
