"""`/brief`: the pre-call brief from memory and one checked model answer (prepare.py), the
answer's checks (answer.py), what changed since the rep's last brief (changes.py), and all it
shows (view.py)."""
