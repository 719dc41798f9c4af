import unittest

from pathmatch import match, select


class GlobTest(unittest.TestCase):
    def test_star_in_a_file_name(self):
        self.assertTrue(match("*.py", "setup.py"))
        self.assertFalse(match("*.py", "setup.cfg"))

    def test_double_star_across_directories(self):
        self.assertTrue(match("src/**/*.py", "src/pkg/sub/mod.py"))
        self.assertTrue(match("docs/**", "docs/a/b.txt"))
        self.assertFalse(match("docs/**", "src/docs.txt"))

    def test_question_mark(self):
        self.assertTrue(match("file?.txt", "file1.txt"))
        self.assertFalse(match("file?.txt", "file10.txt"))

    def test_character_classes(self):
        self.assertTrue(match("[abc].txt", "b.txt"))
        self.assertFalse(match("[!abc].txt", "b.txt"))
        self.assertTrue(match("v[0-9].md", "v2.md"))

    def test_special_characters_are_literal(self):
        self.assertTrue(match("a+b(1).txt", "a+b(1).txt"))
        self.assertFalse(match("a.txt", "abtxt"))

    def test_select(self):
        paths = ["README.md", "docs/a/b.txt", "src/x.py"]
        self.assertEqual(select(["*.md", "docs/**"], paths), ["README.md", "docs/a/b.txt"])


if __name__ == "__main__":
    unittest.main()
