"""Logging a call: the form, a message turned into a note, write-ahead and confirmation."""
