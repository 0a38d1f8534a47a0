"""Mastodon: the school's account on its chosen instance, through Mastodon.py."""
