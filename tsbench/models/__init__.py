"""Forecasting models; each is configured by ``conf/model/<name>.yaml``.
:func:`check_model` checks a model (yours too) against the contract every model follows."""

from tsbench.models.contract import ContractError, check_model

__all__ = ["ContractError", "check_model"]
