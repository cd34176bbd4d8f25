"""The OpenAPI document as clients read it: operation ids, descriptions, examples, links.

flask-smorest builds the document from the schemas that validate requests; this package
adds what a schema cannot say (``finish``), in one place, so the document stays true to
the server and generated clients get names like ``create_position``.
"""

from fynix.apidoc.document import finish

__all__ = ["finish"]
