"""Word statistics for prose."""

from .stats import reading_time, top_words, unique_words, word_count
from .tokens import words

__all__ = ["reading_time", "top_words", "unique_words", "word_count", "words"]
