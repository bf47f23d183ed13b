"""A job function for the scheduler test: APScheduler needs an importable module-level function."""

import os


def record_run(database_url: str) -> None:
    with open(os.environ["REMINDER_PROBE_FILE"], "a") as out:
        out.write("run\n")
