import unittest

from tinyini import ParseError, get_bool, get_int, parse

TEXT = """
; global settings
name = demo

[server]
Host = example.com
port = 8080
debug = yes
# trailing comment
"""


class ParseTest(unittest.TestCase):
    def test_parses_sections(self):
        config = parse(TEXT)
        self.assertEqual(config[""], {"name": "demo"})
        self.assertEqual(config["server"], {"host": "example.com", "port": "8080", "debug": "yes"})

    def test_typed_getters(self):
        config = parse(TEXT)
        self.assertEqual(get_int(config, "server", "port"), 8080)
        self.assertTrue(get_bool(config, "server", "DEBUG"))
        self.assertEqual(get_int(config, "server", "missing", 5), 5)

    def test_empty_value(self):
        self.assertEqual(parse("[a]\nkey =\n")["a"], {"key": ""})

    def test_rejects_lines_without_equals(self):
        with self.assertRaises(ParseError):
            parse("[a]\njust some words\n")
        with self.assertRaises(ParseError):
            parse("= value\n")


if __name__ == "__main__":
    unittest.main()
