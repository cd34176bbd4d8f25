"""flask-smorest Api configured to document Fynix's one error envelope."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Api


class ErrorSchema(ma.Schema):
    """The JSON body of every error response."""

    status = ma.fields.Integer(required=True, metadata={"description": "HTTP status code"})
    error = ma.fields.String(required=True, metadata={"description": "HTTP status name"})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "Field name -> list of problems (validation errors only)"},
    )
    request_id = ma.fields.String(metadata={"description": "Echo of X-Request-ID"})


class FynixApi(Api):
    """Api whose documented default error is Fynix's envelope.

    Error responses themselves are produced by ``fynix.errors``; this class only
    makes the OpenAPI document describe them, and leaves handler registration
    to ``fynix.errors.register_error_handlers``.
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Error handlers live in fynix.errors (one envelope for the whole app)."""
