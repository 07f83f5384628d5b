"""Erasure: who may erase what, the erasure itself (erase.py) and all it shows (view.py)."""
