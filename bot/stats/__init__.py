"""/salesmemory stats: what the model cost, per task (usage.py), shown by view.py."""
