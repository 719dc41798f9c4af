import unittest

from pageranges import contains, format_ranges, merge, normalize, parse


class RangesTest(unittest.TestCase):
    def test_parses_ranges(self):
        self.assertEqual(parse("1-3, 7,9-10"), [(1, 3), (7, 7), (9, 10)])
        self.assertEqual(parse(""), [])

    def test_rejects_bad_ranges(self):
        for text in ("a-b", "5-2", "0", "3-"):
            with self.assertRaises(ValueError):
                parse(text)

    def test_merges_overlapping_and_adjacent(self):
        self.assertEqual(merge([(1, 3), (2, 5), (6, 6), (9, 9)]), [(1, 6), (9, 9)])

    def test_formats_ranges(self):
        self.assertEqual(format_ranges([(1, 6), (9, 9)]), "1-6,9")

    def test_normalizes(self):
        self.assertEqual(normalize("1-3, 2-5, 8"), "1-5,8")

    def test_contains(self):
        self.assertTrue(contains([(1, 3), (7, 7)], 7))
        self.assertFalse(contains([(1, 3), (7, 7)], 5))


if __name__ == "__main__":
    unittest.main()
