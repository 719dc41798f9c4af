import unittest

from retrying import RetryError, delays, retry


class Flaky:
    """Fails with the given errors, then returns "ok"."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class RetryTest(unittest.TestCase):
    def test_returns_first_success(self):
        sleeps = []
        self.assertEqual(retry(Flaky(), sleep=sleeps.append), "ok")
        self.assertEqual(sleeps, [])

    def test_retries_transient_errors(self):
        fn = Flaky(ConnectionError(), TimeoutError())
        self.assertEqual(retry(fn, attempts=3, retry_on=(ConnectionError, TimeoutError), sleep=lambda _: None), "ok")
        self.assertEqual(fn.calls, 3)

    def test_gives_up_with_retry_error(self):
        fn = Flaky(ConnectionError("a"), ConnectionError("b"), ConnectionError("c"))
        with self.assertRaises(RetryError) as caught:
            retry(fn, attempts=3, sleep=lambda _: None)
        self.assertEqual(caught.exception.attempts, 3)
        self.assertEqual(str(caught.exception.__cause__), "c")

    def test_rejects_zero_attempts(self):
        with self.assertRaises(ValueError):
            retry(Flaky(), attempts=0)


class DelaysTest(unittest.TestCase):
    def test_doubles_up_to_the_cap(self):
        schedule = delays(0.5, 3)
        self.assertEqual([next(schedule) for _ in range(5)], [0.5, 1.0, 2.0, 3, 3])


if __name__ == "__main__":
    unittest.main()
