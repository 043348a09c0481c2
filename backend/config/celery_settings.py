"""Celery's configuration: the `CELERY_*` Django settings, read once when Celery first loads its
configuration (`config/celery.py`), as a plain mapping.

Celery looks each of its settings up under several names (with the namespace, without it, and its
old names) in each of its sources, on every publish and every job. Read through Django's lazy
settings object, every name it does not find raises and catches an AttributeError: 30–40 µs for
each setting left at Celery's default, half a dozen of them a publish. In a mapping, a missing
name is a dictionary miss. Celery's settings are fixed for a process's life: nothing changes them
after start (tests run their own processes for another broker).
"""

from django.conf import settings

CONFIG = {name: getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")}
