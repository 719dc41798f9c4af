import unittest

from pathmatch import match, select


class SegmentTest(unittest.TestCase):
    def test_star_stays_in_one_segment(self):
        self.assertFalse(match("*.py", "pkg/mod.py"))
        self.assertFalse(match("src/*.py", "src/pkg/mod.py"))
        self.assertTrue(match("src/*.py", "src/mod.py"))
        self.assertTrue(match("src/*/mod.py", "src/pkg/mod.py"))

    def test_question_mark_stays_in_one_segment(self):
        self.assertFalse(match("a?b", "a/b"))

    def test_double_star_slash_matches_no_directory(self):
        self.assertTrue(match("src/**/*.py", "src/mod.py"))
        self.assertTrue(match("**/test_*.py", "test_a.py"))
        self.assertTrue(match("**/test_*.py", "x/y/test_a.py"))
        self.assertTrue(match("a/**/b", "a/b"))
        self.assertTrue(match("a/**/b", "a/x/y/b"))
        self.assertFalse(match("a/**/b", "a/xb"))

    def test_double_star_alone_matches_everything(self):
        self.assertTrue(match("**", "a/b/c.txt"))
        self.assertTrue(match("**", "top.txt"))

    def test_select_top_level_only(self):
        paths = ["README.md", "docs/guide.md", "src/x.py", "src/a/y.py"]
        self.assertEqual(select(["*.md"], paths), ["README.md"])
        self.assertEqual(select(["src/**/*.py"], paths), ["src/x.py", "src/a/y.py"])

    def test_existing_patterns_unchanged(self):
        self.assertTrue(match("src/**/*.py", "src/pkg/sub/mod.py"))
        self.assertTrue(match("docs/**", "docs/a/b.txt"))
        self.assertTrue(match("[abc].txt", "b.txt"))


if __name__ == "__main__":
    unittest.main()
