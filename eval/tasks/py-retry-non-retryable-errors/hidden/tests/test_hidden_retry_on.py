import unittest

from retrying import RetryError, retry


class Flaky:
    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class RetryOnTest(unittest.TestCase):
    def test_other_errors_propagate_immediately(self):
        sleeps = []
        fn = Flaky(ValueError("bad input"))
        with self.assertRaises(ValueError) as caught:
            retry(fn, attempts=3, retry_on=(ConnectionError,), sleep=sleeps.append)
        self.assertEqual(str(caught.exception), "bad input")
        self.assertEqual(fn.calls, 1)
        self.assertEqual(sleeps, [])

    def test_other_error_after_a_transient_one(self):
        fn = Flaky(ConnectionError(), KeyError("k"))
        with self.assertRaises(KeyError):
            retry(fn, attempts=5, retry_on=(ConnectionError,), sleep=lambda _: None)
        self.assertEqual(fn.calls, 2)

    def test_subclasses_are_retried(self):
        fn = Flaky(ConnectionResetError(), ConnectionRefusedError())
        self.assertEqual(retry(fn, attempts=3, retry_on=(ConnectionError,), sleep=lambda _: None), "ok")

    def test_no_sleep_after_the_last_attempt(self):
        sleeps = []
        fn = Flaky(TimeoutError(), TimeoutError(), TimeoutError())
        with self.assertRaises(RetryError):
            retry(fn, attempts=3, retry_on=(TimeoutError,), base_delay=0.1, max_delay=5, sleep=sleeps.append)
        self.assertEqual(sleeps, [0.1, 0.2])

    def test_sleeps_between_attempts_only(self):
        sleeps = []
        fn = Flaky(TimeoutError(), TimeoutError())
        self.assertEqual(retry(fn, attempts=3, retry_on=(TimeoutError,), base_delay=1, max_delay=1.5, sleep=sleeps.append), "ok")
        self.assertEqual(sleeps, [1, 1.5])

    def test_default_retries_any_exception(self):
        fn = Flaky(RuntimeError(), ValueError())
        self.assertEqual(retry(fn, attempts=3, sleep=lambda _: None), "ok")


if __name__ == "__main__":
    unittest.main()
