"""Model files of local engines: fetched from the Hugging Face Hub (or a mirror) into the
machine's cache once, checksummed, and read from there by every process (hub.py)."""
