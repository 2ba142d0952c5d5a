"""EPUB books read into chapters of paragraphs (reader.py), checked first for what would make
reading them unsafe (archive.py), and cut into a job's blocks (blocks.py)."""

from utils.books.models import Book, BookError, Chapter, Cover
from utils.books.reader import read_book

__all__ = ["Book", "BookError", "Chapter", "Cover", "read_book"]
