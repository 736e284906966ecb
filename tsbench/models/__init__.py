"""Forecasting models; each is configured by ``conf/model/<name>.yaml``."""
