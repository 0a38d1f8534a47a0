"""The X connector (see connector.py)."""
