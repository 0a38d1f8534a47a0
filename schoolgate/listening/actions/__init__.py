"""Listening actions: configuring sources and keywords, reading sources, triaging mentions, the daily digest."""
