"""Authentication: password hashing, bearer tokens, register and login."""
