"""Glob matching for relative paths."""

from .glob import match, select, translate

__all__ = ["match", "select", "translate"]
