"""Archiving within 30 days: receive, count, bind, digitise, shelve; backlog; warnings; KPI."""

import hashlib

from tests.custody.conftest import scan

PDF = b"%PDF-1.4\n% scanned volume\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _close(court, case_id, closed_at="2027-01-04T09:00:00+08:00"):
    response = court["judge"].post(f"/api/v1/cases/{case_id}/close", json={"closed_at": closed_at, "outcome": "调解结案"})
    assert response.status_code == 200, response.get_json()


def _step(actor, dossier_id, **body):
    return actor.post(f"/api/v1/dossiers/{dossier_id}/archive", json=body)


def _digitise(actor, dossier_id, data=PDF):
    import io

    return actor.post(f"/api/v1/dossiers/{dossier_id}/archive/scan", data={"file": (io.BytesIO(data), "v.pdf")},
                      content_type="multipart/form-data")


def test_archiving_a_closed_case_step_by_step(court, dossiers, clock, app):
    archivist = court["archivist"]
    case_id = dossiers[0]["case_id"]
    assert _step(archivist, dossiers[0]["id"], step="count", material_count=5).status_code == 409  # case open
    _close(court, case_id)
    queue = archivist.get("/api/v1/archive/queue").get_json()
    assert [(c["case_id"], c["days_left"], c["volumes_archived"]) for c in queue["cases"]] == [(case_id, 30, 0)]
    assert queue["cases"][0]["due_at"] == "2027-02-03T23:59:59+08:00"

    first = dossiers[0]["id"]
    refused = _step(archivist, first, step="count", material_count=120)
    assert refused.status_code == 409 and refused.get_json()["error"] == "receive_first"
    assert scan(archivist, dossiers[0]["qr_token"], location="档案室 收件台").status_code == 201
    assert _step(archivist, first, step="bind").get_json()["error"] == "count_first"
    assert _step(archivist, first, step="count", material_count=0).status_code == 422
    assert _step(archivist, first, step="count", material_count=120).get_json()["material_count"] == 120
    assert _step(archivist, first, step="bind").status_code == 200
    assert _digitise(archivist, first, b"GIF89a not a pdf").status_code == 422
    digitised = _digitise(archivist, first).get_json()
    assert digitised["scan_sha256"] == hashlib.sha256(PDF).hexdigest()
    stored = app.config["SETTINGS"].storage_dir / "archive" / f"{digitised['scan_sha256']}.pdf"
    assert stored.read_bytes() == PDF
    assert _step(archivist, first, step="archive").get_json()["field"] == "archive_location"
    assert _step(archivist, first, step="archive", archive_location="档案库 3-2-14").status_code == 200

    chain = court["court_admin"].get(f"/api/v1/dossiers/{first}/custody").get_json()
    assert [e["action"] for e in chain["events"]] == ["receive", "count", "bind", "digitise", "archive"]
    assert chain["events"][1]["details"] == {"material_count": 120}
    assert chain["location"] == "档案库 3-2-14" and chain["verified"]
    assert court["court_admin"].get(f"/api/v1/cases/{case_id}").get_json()["status"] == "closed"  # one volume left

    second = dossiers[1]["id"]
    scan(archivist, dossiers[1]["qr_token"])
    for body in ({"step": "count", "material_count": 80}, {"step": "bind"}):
        assert _step(archivist, second, **body).status_code == 200
    _digitise(archivist, second)
    clock.advance(days=3)
    _step(archivist, second, step="archive", archive_location="档案库 3-2-15")
    assert court["court_admin"].get(f"/api/v1/cases/{case_id}").get_json()["status"] == "archived"
    assert archivist.get("/api/v1/archive/queue").get_json()["cases"] == []
    late = scan(court["file_clerk"], dossiers[0]["qr_token"])
    assert late.status_code == 409 and late.get_json()["error"] == "dossier_archived"

    kpis = court["court_admin"].get("/api/v1/reports/kpis?from=2027-01-01&to=2027-01-31").get_json()
    assert kpis["archived_within_30_days_rate"] == 1.0


