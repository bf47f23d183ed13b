"""The API document is what the API answers: every answer the suite's clients receive is checked.

The suite's test client (``app.test_client_class``) hands each answer of a documented path to
``ApiContract.problems``: the status must be documented for that operation in
``/api/v1/openapi.json`` (a ``default`` entry does not count), and a JSON body must match the
schema documented for that status. A 5xx (a fault a test injects on purpose, a database that is
gone) is no operation's documented answer and is not checked here: Schemathesis and the fault
tests look after those. The document is read and its validators are compiled once per
app; each (operation, status) validator is built on first use and kept.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from werkzeug.exceptions import HTTPException

SPEC_URI = "urn:ancillary:openapi"
UNCHECKED = ("/api/v1/openapi.json", "/api/v1/docs")


def _pointer(*parts: str) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class ApiContract:
    """Validators of one app's OpenAPI document, compiled lazily and kept."""

    def __init__(self, app):
        self.spec = FlaskClient(app).get(UNCHECKED[0]).get_json()
        self.adapter = app.url_map.bind("localhost")
        self.registry = Registry().with_resource(SPEC_URI, Resource(contents=self.spec, specification=DRAFT4))
        self._validators: dict[tuple[str, str, str], OAS30Validator | None] = {}

    def _operation(self, method: str, path: str) -> tuple[str, dict] | None:
        try:
            rule, _ = self.adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            return None  # no such route: nothing documented to compare with
        template = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        operation = self.spec["paths"].get(template, {}).get(method.lower())
        return (template, operation) if operation is not None else None

    def _response(self, reference_or_response: dict) -> tuple[dict, list[str]]:
        ref = reference_or_response.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            return self.spec["components"]["responses"][name], ["components", "responses", name]
        return reference_or_response, []

    def _validator(self, template: str, method: str, status: str, operation: dict) -> OAS30Validator | None:
        key = (template, method, status)
        if key not in self._validators:
            response, where = self._response(operation["responses"][status])
            if not where:
                where = ["paths", template, method, "responses", status]
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            self._validators[key] = None if schema is None else OAS30Validator(
                {"$ref": SPEC_URI + "#" + _pointer(*where, "content", "application/json", "schema")},
                registry=self.registry, format_checker=oas30_format_checker)
        return self._validators[key]

    def example_problems(self) -> list[str]:
        """Where a documented JSON answer's example does not match its own schema."""
        found = []
        for template, operations in self.spec["paths"].items():
            for method, operation in operations.items():
                for status in (operation.get("responses", {}) if isinstance(operation, dict) else {}):
                    content = self._response(operation["responses"][status])[0].get("content", {})
                    media = content.get("application/json", {})
                    examples = ([media["example"]] if "example" in media
                                else [e["value"] for e in media.get("examples", {}).values()])
                    validator = self._validator(template, method, status, operation) if examples else None
                    found += [f"{method.upper()} {template} {status} example: {error.message}"
                              for example in examples if validator for error in validator.iter_errors(example)]
        return found

    def problems(self, method: str, path: str, response) -> list[str]:
        """What in ``response`` the document does not describe; empty when it matches."""
        if path.startswith(UNCHECKED) or method in ("HEAD", "OPTIONS") or response.status_code >= 500:
            return []
        found = self._operation(method, path)
        if found is None:
            return []
        template, operation = found
        name, status = f"{method} {template}", str(response.status_code)
        if status not in operation.get("responses", {}):
            return [f"{name} answered {status}, which its document does not list "
                    f"(listed: {', '.join(sorted(operation.get('responses', {})))})"]
        if response.status_code == 204:
            return [f"{name} answered 204 with a body"] if response.data else []
        documented = self._response(operation["responses"][status])[0].get("content", {})
        if response.data and documented and response.mimetype not in documented:
            return [f"{name} {status} answered {response.mimetype}, documented: {', '.join(documented)}"]
        if not response.is_json:
            return []
        validator = self._validator(template, method.lower(), status, operation)
        if validator is None:
            return [f"{name} answered {status} with JSON, but the document gives no JSON schema for it"]
        body = response.get_json()
        return [f"{name} {status}: {'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
                for error in validator.iter_errors(body)]


class ContractClient(FlaskClient):
    """The suite's test client: fails a test whose answer the OpenAPI document does not describe."""

    contracts: dict[int, ApiContract] = {}

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        request = response.request
        app = self.application
        contract = self.contracts.get(id(app))
        if contract is None:
            contract = self.contracts[id(app)] = ApiContract(app)
        problems = contract.problems(request.method, request.path, response)
        if problems:
            raise AssertionError("the answer is not what /api/v1/openapi.json documents:\n  " + "\n  ".join(problems))
        return response
