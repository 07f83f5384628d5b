"""The weekly digest: what is gathered per prospect (gather.py), how the model ranks them and
how the answer is checked (ranking.py), sending it to a rep (delivery.py), the rep's day, hour
and pause (settings.py), its jobs on the scheduler (schedule.py), and all it shows (view.py)."""
