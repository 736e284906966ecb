"""Hydra sweeper plugin ``hydra/sweeper=skopt``: scikit-optimize search for tsbench."""
