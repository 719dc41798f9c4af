"""Parse KEY=value lines of a .env file."""

import os
import re

KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse(text):
    """The variables of a .env file's text, as a dict of strings (later lines win)."""
    result = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not KEY.match(key):
            raise ValueError(f"line {number}: expected KEY=value, got {raw!r}")
        result[key] = _value(value)
    return result


def _value(text):
    """A value as written after the '=': an inline comment dropped, surrounding blanks removed."""
    return text.split("#", 1)[0].strip()


def load(path, environ=None):
    """Parses the file at path and sets each variable in environ (os.environ by default) unless set."""
    env = os.environ if environ is None else environ
    with open(path, encoding="utf-8") as handle:
        values = parse(handle.read())
    for key, value in values.items():
        env.setdefault(key, value)
    return values
