"""Failed sign-ins are audited and slowed down per account and per address, across processes."""

import threading

from sqlalchemy import select

from ancillary.audit.models import AuditEntry
from ancillary.auth.models import SignInThrottle

PASSWORD = "winter-harbour-lantern-7"


def _try(client, username, password, address="10.0.0.1"):
    return client.post("/api/v1/auth/tokens", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _rows(app, model, *where):
    from ancillary.extensions import db

    with app.app_context():
        rows = db.session.scalars(select(model).where(*where)).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_thirty_wrong_passwords_then_the_right_one_is_slowed_and_traced(app, court, client, clock):
    """The finding: 30 failures, then the right password, signed in at once with no trace."""
    user = court.make_actor("judge", password=PASSWORD)
    statuses = []
    for _ in range(30):
        response = _try(client, user.username, "not-the-password-at-all")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert response.get_json()["error"] == "too_many_attempts" and response.get_json()["message"]
            clock.advance(seconds=int(response.headers["Retry-After"]))
    assert statuses[:5] == [401] * 5 and 429 in statuses
    blocked = _try(client, user.username, PASSWORD)
    assert blocked.status_code == 429  # even the right password waits out the backoff
    failures = _rows(app, AuditEntry, AuditEntry.action == "auth.sign_in_failed")
    assert len(failures) == statuses.count(401)
    assert failures[0].after["username"] == user.username and failures[0].after["address"] == "10.0.0.1"
    assert failures[0].after["user_id"] == user.id


def test_an_attacker_cannot_lock_a_person_out_for_long(app, court, client, clock):
    user = court.make_actor("judge", password=PASSWORD)
    for n in range(200):
        response = _try(client, user.username, "guess", address=f"192.0.2.{n % 250}")
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) <= 60
            clock.advance(seconds=int(response.headers["Retry-After"]))
    clock.advance(seconds=61)
    assert _try(client, user.username, PASSWORD, address="10.9.9.9").status_code == 201
    assert _rows(app, SignInThrottle, SignInThrottle.scope == "account") == []  # success forgets


def test_one_address_guessing_many_accounts_is_slowed(app, court, client, clock):
    statuses = [_try(client, f"user{n}", "guess", address="203.0.113.5").status_code for n in range(25)]
    assert statuses[:20] == [401] * 20 and statuses[-1] == 429
    assert _try(client, "someone-else", "guess", address="203.0.113.6").status_code == 401


def test_failures_count_the_same_from_many_workers_at_once(app, court, clock):
    """Eight threads, each its own client (as gunicorn workers would be), fail at once: none is lost."""
    user = court.make_actor("judge", password=PASSWORD)
    barrier = threading.Barrier(8)
    statuses = []

    def worker(n):
        local = app.test_client()
        barrier.wait()
        for _ in range(3):
            statuses.append(_try(local, user.username, "wrong", address=f"198.51.100.{n}").status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 24 and not any(status >= 500 for status in statuses)
    counted = statuses.count(401)
    account = _rows(app, SignInThrottle, SignInThrottle.scope == "account")[0]
    assert account.failures == counted >= 6  # later ones may be refused by the backoff first


def test_a_quiet_hour_forgets_the_failures(app, court, client, clock):
    user = court.make_actor("judge", password=PASSWORD)
    for _ in range(7):
        _try(client, user.username, "wrong")
    clock.advance(hours=2)
    assert _try(client, user.username, "wrong").status_code == 401
    account = _rows(app, SignInThrottle, SignInThrottle.scope == "account")[0]
    assert account.failures == 1
