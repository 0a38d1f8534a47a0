"""The Instagram connector (see connector.py)."""
