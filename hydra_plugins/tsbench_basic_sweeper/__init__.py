"""Hydra sweeper plugin ``hydra/sweeper=basic_resumable``: Hydra's basic sweeper, resumable."""
