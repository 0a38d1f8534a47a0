"""Inbox actions, one module per stage: ingest (reading the accounts), escalation (deadlines swept), triage,
replies, moderation (and the route of a possible disclosure to the DSL)."""
