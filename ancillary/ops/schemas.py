"""Health and readiness answers."""

from __future__ import annotations

from marshmallow import Schema, fields

HEALTH_EXAMPLE = {"ok": True}
READY_EXAMPLE = {
    "ready": False,
    "checks": {
        "database": {"ok": True, "message": "数据库可以连接。"},
        "migrations": {"ok": True, "message": "数据库结构是最新的(0009)。"},
        "scheduler": {"ok": False,
                      "message": "调度程序已有 95 秒没有心跳(应少于 20 秒):请检查 ancillary scheduler 进程。"},
    },
}


class HealthSchema(Schema):
    ok = fields.Boolean(metadata={"example": True})


class CheckSchema(Schema):
    ok = fields.Boolean()
    message = fields.String(metadata={"description": "what was found, as a sentence (Chinese first)"})


class ReadySchema(Schema):
    ready = fields.Boolean(metadata={"description": "true when every check passed (HTTP 200), else 503"})
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(CheckSchema),
                         metadata={"description": "database, migrations, scheduler"})
