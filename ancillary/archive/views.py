"""The archivist's queue, archiving steps, and the backlog."""

import io

from flask import current_app, request, send_file
from flask.views import MethodView

from ancillary.archive import services
from ancillary.archive.models import ArchiveRecord, BacklogFile
from ancillary.archive.schemas import (
    ArchiveRecordSchema,
    BacklogArchiveArgsSchema,
    BacklogFileSchema,
    QueueArgsSchema,
    QueueSchema,
    StepArgsSchema,
)
from ancillary.auth.models import Role
from ancillary.custody.services import get_dossier
from ancillary.db import get_or_404
from ancillary.display_names import N_
from ancillary.errors import Invalid, NotFound
from ancillary.extensions import db
from ancillary.openapi import Blueprint, errors
from ancillary.storage import storage_for
from ancillary.web import current_user, now, roles

blp = Blueprint("Archive", __name__, url_prefix="/api/v1", description="Archiving within 30 days, and the backlog")
QUEUE_READERS = (Role.archivist, Role.court_admin, Role.contractor_manager)


def settings():
    return current_app.config["SETTINGS"]


RECORD_EXAMPLE = {"dossier_id": 123, "archivist_id": 9, "material_count": 86, "counted_at": "2027-02-01T10:00:00+08:00",
                  "bound_at": "2027-02-01T11:00:00+08:00", "scan_sha256": "5e2c…(64 hex)", "scan_bytes": 18230112,
                  "digitised_at": "2027-02-02T15:00:00+08:00", "archive_location": "档案室 A-12-3",
                  "archived_at": "2027-02-03T09:00:00+08:00"}
BACKLOG_EXAMPLE = {"id": 17, "case_number": "(2018)鲁1002民初456号", "closed_on": "2018-11-20", "volumes": 2,
                   "location": "旧卷库 3号柜", "cause": "买卖合同纠纷", "material_count": None,
                   "archive_location": None,
                   "archived_at": None}
QUEUE_EXAMPLE = {"cases": [{"task_id": 88, "case_id": 41, "case_number": "(2027)鲁1002民初123号",
                            "closed_at": "2027-01-20T16:00:00+08:00", "due_at": "2027-02-19T16:00:00+08:00",
                            "days_left": 12, "overdue": False, "volumes": 2, "volumes_archived": 0, "assignee_id": 9}],
                 "backlog": [BACKLOG_EXAMPLE], "backlog_total": 1}


@blp.route("/archive/queue")
class QueueView(MethodView):
    @roles(*QUEUE_READERS)
    @blp.arguments(QueueArgsSchema, location="query")
    @blp.response(200, QueueSchema, example=QUEUE_EXAMPLE)
    def get(self, args):
        """Closed cases counting down to their archive deadline, and the backlog, oldest first."""
        cases, backlog = services.archive_queue(db.session, now())
        return {"cases": cases, "backlog": backlog[: args["backlog_limit"]], "backlog_total": len(backlog)}


@blp.route("/dossiers/<int:dossier_id>/archive")
class StepView(MethodView):
    @roles(Role.archivist, Role.court_admin)
    @blp.response(200, ArchiveRecordSchema, example=RECORD_EXAMPLE)
    def get(self, dossier_id):
        """Where a dossier stands on its way into the archive."""
        dossier = get_dossier(db.session, dossier_id)
        found = db.session.query(ArchiveRecord).filter_by(dossier_id=dossier.id).one_or_none()
        return found or {"dossier_id": dossier.id}

    @roles(Role.archivist)
    @blp.arguments(StepArgsSchema, example={"step": "count", "material_count": 137})
    @blp.response(200, ArchiveRecordSchema, example=RECORD_EXAMPLE)
    @errors(409)
    def post(self, args, dossier_id):
        """Record a step on a dossier you received: count, bind, or shelve (archive)."""
        dossier = get_dossier(db.session, dossier_id)
        return services.record_step(db.session, dossier, args["step"], actor=current_user(), now=now(),
                                    settings=settings(), material_count=args.get("material_count"),
                                    archive_location=args.get("archive_location"))


@blp.route("/dossiers/<int:dossier_id>/archive/scan")
class DigitiseView(MethodView):
    @roles(Role.archivist, Role.court_admin)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
                  description="the bound volume's scanned PDF, as uploaded", example="%PDF-1.4 ...")
    def get(self, dossier_id):
        """The scanned PDF of an archived (or digitised) volume, to read in the browser."""
        dossier = get_dossier(db.session, dossier_id)
        found = db.session.query(ArchiveRecord).filter_by(dossier_id=dossier.id).one_or_none()
        content = storage_for(settings()).get(found.scan_path) if found is not None and found.scan_path else None
        if content is None:
            raise NotFound("scan_not_found", "dossier {dossier_code} has no scanned PDF yet", field="dossier_id",
                           dossier_code=dossier.code)
        return send_file(io.BytesIO(content), mimetype="application/pdf", download_name=f"{dossier.code}.pdf")

    @roles(Role.archivist)
    @blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}})
    @blp.response(200, ArchiveRecordSchema, example=RECORD_EXAMPLE)
    @errors(422)
    def post(self, dossier_id):
        """Upload the bound volume's scanned PDF; it is kept under its SHA-256."""
        upload = request.files.get("file")
        if upload is None:
            raise Invalid("file_required", "send the PDF as the multipart file part 'file'", field="file")
        dossier = get_dossier(db.session, dossier_id)
        return services.record_step(db.session, dossier, "digitise", actor=current_user(), now=now(),
                                    settings=settings(), pdf=upload.read())


@blp.route("/archive/backlog/<int:backlog_id>/archive")
class BacklogArchiveView(MethodView):
    @roles(Role.archivist)
    @blp.arguments(BacklogArchiveArgsSchema, example={"archive_location": "档案库 3-2-14", "material_count": 88})
    @blp.response(200, BacklogFileSchema, example=BACKLOG_EXAMPLE)
    @errors(409)
    def post(self, args, backlog_id):
        """Mark a backlog file archived."""
        item = get_or_404(db.session, BacklogFile, backlog_id, code="backlog_not_found",
                          message=N_("there is no such backlog file: reload the list and choose again"),
                          field="backlog_id")
        return services.archive_backlog_file(db.session, item, actor=current_user(), now=now(),
                                             archive_location=args["archive_location"],
                                             material_count=args.get("material_count"))
