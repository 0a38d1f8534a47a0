"""Training is not in the Django admin: records change through the training pages, where every change is audited,
and privacy self-check answers belong to the person who gave them (not even leaders read them)."""
