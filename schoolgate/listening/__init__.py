"""Listening (RS-WATCH-1): watching public feeds, pages and open networks for posts about the school."""
