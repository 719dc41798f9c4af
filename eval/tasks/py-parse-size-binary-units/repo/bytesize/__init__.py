"""Sizes in bytes: parse "10 MB", print 1500000 as "1.5 MB"."""

from .size import format_size, parse_size

__all__ = ["format_size", "parse_size"]
