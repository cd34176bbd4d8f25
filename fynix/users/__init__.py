"""Users: the account model, profile schemas and the /api/users endpoints."""
