"""/salesmemory stats: what the model cost, per task, shown by view.py."""
