"""Concerns are not in the Django admin: it is for the people hosting Schoolgate, who must not read them.

Even a read-only list would show who reported what about whom; the hash-chained audit log (its entries name
a concern by reference only) is where the hosts can see that concerns are being recorded and read.
"""
