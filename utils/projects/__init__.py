"""Projects: a user's script kept by the service (store.py), scripts read from plain text,
Markdown, SSML and JSON (scripts.py) or a book (books.py), and voice previews (previews.py)."""
