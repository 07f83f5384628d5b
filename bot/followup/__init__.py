"""`/followup`: the draft email from memory, the analysis then the email (draft.py), the checks
that hold both to the notes (grounding.py), and all it shows (view.py). Nothing is sent."""
