"""Declarations are not in the Django admin: it is for the people hosting Schoolgate, who must not read them.

Relationship declarations and contact exceptions are safeguarding records; even a list of who declared what
would tell the hosts about the school's families. The audit log records, by reference only, that they exist.
"""
