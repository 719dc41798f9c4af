"""Backoff schedules."""


def delays(base_delay, max_delay):
    """Endless waits: base_delay, doubled each time, never more than max_delay."""
    if base_delay < 0 or max_delay < 0:
        raise ValueError("delays must not be negative")
    delay = base_delay
    while True:
        yield min(delay, max_delay)
        delay *= 2
