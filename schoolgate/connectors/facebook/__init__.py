"""The Facebook connector (see connector.py)."""
