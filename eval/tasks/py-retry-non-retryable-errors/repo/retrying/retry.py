"""Call a function until it succeeds or the attempts run out."""

import time

from .backoff import delays


class RetryError(Exception):
    """Every attempt failed; __cause__ is the last error."""

    def __init__(self, message, attempts):
        super().__init__(message)
        self.attempts = attempts


def retry(fn, attempts=3, retry_on=(Exception,), base_delay=0.1, max_delay=5.0, sleep=time.sleep):
    """fn()'s result, calling it again after an error of a type in retry_on, up to attempts calls."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    last_error = None
    for delay in _take(delays(base_delay, max_delay), attempts):
        try:
            return fn()
        except Exception as error:
            last_error = error
            sleep(delay)
    raise RetryError(f"gave up after {attempts} attempts: {last_error!r}", attempts) from last_error


def _take(iterable, count):
    """The first count items of an iterable."""
    for index, item in enumerate(iterable):
        if index >= count:
            return
        yield item
