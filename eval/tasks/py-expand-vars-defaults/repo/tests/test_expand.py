import unittest

from shellvars import expand, expand_config


class ExpandTest(unittest.TestCase):
    def test_expands_plain_and_braced(self):
        env = {"HOME": "/home/ada", "USER": "ada"}
        self.assertEqual(expand("$HOME/logs", env), "/home/ada/logs")
        self.assertEqual(expand("${USER}_backup", env), "ada_backup")

    def test_unset_is_empty(self):
        self.assertEqual(expand("a${NOPE}b$NOPE", {}), "ab")

    def test_leaves_other_dollars(self):
        self.assertEqual(expand("costs $5 or $", {}), "costs $5 or $")

    def test_expands_config(self):
        config = {"db": {"url": "postgres://$DB_HOST:${DB_PORT}", "pool": 5}, "tags": ["$ENV"]}
        env = {"DB_HOST": "db", "DB_PORT": "5432", "ENV": "prod"}
        self.assertEqual(expand_config(config, env), {"db": {"url": "postgres://db:5432", "pool": 5}, "tags": ["prod"]})


if __name__ == "__main__":
    unittest.main()
