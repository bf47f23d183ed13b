"""A tick stand-in for the scheduler test: it only notes that it ran."""

import os


def record_run() -> None:
    with open(os.environ["REMINDER_PROBE_FILE"], "a") as out:
        out.write("run\n")
