"""Filing writes its rows in few statements: the same rows, in the same order, as one step at a time."""

from datetime import UTC, datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ancillary.audit import services as audit
from ancillary.audit.models import AuditEntry
from ancillary.queues.models import Task
from ancillary.service.models import ServiceOrder

TWO_DEFENDANTS = [
    {"role": "plaintiff", "name": "张三", "id_number": "371002198001010010", "phones": ["13800000001"]},
    {"role": "defendant", "name": "李四", "id_number": "371002198505050024", "phones": ["+8613900000002"],
     "addresses": ["山东省威海市环翠区统一路2号"]},
    {"role": "defendant", "name": "王五", "phones": ["13900000003"], "addresses": ["山东省威海市环翠区新威路9号"]},
]


def test_a_filing_leaves_its_audit_trail_in_the_order_its_steps_happen(court, db_session):
    case = court.file_case(parties=TWO_DEFENDANTS)
    entries = db_session.execute(select(AuditEntry.action, AuditEntry.object_id, AuditEntry.before, AuditEntry.after)
                                 .where(AuditEntry.case_id == case["id"]).order_by(AuditEntry.id)).all()
    tasks = db_session.scalars(select(Task).where(Task.case_id == case["id"]).order_by(Task.id)).all()
    orders = db_session.scalars(select(ServiceOrder).where(ServiceOrder.case_id == case["id"])
                                .order_by(ServiceOrder.id)).all()
    assert [(e.action, e.object_id) for e in entries] == [
        ("case.file", case["id"]),
        *[("task.create", task.id) for task in tasks],
        *[step for order in orders for step in (("service_order.layer", order.id), ("service_order.open", order.id))],
    ]
    assert [e.before for e in entries if e.action == "service_order.layer"] == [{"layer": 0}, {"layer": 0}]
    defendants = [p["id"] for p in case["parties"] if p["role"] == "defendant"]
    assert [e.after for e in entries if e.action == "service_order.open"] == [
        {"party_id": party_id, "reused_addresses": 0} for party_id in defendants]
    # each serve task follows its order's electronic window, written with the task itself
    serve = {t.id: t for t in tasks if t.kind.value == "serve"}
    assert [serve[o.task_id].due_at for o in orders] == [o.layer_due_at for o in orders]
    assert [o.layer for o in orders] == [1, 1]
    assert all(len(o.attempts) == 1 and o.attempts[0].channel.value == "address_reuse" for o in orders)


def test_a_filing_with_two_wrong_parties_names_the_first_one(court):
    """Each party is checked whole (ID number, then phones) before the next, as before persons were batched."""
    wrong_phone = {"role": "plaintiff", "name": "张三", "phones": ["12345"]}
    wrong_id = {"role": "defendant", "name": "李四", "id_number": "371002198505050025"}
    for parties, field in (([wrong_phone, wrong_id], "parties.0.phones.0"),
                           ([wrong_id | {"role": "plaintiff"}, wrong_phone | {"role": "defendant"}],
                            "parties.0.id_number")):
        response = court["intake_clerk"].post("/api/v1/cases", json=court.case_body(parties=parties))
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["field"] == field
        assert list(response.get_json()["errors"]) == [field]
    assert court["court_admin"].get("/api/v1/cases").get_json()["items"] == []


def test_an_entry_is_seen_by_a_read_in_its_own_transaction_and_gone_after_a_rollback(court, db_session):
    case = court.file_case()
    at = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)
    task = db_session.scalars(select(Task).where(Task.case_id == case["id"])).first()
    audit.record(db_session, None, "task.note", task, now=at, after={"note": "看过"})
    seen = db_session.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case["id"],
                                                              AuditEntry.at == at)).all()
    assert seen == ["task.note"]
    db_session.rollback()
    assert db_session.scalars(select(AuditEntry.action).where(AuditEntry.at == at)).all() == []


