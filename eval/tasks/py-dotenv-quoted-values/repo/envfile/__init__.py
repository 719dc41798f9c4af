"""Read .env files."""

from .parser import parse, load

__all__ = ["parse", "load"]
