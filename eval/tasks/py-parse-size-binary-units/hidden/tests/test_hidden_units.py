import unittest

from bytesize import format_size, parse_size


class SiUnitsTest(unittest.TestCase):
    def test_si_units_are_powers_of_1000(self):
        self.assertEqual(parse_size("10KB"), 10_000)
        self.assertEqual(parse_size("10 MB"), 10_000_000)
        self.assertEqual(parse_size("1.5GB"), 1_500_000_000)
        self.assertEqual(parse_size("2tb"), 2_000_000_000_000)

    def test_formats_with_si_units(self):
        self.assertEqual(format_size(1000), "1 KB")
        self.assertEqual(format_size(1_500_000), "1.5 MB")
        self.assertEqual(format_size(1024), "1 KB")


class BinaryUnitsTest(unittest.TestCase):
    def test_parses_binary_units(self):
        self.assertEqual(parse_size("10KiB"), 10_240)
        self.assertEqual(parse_size("1 MiB"), 1_048_576)
        self.assertEqual(parse_size("2gib"), 2 * 1024**3)
        self.assertEqual(parse_size("0.5 KiB"), 512)
        self.assertEqual(parse_size("1TiB"), 1024**4)

    def test_formats_binary_units_on_request(self):
        self.assertEqual(format_size(1536, binary=True), "1.5 KiB")
        self.assertEqual(format_size(1_048_576, binary=True), "1 MiB")
        self.assertEqual(format_size(1000, binary=True), "1000 B")

    def test_binary_round_trip(self):
        for size in (1024, 1536, 3 * 1024**3):
            self.assertEqual(parse_size(format_size(size, binary=True)), size)

    def test_still_rejects_garbage(self):
        for text in ("10 KIBB", "1.3 B", "5 kbit"):
            with self.assertRaises(ValueError):
                parse_size(text)


if __name__ == "__main__":
    unittest.main()
