"""`/timeline`: a prospect's history, page by page (history.py), and all it shows (view.py)."""
