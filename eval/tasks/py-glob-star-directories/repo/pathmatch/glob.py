"""Translate glob patterns into regular expressions and match paths."""

import functools
import re


@functools.lru_cache(maxsize=256)
def translate(pattern):
    """A compiled regular expression matching the whole of a path the pattern matches."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append(".*")
            i += 1
        elif ch == "?":
            out.append(".")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
                continue
            body = pattern[i + 1:end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def match(pattern, path):
    """Whether the whole path matches the glob pattern."""
    return translate(pattern).fullmatch(path) is not None


def select(patterns, paths):
    """The paths matching at least one of the patterns, in their order."""
    return [path for path in paths if any(match(pattern, path) for pattern in patterns)]
