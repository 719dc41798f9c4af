"""Shell-style variable expansion."""

from .config import expand_config
from .expand import expand

__all__ = ["expand", "expand_config"]
