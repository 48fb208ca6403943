"""Suite-wide test settings."""

from __future__ import annotations

import os

from hypothesis import settings

# CI runs the same examples every time (a red build means a real regression, not a new
# random draw); developers get fresh examples on every run to find new bugs.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
