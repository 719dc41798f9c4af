import unittest

from linediff import diff, render, stats


class DiffTest(unittest.TestCase):
    def test_replaces_a_middle_line(self):
        self.assertEqual(diff(["a", "b", "c"], ["a", "x", "c"]), [(" ", "a"), ("-", "b"), ("+", "x"), (" ", "c")])

    def test_identical_lists(self):
        self.assertEqual(diff(["a", "b"], ["a", "b"]), [(" ", "a"), (" ", "b")])

    def test_inserts_in_the_middle(self):
        self.assertEqual(diff(["a", "c"], ["a", "b", "c"]), [(" ", "a"), ("+", "b"), (" ", "c")])

    def test_renders_and_counts(self):
        ops = diff(["a", "b", "c"], ["a", "x", "c"])
        self.assertEqual(render(ops), " a\n-b\n+x\n c")
        self.assertEqual(stats(ops), {"added": 1, "removed": 1, "unchanged": 2})


if __name__ == "__main__":
    unittest.main()
