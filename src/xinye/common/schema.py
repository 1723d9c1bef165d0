"""OpenAPI schema post-processing (drf-spectacular): every operation documents the error answers it can give,
and the request side says what the server refuses, so that the schema is a true contract (checked by the
schemathesis run in tests/test_api_conformance.py)."""

from __future__ import annotations

#: the error answers of every operation; DRF and xinye.common.middleware give them as JSON objects
ERRORS = {
    "400": "The request is not valid: a parameter, a field or the body (the answer names which).",
    "401": "Not signed in (HTTP Basic credentials were refused).",
    "403": "Not signed in, or not allowed to do this.",
    "404": "Not found, or outside what the caller may see.",
    "405": "Method not allowed.",
    "406": "The Accept header asks for a format the API does not give.",
    "413": "The request body is too large.",
    "415": "The body's media type is not accepted.",
    "429": "Too many requests; try again later.",
}

#: no text anywhere may hold a NUL character (the request hygiene middleware answers 400)
NO_NUL = "^[^\\x00]*$"


def _refuse_nul(schema: dict) -> None:
    if schema.get("type") == "string" and not ({"enum", "pattern", "format"} & schema.keys()):
        schema["pattern"] = NO_NUL
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        _refuse_nul(schema["items"])


def postprocess(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "description": "An error: `detail`, or the invalid parameters or fields each with a list of messages.",
        "properties": {"detail": {"type": "string"}},
        "additionalProperties": True,
    }
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for ops in result.get("paths", {}).values():
        for op in ops.values():
            for code, description in ERRORS.items():
                op["responses"].setdefault(code, {"description": description, "content": error})
            for p in op.get("parameters", []):
                _refuse_nul(p.get("schema", {}))
    # request bodies (components named ...Request, COMPONENT_SPLIT_REQUEST): their fields and nothing else
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
            for prop in schema.get("properties", {}).values():
                _refuse_nul(prop)
    return result
