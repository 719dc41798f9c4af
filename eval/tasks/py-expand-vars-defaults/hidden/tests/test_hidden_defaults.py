import unittest

from shellvars import expand, expand_config


class DefaultsTest(unittest.TestCase):
    def test_colon_dash_default_for_unset_or_empty(self):
        self.assertEqual(expand("${HOST:-localhost}", {}), "localhost")
        self.assertEqual(expand("${HOST:-localhost}", {"HOST": ""}), "localhost")
        self.assertEqual(expand("${HOST:-localhost}", {"HOST": "db"}), "db")

    def test_dash_default_only_for_unset(self):
        self.assertEqual(expand("${HOST-localhost}", {}), "localhost")
        self.assertEqual(expand("${HOST-localhost}", {"HOST": ""}), "")
        self.assertEqual(expand("${HOST-localhost}", {"HOST": "db"}), "db")

    def test_default_with_punctuation(self):
        self.assertEqual(expand("${URL:-http://example.com:8080/a?b=c}", {}), "http://example.com:8080/a?b=c")
        self.assertEqual(expand("${GREETING:-hello world}!", {}), "hello world!")
        self.assertEqual(expand("${EMPTY:-}x", {}), "x")

    def test_default_may_use_variables(self):
        env = {"FALLBACK": "/srv"}
        self.assertEqual(expand("${DIR:-$FALLBACK/data}", env), "/srv/data")
        self.assertEqual(expand("${DIR:-${FALLBACK}}", env), "/srv")

    def test_double_dollar_is_a_literal_dollar(self):
        self.assertEqual(expand("$$HOME", {"HOME": "/home/ada"}), "$HOME")
        self.assertEqual(expand("price: $$5 ${A:-$$}", {}), "price: $5 $")

    def test_config_values_use_defaults(self):
        config = {"db": {"host": "${DB_HOST:-localhost}", "port": "${DB_PORT:-5432}"}}
        self.assertEqual(expand_config(config, {"DB_PORT": "6543"}), {"db": {"host": "localhost", "port": "6543"}})

    def test_plain_expansion_unchanged(self):
        self.assertEqual(expand("$HOME/${USER}", {"HOME": "/h", "USER": "u"}), "/h/u")
        self.assertEqual(expand("costs $5", {}), "costs $5")


if __name__ == "__main__":
    unittest.main()
