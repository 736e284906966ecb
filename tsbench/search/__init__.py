"""Bayesian and random search with scikit-optimize, run as a Hydra sweeper.

The Hydra plugin in ``hydra_plugins/tsbench_skopt_sweeper`` is a thin shim around
:class:`tsbench.search.sweep.SkoptSweep` (checks, resume). The other modules each do
one job: ``loop`` (propose -> launch -> record each ended trial), ``slots`` (refill at
once through one-job launcher calls), ``settings`` (``hydra.sweeper.*``), ``space``
(override grammar -> skopt dimensions), ``constraints``, ``validate`` (checks before any
trial), ``definition`` (search.yaml, checked on resume), ``optimizer`` and ``gbrt`` (skopt
set-up), ``proposer`` (feasible, new points; pending ones lied about), ``faults`` (failed
and pruned trials told to the surrogate, failure rate), ``timing``, ``trials``
(trials.csv), ``record`` (launch log, per-epoch reports), ``rebuild`` (a resumed sweep's
trials to run again or adopt, and the optimizer's replay), ``pruning`` (ASHA and median
rules, the trial's reporter; no torch, so training imports it), ``report`` (best.yaml,
log lines), ``plots`` and ``names`` (the record files and trial states, for readers that
need no skopt), ``seeds`` (the plain multirun that runs more seeds of a chosen
configuration), ``preset_settings`` (a search preset's settings written out as overrides,
for that multirun), ``seed_refusal`` (no search over ``seed``) and ``composition``
(tsbench's config composed before Hydra runs).
"""
