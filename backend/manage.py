#!/usr/bin/env python
"""Django's command-line utility. Production settings unless DJANGO_SETTINGS_MODULE says
otherwise: on a developer's machine, `make` targets pass `config.settings.local`."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
