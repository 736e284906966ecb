"""Experiment tracking beyond Lightning's per-run loggers (MLflow sweep parents)."""
