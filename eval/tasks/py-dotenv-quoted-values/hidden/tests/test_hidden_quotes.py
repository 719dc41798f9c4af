import unittest

from envfile import parse


class QuotedValuesTest(unittest.TestCase):
    def test_removes_surrounding_quotes(self):
        self.assertEqual(parse('GREETING="hello world"\n'), {"GREETING": "hello world"})
        self.assertEqual(parse("NAME='Ada Lovelace'\n"), {"NAME": "Ada Lovelace"})
        self.assertEqual(parse('EMPTY=""\n'), {"EMPTY": ""})

    def test_keeps_hash_inside_quotes(self):
        self.assertEqual(parse('PASSWORD="p#ss" # the db password\n'), {"PASSWORD": "p#ss"})
        self.assertEqual(parse("COLOR='#ff0000'\n"), {"COLOR": "#ff0000"})
        self.assertEqual(parse('HASHES="# not a comment #"\n'), {"HASHES": "# not a comment #"})

    def test_keeps_spaces_inside_quotes(self):
        self.assertEqual(parse('PADDED="  two spaces  "\n'), {"PADDED": "  two spaces  "})

    def test_expands_escapes_in_double_quotes(self):
        self.assertEqual(parse('MULTI="line1\\nline2"\n'), {"MULTI": "line1\nline2"})
        self.assertEqual(parse('QUOTE="say \\"hi\\""\n'), {"QUOTE": 'say "hi"'})

    def test_single_quotes_are_literal(self):
        self.assertEqual(parse("RAW='C:\\new\\table'\n"), {"RAW": "C:\\new\\table"})
        self.assertEqual(parse("MIXED='say \"hi\"'\n"), {"MIXED": 'say "hi"'})

    def test_unquoted_values_unchanged(self):
        self.assertEqual(parse("PORT=8080 # web\nexport DEBUG=1\n"), {"PORT": "8080", "DEBUG": "1"})


if __name__ == "__main__":
    unittest.main()
