import unittest

from pageranges import merge, normalize


class UnsortedRangesTest(unittest.TestCase):
    def test_normalizes_unsorted_single_digit_ranges(self):
        self.assertEqual(normalize("8-9,1-3,4-5"), "1-5,8-9")

    def test_normalizes_unsorted_multi_digit_ranges(self):
        self.assertEqual(normalize("10-12,1-3,4-6"), "1-6,10-12")
        self.assertEqual(normalize("100,20-30,3"), "3,20-30,100")
        self.assertEqual(normalize("12,9-11,2"), "2,9-12")

    def test_merges_unsorted_tuples(self):
        self.assertEqual(merge([(5, 7), (1, 3)]), [(1, 3), (5, 7)])
        self.assertEqual(merge([(10, 12), (1, 3), (4, 9)]), [(1, 12)])

    def test_merge_does_not_change_its_argument(self):
        ranges = [(5, 7), (1, 3)]
        merge(ranges)
        self.assertEqual(ranges, [(5, 7), (1, 3)])

    def test_sorted_input_unchanged(self):
        self.assertEqual(normalize("1-3, 2-5, 8"), "1-5,8")


if __name__ == "__main__":
    unittest.main()
