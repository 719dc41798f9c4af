"""Page ranges: parse "1-3,7", merge, print."""

from .ranges import contains, format_ranges, merge, normalize, parse

__all__ = ["contains", "format_ranges", "merge", "normalize", "parse"]
