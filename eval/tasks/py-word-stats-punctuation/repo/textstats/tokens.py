"""Split prose into words."""


def words(text):
    """The words of text, lowercased, in order."""
    return [token.lower() for token in text.split()]
