"""flask-smorest's Api with Ancillary's error body, and the locally served docs UI."""

from __future__ import annotations

import functools
import re
from copy import deepcopy
from http import HTTPStatus

from flask import jsonify, request, send_from_directory
from flask_babel import gettext
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from werkzeug.exceptions import HTTPException

from ancillary.display_names import N_
from ancillary.schemas import ErrorSchema


def document_errors(func, *statuses: int):
    """List ``statuses`` as answers of the view ``func`` in the OpenAPI document, each with the
    error body (flask-smorest registers one response per HTTP status, named as in HTTPStatus)."""
    doc = deepcopy(getattr(func, "_apidoc", {}))
    responses = doc.setdefault("response", {}).setdefault("responses", {})
    for status in statuses:
        entries = responses.setdefault(int(status), [])
        if not entries:
            entries.append(HTTPStatus(status).name)
    func._apidoc = doc
    return func


def errors(*statuses: int):
    """Decorator: the view may answer these error statuses (404, 409, 413, 415, ...)."""
    return lambda func: document_errors(func, *statuses)


BODY_METHODS = ("POST", "PUT", "PATCH")


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint that lists the errors the HTTP edge gives every operation of its
    kind: 404 where the path names a resource, 413 and 415 for a body (too large, or a format no
    endpoint reads), 400 for a JSON body that does not parse. ``roles`` adds 401 and 403, and
    ``errors(...)`` what a view answers beyond these."""

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **options):
        is_class = isinstance(view_func, type)
        methods = (view_func.methods if is_class else options.get("methods")) or ("GET",)
        for method in methods:
            func = getattr(view_func, method.lower()) if is_class else view_func
            statuses = ([404] if "<" in rule else []) + ([413, 415] if method in BODY_METHODS else [])
            document_errors(func, *statuses)
        return super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)

    def arguments(self, schema, *, location="json", fast=None, **kwargs):
        """flask-smorest's ``arguments``; ``fast(body)``, for a JSON body, may load a plain
        well-formed body by hand (see ``ancillary.fastargs``): None leaves it to the schema."""
        decorate = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return decorate
        if fast is None:
            return lambda func: document_errors(decorate(func), 400)
        return lambda func: _with_fast_path(document_errors(decorate(func), 400), func, fast)


def _with_fast_path(through_schema, view, fast):
    """``through_schema`` (the schema-loading view), tried after ``fast`` on the request's JSON body."""

    @functools.wraps(through_schema)
    def wrapper(*args, **kwargs):
        loaded = fast(request.get_json(silent=True)) if request.is_json else None
        if loaded is None:
            return through_schema(*args, **kwargs)
        return view(*args, loaded, **kwargs)

    return wrapper


def error_body(status: int, code: str, message: str, field: str | None = None, errors=None, **extra):
    body = {
        "code": status,
        "status": HTTPStatus(status).phrase,
        "error": code,
        "message": message,
    }
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


# marshmallow's validator messages arrive already formatted; match them back to a template.
_FORMATTED = [
    (re.compile(r"^Must be one of: (?P<choices>.*)\.$"), N_("Must be one of: {choices}.")),
    (re.compile(r"^Length must be between (?P<min>\d+) and (?P<max>\d+)\.$"),
     N_("Length must be between {min} and {max}.")),
    (re.compile(r"^Shorter than minimum length (?P<min>\d+)\.$"), N_("Shorter than minimum length {min}.")),
    (re.compile(r"^Longer than maximum length (?P<max>\d+)\.$"), N_("Longer than maximum length {max}.")),
    (re.compile(r"^Must be greater than or equal to (?P<min>\S+) and less than or equal to (?P<max>\S+)\.$"),
     N_("Must be greater than or equal to {min} and less than or equal to {max}.")),
    (re.compile(r"^Must be greater than or equal to (?P<min>\S+)\.$"), N_("Must be greater than or equal to {min}.")),
    (re.compile(r"^Must be less than or equal to (?P<max>\S+)\.$"), N_("Must be less than or equal to {max}.")),
]


def translate(message: str) -> str:
    """Translate one validation message, formatted ones included."""
    for pattern, template in _FORMATTED:
        match = pattern.match(message)
        if match:
            return gettext(template).format(**match.groupdict())
    return gettext(message)


def _translate_messages(messages):
    if isinstance(messages, dict):
        return {k: _translate_messages(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [_translate_messages(m) for m in messages]
    if isinstance(messages, str):
        return translate(messages)
    return messages


def _first_field(messages, prefix=""):
    """The dotted path of the first field named in webargs' nested messages."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("json", "query", "form", "files", "headers", "view_args") and not prefix:
                found = _first_field(value, "")
            else:
                found = _first_field(value, f"{prefix}.{key}" if prefix else str(key))
            if found:
                return found
        return prefix or None
    return prefix or None


class JsonApi(Api):
    """flask-smorest's Api with our error body: code, error, message, field, errors.

    No catch-all ``default`` answer in the document: each operation lists the statuses it gives."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        data = getattr(error, "data", {}) or {}
        messages = _string_keys(data.get("messages"))
        if messages:
            field = _first_field(messages)
            message = (gettext("invalid input in field {field}").format(field=field) if field
                       else gettext("invalid input"))
            code = "invalid_json" if status == 400 else "validation_error"
            if status == 400:
                message = gettext("the body is not valid JSON")
            body = error_body(status, code, message, field, _translate_messages(messages))
        else:
            code = {
                400: "bad_request",
                401: "auth_required",
                403: "forbidden",
                404: "not_found",
                405: "method_not_allowed",
                409: "conflict",
                413: "too_large",
                415: "unsupported_media_type",
                422: "validation_error",
            }.get(status, "http_error")
            message = gettext(_HTTP_MESSAGES.get(status, N_("request refused")))
            body = error_body(status, code, message)
        response = jsonify(body)
        response.status_code = status
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        return response


def _string_keys(messages):
    """Errors keyed by strings only: a multipart part without a name arrives keyed by None,
    and a body can hold both None and "" (JSON cannot sort or write such keys)."""
    if not isinstance(messages, dict):
        return messages
    merged: dict = {}
    for key, value in messages.items():
        name = "" if key is None else str(key)
        value = _string_keys(value)
        if name in merged and isinstance(merged[name], list) and isinstance(value, list):
            merged[name] = merged[name] + [v for v in value if v not in merged[name]]
        else:
            merged[name] = value
    return merged


_HTTP_MESSAGES = {
    400: N_("bad request"),
    401: N_("sign in: send Authorization: Bearer <token>"),
    403: N_("not allowed"),
    404: N_("no such resource"),
    405: N_("method not allowed on this path"),
    413: N_("the upload is too large"),
    415: N_("unsupported content type"),
}


def init_docs_assets(app) -> None:
    """Serve Swagger UI's files from the swagger-ui-bundle package: no CDN needed."""
    import swagger_ui_bundle

    @app.get("/api/v1/docs/assets/<path:filename>", endpoint="docs_assets")
    def docs_assets(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
