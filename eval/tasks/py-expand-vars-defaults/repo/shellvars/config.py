"""Expand variables in every string of a configuration structure."""

from .expand import expand


def expand_config(value, env=None):
    """A copy of value (dicts, lists and scalars) with variables expanded in every string."""
    if isinstance(value, str):
        return expand(value, env)
    if isinstance(value, dict):
        return {key: expand_config(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_config(item, env) for item in value]
    return value
