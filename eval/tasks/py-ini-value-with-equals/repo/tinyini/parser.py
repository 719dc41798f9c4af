"""Parse INI text into {section: {key: value}}."""


class ParseError(ValueError):
    """A line that is neither a section, a key = value pair, a comment nor blank."""


def parse(text):
    """The sections of INI text; later keys replace earlier ones."""
    sections = {"": {}}
    current = sections[""]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            current = sections.setdefault(name, {})
            continue
        parts = line.split("=")
        if len(parts) < 2 or not parts[0].strip():
            raise ParseError(f"line {number}: expected key = value, got {raw!r}")
        current[parts[0].strip().lower()] = parts[1].strip()
    return sections


def get_int(sections, section, key, default=None):
    """The value as an int, or default when missing."""
    value = sections.get(section, {}).get(key.lower())
    return default if value is None else int(value)


def get_bool(sections, section, key, default=False):
    """The value as a bool: yes/true/on/1 or no/false/off/0 (any case)."""
    value = sections.get(section, {}).get(key.lower())
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("yes", "true", "on", "1"):
        return True
    if lowered in ("no", "false", "off", "0"):
        return False
    raise ValueError(f"not a boolean: {value!r}")
