import unittest

from tinyini import parse


class EqualsInValueTest(unittest.TestCase):
    def test_keeps_equals_signs_in_values(self):
        config = parse("[db]\nurl = postgres://u:p@h/db?sslmode=require&connect_timeout=10\n")
        self.assertEqual(config["db"]["url"], "postgres://u:p@h/db?sslmode=require&connect_timeout=10")

    def test_splits_at_the_first_equals_sign(self):
        config = parse("[math]\nformula = a = b + c\nbase64 = aGVsbG8==\n")
        self.assertEqual(config["math"], {"formula": "a = b + c", "base64": "aGVsbG8=="})

    def test_plain_values_unchanged(self):
        config = parse("[server]\nHost = example.com\nkey =\n")
        self.assertEqual(config["server"], {"host": "example.com", "key": ""})


if __name__ == "__main__":
    unittest.main()
