"""Settings for the test suite and the demo: development defaults, then the real settings."""

import os

os.environ.setdefault("CRISISDESK_DEBUG", "1")

from crisisdesk.settings import *  # noqa: E402,F403
