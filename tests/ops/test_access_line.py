"""The served access log: the line gunicorn writes, character for character, built more cheaply."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from ancillary.serving import AccessLogger


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _line(logger_class, access_format: str | None, environ: dict, resp) -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    if access_format:
        cfg.set("access_log_format", access_format)
    logger = logger_class(cfg)
    logger.now = lambda: "[30/Nov/2026:14:30:00 +0000]"
    lines = Lines()
    logger.access_log.handlers = [lines]
    logger.access(resp, SimpleNamespace(headers=[("USER-AGENT", environ.get("HTTP_USER_AGENT", "-"))]), environ,
                  timedelta(milliseconds=12))
    return lines.lines[0]


REQUESTS = [
    ({"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "POST", "RAW_URI": "/api/v1/hearings",
      "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_AUTHORIZATION": "Bearer anc_x"},
     SimpleNamespace(status="201 CREATED", sent=512, headers=[])),
    ({"REMOTE_ADDR": "10.0.0.9", "REQUEST_METHOD": "GET", "RAW_URI": '/cases?q="甲"%20x', "SERVER_PROTOCOL": "HTTP/1.0",
      "HTTP_REFERER": 'http://court/"p"', "HTTP_USER_AGENT": 'curl/8 "quoted"',
      "HTTP_AUTHORIZATION": "Basic dXNlcjpwdw=="},
     SimpleNamespace(status="409 CONFLICT", sent=None, headers=[])),
    ({"REQUEST_METHOD": "GET", "RAW_URI": "/healthz", "SERVER_PROTOCOL": "HTTP/1.1"},
     SimpleNamespace(status=200, sent=0, headers=[])),
]


@pytest.mark.parametrize(("environ", "resp"), REQUESTS)
def test_the_access_line_is_gunicorn_s_own(environ, resp):
    assert _line(AccessLogger, None, environ, resp) == _line(Logger, None, environ, resp)


def test_another_format_still_goes_through_gunicorn():
    environ, resp = REQUESTS[0]
    assert _line(AccessLogger, "%(s)s %(m)s %(r)s", environ, resp) == "201 POST POST /api/v1/hearings HTTP/1.1"


def test_a_disabled_access_log_writes_nothing():
    cfg = Config()
    logger = AccessLogger(cfg)
    lines = Lines()
    logger.access_log.handlers = [lines]
    environ, resp = REQUESTS[0]
    logger.access(resp, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
    assert lines.lines == []
