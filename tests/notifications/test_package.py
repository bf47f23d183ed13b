import subprocess
import sys


def test_notifications_never_imports_flask():
    code = (
        "import sys\n"
        "import notifications, notifications.channels, notifications.twilio,"
        " notifications.webhooks, notifications.smtp\n"
        "import notifications.testing.twilio_standin, notifications.testing.smtp_standin\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
