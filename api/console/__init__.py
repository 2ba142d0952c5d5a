"""The web console at /: plain HTML, CSS and JavaScript served by the API itself (site.py)."""
