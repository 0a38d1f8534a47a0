"""Connectors to social networks: one folder per network behind one small interface (see base.py)."""