def test_an_entry_naming_a_row_not_yet_written_carries_the_id_its_flush_gives(court, db_session):
    """No flush before ``record``: the entries keep their order and name the new task by its id."""
    case = court.file_case()
    at = datetime(2027, 1, 4, 5, 0, tzinfo=UTC)
    task = db_session.scalars(select(Task).where(Task.case_id == case["id"])).first()
    copy = Task(queue=task.queue, kind=task.kind, case_id=task.case_id, priority=task.priority,
                status=task.status, created_at=at, due_at=task.due_at)
    db_session.add(copy)
    audit.record(db_session, None, "task.note", task, now=at)
    audit.record(db_session, None, "task.note", copy, now=at, after={"n": 1})
    assert copy.id is None
    db_session.commit()
    rows = db_session.execute(select(AuditEntry.object_id, AuditEntry.case_id, AuditEntry.after)
                              .where(AuditEntry.at == at).order_by(AuditEntry.id)).all()
    assert [tuple(row) for row in rows] == [(task.id, case["id"], None), (copy.id, case["id"], {"n": 1})]
    assert copy.id is not None and copy.id != task.id


def test_entries_written_in_one_statement_are_the_rows_the_orm_writes_one_by_one(court, db_session):
    """The same three entries through the ORM (the hook lifted) and through the hook: equal rows."""
    case = court.file_case()
    task = db_session.scalars(select(Task).where(Task.case_id == case["id"])).first()

    def write(at):
        audit.record(db_session, None, "task.note", task, now=at)  # before and after left empty
        audit.record(db_session, None, "task.note", task, now=at, before={"a": None}, after={"b": [1, "二"]})
        audit.record(db_session, None, "case.note", task, now=at, case_id=None)
        db_session.commit()
        return [tuple(row)[1:] for row in db_session.execute(
            select(AuditEntry.__table__).where(AuditEntry.at == at).order_by(AuditEntry.id))]

    hooked = write(datetime(2027, 1, 4, 3, 0, tzinfo=UTC))
    event.remove(Session, "before_flush", audit._write_entries)
    try:
        plain = write(datetime(2027, 1, 4, 4, 0, tzinfo=UTC))
    finally:
        audit.install()
    raw = db_session.connection().exec_driver_sql(
        "SELECT before, after FROM audit_entries WHERE action = 'task.note' ORDER BY id").all()
    assert [row[1:] for row in hooked] == [row[1:] for row in plain]
    assert raw[0] == raw[2] and raw[1] == raw[3]  # the stored text too: JSON null is written alike


def test_a_filing_writes_each_tables_rows_with_one_statement_and_the_ids_the_database_gives(court, db_session):
    """Two defendants with a phone and an address each: one INSERT per table, ids following the last ones."""
    from ancillary.cases.models import Party, PartyContact

    court.file_case(parties=TWO_DEFENDANTS)
    last_party = db_session.scalar(select(Party.id).order_by(Party.id.desc()).limit(1))
    last_contact = db_session.scalar(select(PartyContact.id).order_by(PartyContact.id.desc()).limit(1))
    db_session.rollback()
    inserts = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO"):
            inserts.append(statement.split()[2].strip('"'))

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        case = court.file_case(parties=TWO_DEFENDANTS, number="(2027)鲁1002民初9901号", volumes=2)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    for table in ("cases", "parties", "party_contacts", "dossiers", "tasks", "service_orders",
                  "service_addresses", "service_attempts"):
        assert inserts.count(table) == 1, (table, inserts)
    assert [p["id"] for p in case["parties"]] == [last_party + 1, last_party + 2, last_party + 3]
    contacts = db_session.scalars(select(PartyContact.id).join(Party).where(Party.case_id == case["id"])
                                  .order_by(PartyContact.id)).all()
    assert contacts == list(range(last_contact + 1, last_contact + 1 + len(contacts)))
    orders = db_session.scalars(select(ServiceOrder).where(ServiceOrder.case_id == case["id"])
                                .order_by(ServiceOrder.id)).all()
    assert [o.recipient_party_id for o in orders] == [p["id"] for p in case["parties"][1:]]
    assert [o.task.party_id for o in orders] == [o.recipient_party_id for o in orders]


def test_a_filing_reads_the_history_of_persons_met_before_only(court, db_session):
    """A defendant first seen in this filing has no other case to read; one met again does."""
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def history_reads(parties, number):
        statements.clear()
        engine = db_session.get_bind()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            court.file_case(parties=parties, number=number)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return sum(1 for s in statements if s.lstrip().startswith("SELECT") and "service_attempts.address" in s)

    assert history_reads(TWO_DEFENDANTS, "(2027)鲁1002民初9902号") == 0
    db_session.rollback()
    assert history_reads(TWO_DEFENDANTS[:2], "(2027)鲁1002民初9903号") == 1  # 李四 again; 张三 is a plaintiff
