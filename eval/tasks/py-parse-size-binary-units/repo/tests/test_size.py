import unittest

from bytesize import format_size, parse_size


class ParseTest(unittest.TestCase):
    def test_parses_plain_bytes(self):
        self.assertEqual(parse_size("512"), 512)
        self.assertEqual(parse_size("512B"), 512)
        self.assertEqual(parse_size(" 7 b "), 7)

    def test_rejects_garbage(self):
        for text in ("", "ten", "10 XB", "-5", "1.5"):
            with self.assertRaises(ValueError):
                parse_size(text)


class FormatTest(unittest.TestCase):
    def test_formats_small_sizes(self):
        self.assertEqual(format_size(0), "0 B")
        self.assertEqual(format_size(999), "999 B")

    def test_rejects_negative(self):
        with self.assertRaises(ValueError):
            format_size(-1)


if __name__ == "__main__":
    unittest.main()
