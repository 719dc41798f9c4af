"""Statistics over the words of a text."""

from collections import Counter

from .tokens import words


def word_count(text):
    """How many words text has."""
    return len(words(text))


def unique_words(text):
    """How many different words text has."""
    return len(set(words(text)))


def top_words(text, n=10):
    """The n most frequent words with their counts, most frequent first (ties: first seen first)."""
    return Counter(words(text)).most_common(n)


def reading_time(text, words_per_minute=200):
    """Minutes it takes to read text, to one decimal."""
    return round(word_count(text) / words_per_minute, 1)
