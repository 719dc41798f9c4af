"""Inclusive integer ranges as (start, end) tuples."""


def parse(text):
    """The ranges of a comma-separated list such as "1-3, 7, 9-10"."""
    ranges = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        start, sep, end = part.partition("-")
        try:
            low = int(start)
            high = int(end) if sep else low
        except ValueError:
            raise ValueError(f"not a page range: {part!r}") from None
        if low < 1 or high < low:
            raise ValueError(f"not a page range: {part!r}")
        ranges.append((low, high))
    return ranges


def merge(ranges):
    """Overlapping and adjacent ranges merged into one."""
    merged = []
    for start, end in ranges:
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def format_ranges(ranges):
    """Ranges printed as "1-3,7"."""
    return ",".join(str(start) if start == end else f"{start}-{end}" for start, end in ranges)


def normalize(text):
    """A range list printed in its shortest form."""
    return format_ranges(merge(parse(text)))


def contains(ranges, page):
    """Whether page lies in one of the ranges."""
    return any(start <= page <= end for start, end in ranges)
