"""Bluesky: app-password connections to any AT Protocol PDS, through the atproto SDK."""
