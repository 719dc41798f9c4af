"""Parse and format sizes in bytes."""

import re

UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}

SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(text):
    """The number of bytes a size such as "10 MB" or "512" stands for."""
    match = SIZE.match(str(text))
    if not match:
        raise ValueError(f"not a size: {text!r}")
    number, unit = match.groups()
    factor = UNITS.get(unit.lower() or "b")
    if factor is None:
        raise ValueError(f"unknown unit in {text!r}")
    value = float(number) * factor
    if value != int(value):
        raise ValueError(f"not a whole number of bytes: {text!r}")
    return int(value)


def format_size(size):
    """A size in bytes written with the largest unit that keeps the number at least 1 ("1.5 MB")."""
    if size < 0:
        raise ValueError("size must not be negative")
    for unit in ("TB", "GB", "MB", "KB"):
        factor = UNITS[unit.lower()]
        if size >= factor:
            return f"{size / factor:.1f}".rstrip("0").rstrip(".") + " " + unit
    return f"{size} B"
