import unittest

from textstats import reading_time, top_words, unique_words, word_count, words


class PunctuationTest(unittest.TestCase):
    def test_punctuation_is_not_part_of_a_word(self):
        self.assertEqual(words("Hello, world. (Really?) \"Yes!\""), ["hello", "world", "really", "yes"])

    def test_top_words_merge_punctuated_forms(self):
        text = "Hello world. Hello, world! The world?"
        self.assertEqual(top_words(text, 2), [("world", 3), ("hello", 2)])

    def test_unique_words_ignore_punctuation(self):
        self.assertEqual(unique_words("Stop. stop, STOP!"), 1)

    def test_dashes_and_symbols_are_not_words(self):
        self.assertEqual(word_count("this - that -- and ... more"), 4)
        self.assertEqual(words("wait\u2014what"), ["wait", "what"])

    def test_apostrophes_and_hyphens_inside_words(self):
        self.assertEqual(words("Don't stop; it's state-of-the-art."), ["don't", "stop", "it's", "state-of-the-art"])

    def test_letters_beyond_ascii(self):
        self.assertEqual(words("Café, naïve: Ærø!"), ["café", "naïve", "ærø"])

    def test_numbers_are_words(self):
        self.assertEqual(words("Chapter 12, page 3."), ["chapter", "12", "page", "3"])

    def test_reading_time_counts_real_words(self):
        self.assertEqual(reading_time("word - " * 200), 1.0)

    def test_plain_text_unchanged(self):
        self.assertEqual(word_count("The cat sat on the mat"), 6)
        self.assertEqual(top_words("the cat and the hat", 2), [("the", 2), ("cat", 1)])


if __name__ == "__main__":
    unittest.main()
