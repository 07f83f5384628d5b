"""The team view for managers: counts across reps (summary.py) and all it shows (view.py)."""
