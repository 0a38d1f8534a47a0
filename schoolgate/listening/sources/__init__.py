"""Listening sources: one small class per kind of place the school watches, listed in registry.py."""
