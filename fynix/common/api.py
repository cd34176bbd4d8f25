"""flask-smorest Api configured to document Fynix's one error envelope."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from http import HTTPStatus

import flask_smorest
import marshmallow as ma
from apispec import APISpec, BasePlugin
from flask import Flask, Response, current_app, json, request
from flask_smorest import Api

from fynix.common.inputs import ClientIdConverter, FynixParser, client_id_parameter_schema

BEARER_CHALLENGE = {
    "description": (
        '`Bearer`, or `Bearer error="invalid_token"` when a token was given but refused (RFC 6750)'
    ),
    "schema": {"type": "string"},
}


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


class Blueprint(flask_smorest.Blueprint):
    """The Blueprint of every Fynix API package: its arguments obey fynix.common.inputs."""

    ARGUMENTS_PARSER = FynixParser()


class RequestErrorsPlugin(BasePlugin):
    """Document the errors any request can get before its view runs.

    400: a request body that is not valid JSON. 413: a body over MAX_CONTENT_LENGTH.
    415: a body that is not JSON. 404: a path parameter the route's converter refuses
    (``/positions/abc``, a line break in a pattern), which the router answers as an
    unknown URL. A 401 carries its ``WWW-Authenticate`` challenge.
    """

    def init_spec(self, spec: APISpec) -> None:
        """Keep the spec to reference its per-status error responses."""
        self.spec = spec
        spec.components.header("WWW_AUTHENTICATE", BEARER_CHALLENGE)

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs):
        """Add 400/413/415 where a body is read, 404 where the path has parameters."""
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            if "requestBody" in operation:
                for status in (400, 413, 415):
                    self._document(operation, status)
            if "{" in (path or ""):
                self._document(operation, 404)
            self._document_challenge(operation.get("responses", {}))

    @staticmethod
    def _document_challenge(responses: dict) -> None:
        """Give a documented 401 its header (inline: a $ref'd response takes no siblings)."""
        key = 401 if 401 in responses else "401"
        response = responses.get(key)
        if response is None:
            return
        if isinstance(response, str):  # a component name, e.g. "UNAUTHORIZED"
            response = {
                "description": "Missing, invalid or expired bearer token",
                "content": {"application/json": {"schema": "Error"}},
            }
        responses[key] = {**response, "headers": {"WWW-Authenticate": "WWW_AUTHENTICATE"}}

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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_converter(ClientIdConverter, client_id_parameter_schema)

    def _init_spec(self, *, extra_plugins: list | None = None, **options) -> None:
        """Add Fynix's plugins to flask-smorest's."""
        plugins = [*(extra_plugins or ()), RequestErrorsPlugin()]
        super()._init_spec(extra_plugins=plugins, **options)

    def _register_error_handlers(self) -> None:
        """Error handlers live in fynix.errors (one envelope for the whole app)."""

    def document(self, origin: str | None = None) -> dict:
        """The OpenAPI document as served: flask-smorest's, finished by fynix.apidoc."""
        from fynix.apidoc import finish

        return finish(self.spec.to_dict(), origin)

    def _openapi_json(self) -> Response:
        """Serve the finished document, with this server's origin as its server."""
        origin = request.host_url.rstrip("/")
        return current_app.response_class(
            json.dumps(self.document(origin), indent=2), mimetype="application/json"
        )


def register_converters(app: Flask) -> None:
    """Fynix's path converters, before any route compiles against them."""
    app.url_map.converters["client_id"] = ClientIdConverter


def document_refusals(wrapper: Callable, *statuses: int) -> Callable:
    """Let the OpenAPI document list the refusals this guard can answer.

    flask-smorest reads ``_apidoc`` when the route is registered; the statuses refer to
    its per-status error responses (Fynix's envelope). A status the view documents
    itself is left as it is.
    """
    apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    responses = apidoc.setdefault("response", {}).setdefault("responses", {})
    for status in statuses:
        responses.setdefault(status, [HTTPStatus(status).name])
    wrapper._apidoc = apidoc
    return wrapper
