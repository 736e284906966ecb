"""A user's model module whose own import fails (a package it needs is not installed)."""

import not_installed_anywhere  # noqa: F401
