import unittest

from textstats import reading_time, top_words, unique_words, word_count, words


class StatsTest(unittest.TestCase):
    def test_splits_plain_words(self):
        self.assertEqual(words("The cat  sat\non the mat"), ["the", "cat", "sat", "on", "the", "mat"])

    def test_counts_words(self):
        self.assertEqual(word_count("The cat sat on the mat"), 6)
        self.assertEqual(word_count(""), 0)

    def test_counts_unique_words(self):
        self.assertEqual(unique_words("The cat sat on the mat"), 5)

    def test_top_words(self):
        self.assertEqual(top_words("the cat and the hat", 2), [("the", 2), ("cat", 1)])

    def test_reading_time(self):
        self.assertEqual(reading_time("word " * 400), 2.0)
        self.assertEqual(reading_time("word " * 100, words_per_minute=50), 2.0)


if __name__ == "__main__":
    unittest.main()