def test_deadline_warnings_go_out_once_at_7_and_1_days(court, dossiers, app, clock):
    from datetime import datetime

    from sqlalchemy import select

    from ancillary.jobs import run_sweeps
    from ancillary.outbox import Notification

    court.make_actor("archivist", phone="+8613800000099")
    _close(court, dossiers[0]["case_id"])
    run_sweeps(app, datetime.fromisoformat("2027-01-20T10:00:00+08:00"))  # 14 days left: nothing
    run_sweeps(app, datetime.fromisoformat("2027-01-28T10:00:00+08:00"))  # 6 days left
    run_sweeps(app, datetime.fromisoformat("2027-01-28T11:00:00+08:00"))  # again: nothing new
    run_sweeps(app, datetime.fromisoformat("2027-02-03T10:00:00+08:00"))  # under 1 day
    with app.app_context():
        from ancillary.extensions import db

        rows = db.session.scalars(select(Notification).where(Notification.kind == "archive_deadline")).all()
        assert sorted(r.idempotency_key.split(":")[2] for r in rows) == ["1", "7"]
        assert all("(2027)鲁1002民初" in r.body for r in rows)


def test_backlog_import_reports_bad_rows_and_queues_oldest_first(court, app, tmp_path):
    csv_text = (
        "case_number,closed_on,volumes,location,cause\n"
        "(2019)鲁1002民初88号,2019-06-30,2,旧库 A-1,买卖合同纠纷\n"
        "(2018)鲁1002民初7号,2018-03-01,1,旧库 A-2,\n"
        "(2018)鲁1002民初7号,2018-03-01,1,旧库 A-2,\n"
        "(2020)鲁1002民初1号,2020-13-01,1,,\n"
        "(2020)鲁1002民初2号,2020-01-01,zero,,\n"
        "x,2020-01-01,1,,\n"
    )
    path = tmp_path / "backlog.csv"
    path.write_text(csv_text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["archive", "import-backlog", str(path)])
    assert result.exit_code == 2, result.output
    assert "2 backlog file(s) imported, 4 bad row(s)" in result.output
    for line in ("line 4: case (2018)鲁1002民初7号 is already known", "line 5: closed_on", "line 6: volumes",
                 "line 7: case_number"):
        assert line in result.output
    queue = court["archivist"].get("/api/v1/archive/queue").get_json()
    assert [b["case_number"] for b in queue["backlog"]] == ["(2018)鲁1002民初7号", "(2019)鲁1002民初88号"]
    again = app.test_cli_runner().invoke(args=["archive", "import-backlog", str(path)])
    assert "0 backlog file(s) imported" in again.output
    item = queue["backlog"][0]["id"]
    done = court["archivist"].post(f"/api/v1/archive/backlog/{item}/archive", json={"archive_location": "档案库 1-1-1"})
    assert done.status_code == 200
    assert court["archivist"].post(f"/api/v1/archive/backlog/{item}/archive",
                                   json={"archive_location": "x"}).status_code == 409
    assert court["file_clerk"].post(f"/api/v1/archive/backlog/{item}/archive",
                                    json={"archive_location": "x"}).status_code == 403
    bad = tmp_path / "bad.csv"
    bad.write_bytes("number,date\n".encode("gbk") + "案号".encode("gbk"))
    assert app.test_cli_runner().invoke(args=["archive", "import-backlog", str(bad)]).exit_code == 1


def test_a_case_still_inside_its_30_days_is_not_counted_late(court, dossiers, clock):
    _close(court, dossiers[0]["case_id"])
    kpis = court["court_admin"].get("/api/v1/reports/kpis?from=2027-01-04&to=2027-01-04").get_json()
    assert kpis["archived_within_30_days_rate"] is None and kpis["cases_awaiting_archive"] == 1
    clock.set("2027-02-04T00:00:01+08:00")  # the 30 days ran out, nothing archived
    kpis = court["court_admin"].get("/api/v1/reports/kpis?from=2027-01-04&to=2027-01-04").get_json()
    assert kpis["archived_within_30_days_rate"] == 0.0
