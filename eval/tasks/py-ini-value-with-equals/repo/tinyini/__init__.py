"""A small INI reader."""

from .parser import ParseError, get_bool, get_int, parse

__all__ = ["ParseError", "get_bool", "get_int", "parse"]
