"""App Home and what a rep does from it: publishing the Home from the local index
(publish.py), snoozing a prospect (snooze.py), the morning DM about deals gone quiet
(quiet_alerts.py), and all of it as Block Kit (view.py)."""
