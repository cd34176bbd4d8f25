"""flask-smorest Api configured to document Fynix's one error envelope."""

from __future__ import annotations

from http import HTTPStatus

import marshmallow as ma
from apispec import APISpec, BasePlugin
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


class RequestErrorsPlugin(BasePlugin):
    """Document the errors any request can get before its view runs.

    400: a request body that is not valid JSON. 404: a path parameter the route's
    converter refuses (``/positions/abc``, a line break in a pattern), which the
    router answers as an unknown URL.
    """

    def init_spec(self, spec: APISpec) -> None:
        """Keep the spec to reference its per-status error responses."""
        self.spec = spec

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs):
        """Add ``400`` where a body is read and ``404`` where the path has parameters."""
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            if "requestBody" in operation:
                self._document(operation, 400)
            if "{" in (path or ""):
                self._document(operation, 404)

    def _document(self, operation: dict, status: int) -> None:
        responses = operation.setdefault("responses", {})
        if status not in responses and str(status) not in responses:
            ref = self.spec.components.get_ref("response", HTTPStatus(status).name)
            responses[status] = ref


class FynixApi(Api):
    """Api whose documented default error is Fynix's envelope.

    Error responses themselves are produced by ``fynix.errors``; this class only
    makes the OpenAPI document describe them, and leaves handler registration
    to ``fynix.errors.register_error_handlers``.
    """

    ERROR_SCHEMA = ErrorSchema

    def _init_spec(self, *, extra_plugins: list | None = None, **options) -> None:
        """Add Fynix's plugins to flask-smorest's."""
        plugins = [*(extra_plugins or ()), RequestErrorsPlugin()]
        super()._init_spec(extra_plugins=plugins, **options)

    def _register_error_handlers(self) -> None:
        """Error handlers live in fynix.errors (one envelope for the whole app)."""
