import unittest

from linediff import diff, stats


def side(ops, keep):
    return [line for op, line in ops if op in keep]


class TrailingLinesTest(unittest.TestCase):
    def test_lines_added_at_the_end(self):
        self.assertEqual(diff(["a"], ["a", "b", "c"]), [(" ", "a"), ("+", "b"), ("+", "c")])

    def test_lines_removed_at_the_end(self):
        self.assertEqual(diff(["a", "b", "c"], ["a"]), [(" ", "a"), ("-", "b"), ("-", "c")])

    def test_empty_sides(self):
        self.assertEqual(diff([], ["x", "y"]), [("+", "x"), ("+", "y")])
        self.assertEqual(diff(["x"], []), [("-", "x")])
        self.assertEqual(diff([], []), [])

    def test_ops_rebuild_both_sides(self):
        cases = [
            (["a", "b", "c", "d"], ["b", "d", "e", "f"]),
            (["x", "y"], ["p", "q", "r"]),
            (["same", "tail"], ["new head", "same"]),
        ]
        for a, b in cases:
            ops = diff(a, b)
            self.assertEqual(side(ops, " -"), a)
            self.assertEqual(side(ops, " +"), b)

    def test_stats_count_trailing_lines(self):
        self.assertEqual(stats(diff(["a"], ["a", "b"])), {"added": 1, "removed": 0, "unchanged": 1})

    def test_middle_changes_unchanged(self):
        self.assertEqual(diff(["a", "b", "c"], ["a", "x", "c"]), [(" ", "a"), ("-", "b"), ("+", "x"), (" ", "c")])


if __name__ == "__main__":
    unittest.main()
