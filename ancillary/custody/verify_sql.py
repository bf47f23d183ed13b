"""The SQL of the fast verifier: each event's canonical payload, written by the database.

The hashed payload of :func:`ancillary.custody.models.event_digest` is canonical JSON, so
the query can write it with the database's own JSON quoting (keys in sorted order; the
same escaping as ``json.dumps(ensure_ascii=False)``, which a test checks character by
character). A value of a type the query does not expect makes the payload NULL.
"""

from __future__ import annotations


def sqlite_payload() -> str:
    def integer(c, nullable=False):
        null = " WHEN 'null' THEN 'null'" if nullable else ""
        return f"CASE typeof(e.{c}) WHEN 'integer' THEN e.{c}{null} END"

    def string(c):
        return f"CASE typeof(e.{c}) WHEN 'text' THEN json_quote(e.{c}) WHEN 'null' THEN 'null' END"

    def time(c):  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
        return (f"CASE WHEN e.{c} IS NULL THEN 'null' WHEN typeof(e.{c}) = 'text' AND length(e.{c}) = 26 AND "
                f"substr(e.{c}, 11, 1) = ' ' THEN '\"' || substr(e.{c}, 1, 10) || 'T' || substr(e.{c}, 12) "
                "|| 'Z\"' END")

    return _payload(integer, string, time, details="CASE WHEN e.details IS NULL OR e.details = 'null' THEN 'null' END",
                    conflict="CASE e.conflict WHEN 1 THEN 'true' WHEN 0 THEN 'false' END")


def postgres_payload() -> str:
    def integer(c, nullable=False):
        return f"COALESCE(e.{c}::text, 'null')"

    def string(c):
        return f"COALESCE(to_json(e.{c}::text)::text, 'null')"

    def time(c):
        return f"""COALESCE('"' || to_char(e.{c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"', 'null')"""

    return _payload(integer, string, time, details="CASE WHEN e.details IS NULL OR e.details::text = 'null' "
                    "THEN 'null' END", conflict="CASE WHEN e.conflict THEN 'true' ELSE 'false' END")


def _payload(integer, string, time, *, details: str, conflict: str) -> str:
    """SQL for ``{"content":{...sorted keys...},"prev":...}``; NULL if any part is unexpected."""
    parts = [
        ("action", string("action")), ("actor_id", integer("actor_id")), ("client_scan_id", string("client_scan_id")),
        ("conflict", conflict), ("details", details), ("device_at", time("device_at")),
        ("dossier_id", integer("dossier_id")), ("from_holder_id", integer("from_holder_id", True)),
        ("location", string("location")), ("seq", integer("seq")), ("server_at", time("server_at")),
        ("to_holder_id", integer("to_holder_id", True)),
    ]
    body = " || ',' || ".join(f"'\"{key}\":' || ({sql})" for key, sql in parts)
    return f"""'{{"content":{{' || {body} || '}},"prev":' || ({string("prev_hash")}) || '}}'"""



def scope_sql(column: str, mark: str, scope: tuple[int, int] | None) -> tuple[str, tuple]:
    """The dossier id ``column`` in ``[low, high)``, or everything."""
    if scope is None:
        return "", ()
    return f"{column} >= {mark} AND {column} < {mark}", scope


def _where(condition: str, joiner: str = "WHERE") -> str:
    return f"{joiner} {condition}" if condition else ""


def sqlite_events_sql(condition: str) -> str:
    """Events in (dossier, seq) order with their payload, for Python to hash; NULL: hash by the reference."""
    return (f"SELECT e.id, e.dossier_id, e.seq, e.prev_hash, e.hash, {sqlite_payload()} FROM custody_events e "
            f"{_where(condition)} ORDER BY e.dossier_id, e.seq")


def postgres_walk_sql(condition: str, genesis: str) -> str:
    """PostgreSQL walks the chains itself: beside each event what the walk expects of it (the
    previous event's seq + 1 and hash), whether it ends its chain, and how many events come up
    to it; only the events that end a chain or fail a check come back (the NULL check: hash by
    the reference), so the client reads about one row per dossier."""
    check = f"encode(sha256(convert_to({postgres_payload()}, 'UTF8')), 'hex') = e.hash"
    return (
        "SELECT id, dossier_id, seq, prev_hash, hash, ok, want_seq, want_prev, last, n FROM (SELECT e.id, "
        f"e.dossier_id, e.seq, e.prev_hash, e.hash, {check} AS ok, COALESCE(lag(e.seq) OVER w + 1, 1) AS want_seq, "
        f"COALESCE(lag(e.hash) OVER w, '{genesis}') AS want_prev, lead(e.seq) OVER w IS NULL AS last, "
        f"row_number() OVER (ORDER BY e.dossier_id, e.seq) AS n FROM custody_events e {_where(condition)} "
        "WINDOW w AS (PARTITION BY e.dossier_id ORDER BY e.seq)) walked "
        "WHERE last OR ok IS NOT TRUE OR seq <> want_seq OR prev_hash IS DISTINCT FROM want_prev "
        "ORDER BY dossier_id, seq"
    )


def heads_sql(condition: str) -> str:
    # Heads walk beside the events in the same order (a join would copy a head into every row).
    return f"SELECT h.dossier_id, h.seq, h.hash FROM custody_heads h {_where(condition)} ORDER BY h.dossier_id"


def orphan_sql(condition: str) -> str:
    """The first head whose chain has no event at all."""
    return ("SELECT h.dossier_id, h.seq FROM custody_heads h WHERE NOT EXISTS "
            "(SELECT 1 FROM custody_events e WHERE e.dossier_id = h.dossier_id) "
            f"{_where(condition, 'AND')} ORDER BY h.dossier_id LIMIT 1")


def holder_sql(postgres: bool, condition: str) -> str:
    """The first dossier whose holder or location is not what its chain's latest event says
    (latest by when it happened: device time, else server time; then by seq). One short
    look per dossier down its own chain, which is cheaper than ranking every event."""
    differs = "IS DISTINCT FROM" if postgres else "IS NOT"
    return (
        "SELECT d.id, e.seq FROM dossiers d JOIN custody_events e ON e.id = (SELECT l.id FROM custody_events l "
        "WHERE l.dossier_id = d.id ORDER BY COALESCE(l.device_at, l.server_at) DESC, l.seq DESC LIMIT 1) "
        f"WHERE (d.holder_id {differs} e.to_holder_id OR d.location {differs} e.location) {_where(condition, 'AND')} "
        "ORDER BY d.id LIMIT 1"
    )


def head_copy_sql(postgres: bool, condition: str) -> str:
    """The first dossier whose copy of its chain's head (kept on its row for scans) is not custody_heads'."""
    differs = "IS DISTINCT FROM" if postgres else "IS NOT"
    checks = " OR ".join(f"d.head_{c} {differs} h.{c}" for c in ("seq", "hash", "last_at"))
    return (f"SELECT d.id, h.seq FROM dossiers d LEFT JOIN custody_heads h ON h.dossier_id = d.id "
            f"WHERE ({checks}) {_where(condition, 'AND')} ORDER BY d.id LIMIT 1")


def bounds_sql() -> str:
    """The lowest and highest dossier with a chain or a head."""
    return ("SELECT min(low), max(high) FROM (SELECT min(dossier_id) AS low, max(dossier_id) AS high "
            "FROM custody_events UNION ALL SELECT min(dossier_id), max(dossier_id) FROM custody_heads) b")
