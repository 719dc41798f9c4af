import os
import tempfile
import unittest

from envfile import load, parse


class ParseTest(unittest.TestCase):
    def test_parses_plain_values(self):
        self.assertEqual(parse("A=1\nB = two \n"), {"A": "1", "B": "two"})

    def test_skips_comments_and_blank_lines(self):
        self.assertEqual(parse("# comment\n\n  # indented\nA=1\n"), {"A": "1"})

    def test_drops_inline_comments(self):
        self.assertEqual(parse("PORT=8080 # web\n"), {"PORT": "8080"})

    def test_accepts_export(self):
        self.assertEqual(parse("export DEBUG=1\n"), {"DEBUG": "1"})

    def test_rejects_malformed_lines(self):
        with self.assertRaises(ValueError):
            parse("NOT A LINE\n")
        with self.assertRaises(ValueError):
            parse("1BAD=x\n")

    def test_empty_value(self):
        self.assertEqual(parse("EMPTY=\n"), {"EMPTY": ""})


class LoadTest(unittest.TestCase):
    def test_load_keeps_existing_values(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, ".env")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write("A=from-file\nB=from-file\n")
            env = {"A": "already"}
            load(path, env)
            self.assertEqual(env, {"A": "already", "B": "from-file"})


if __name__ == "__main__":
    unittest.main()
