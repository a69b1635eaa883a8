"""The OpenAPI schema (drf-spectacular): every operation documents its errors and its Idempotency-Key.

Error answers all have one shape (api.errors), so each operation lists the
codes it may answer with that shape, and schema-driven tests (schemathesis)
can check every answer against the document. Request bodies are closed
(additionalProperties: false): the API refuses fields it does not know.
"""
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from api.idempotency import HEADER_PARAMETER
from api.permissions import IsInvestor, IsOperations, ReadOrOperations
from api.serializers.common import ErrorSerializer

ERRORS_ALWAYS = {
    "400": "Invalid input (see fields)",
    "401": "Not authenticated",
    "403": "Not allowed for this login",
    "404": "Not found (or not yours: the API does not tell them apart)",
    "406": "The Accept header asks for a format this endpoint does not give",
}
ERRORS_ON_WRITES = {
    "409": "Conflicts with the current state (already closed, in progress, loan busy): may be retried",
    "415": "Unsupported request content type",
    "422": "Refused by the business rules (see message and fields); nothing was recorded",
    "429": "Too many requests; see Retry-After",
}


class AutoSchema(SpectacularAutoSchema):
    def get_tags(self):
        # Grouped by who may call them, which is what a reader of the docs wants to know first.
        permissions = {type(p) for p in self.view.get_permissions()}
        if IsOperations in permissions or (ReadOrOperations in permissions and self._is_write()):
            return ["operations"]
        if IsInvestor in permissions:
            return ["investor"]
        return ["deals"] if "/trusts/" in self.path else ["account"]

    def _is_write(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        handler = getattr(self.view, self.method.lower(), None)
        if getattr(handler, "idempotent", False):
            parameters.append(HEADER_PARAMETER)
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {**ERRORS_ALWAYS, **(ERRORS_ON_WRITES if self._is_write() else {})}
        for code, description in errors.items():
            if code not in responses:
                body = self._get_response_for_code(ErrorSerializer, code, ("application/json",), direction)
                responses[code] = {**body, "description": description}
        return responses


def close_request_bodies(result, generator, request, public):
    """Postprocessing hook: request components refuse unknown properties, as the API does."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
