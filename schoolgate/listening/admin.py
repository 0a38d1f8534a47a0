"""Listening is not in the Django admin: mentions can hold words on their way to the DSL, and the hosts must not
read them; sources and keywords are managed on the school's own pages, through audited actions."""
