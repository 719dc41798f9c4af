"""Expand $NAME and ${NAME} in strings."""

import os
import re

VARIABLE = re.compile(r"\$(?:(?P<plain>[A-Za-z_][A-Za-z0-9_]*)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\})")


def expand(text, env=None):
    """text with each $NAME or ${NAME} replaced by its value in env (os.environ by default)."""
    values = os.environ if env is None else env

    def replace(match):
        name = match.group("plain") or match.group("braced")
        return values.get(name, "")

    return VARIABLE.sub(replace, text)
