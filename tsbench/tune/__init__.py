"""The tuning recipe (``tsbench-tune``): stages of ordinary tsbench runs and sweeps, and
ensembles of their best runs."""
