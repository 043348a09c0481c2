"""What a task may hold: the limits that submission and review both check."""

from __future__ import annotations

import re

from taskscore.scoring.engine import BOUND

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
ATTRIBUTES_MAX = 50
ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ATTRIBUTE_ABS_MAX = BOUND
