"""Pieces shared by every feature package: API class, fields, pagination, clock."""
