"""Celery's configuration is the project's `CELERY_*` settings (config/celery_settings.py reads
them once, as a plain mapping, instead of through Django's lazy settings on every lookup)."""

from __future__ import annotations

from django.conf import settings

from config.celery import app as celery_app
from config.celery_settings import CONFIG


def test_celery_sees_every_celery_setting_with_its_value() -> None:
    names = [name for name in dir(settings) if name.startswith("CELERY_")]
    assert "CELERY_BROKER_URL" in names
    assert "CELERY_TASK_ACKS_LATE" in names
    for name in names:
        key = name.removeprefix("CELERY_").lower()
        assert celery_app.conf[key] == getattr(settings, name), name


def test_celery_looks_its_settings_up_in_the_mapping_not_through_django() -> None:
    # a name Celery does not find there costs a dict miss, not a raised AttributeError
    assert any(source is CONFIG for source in celery_app.conf.maps or ())
    assert celery_app.conf.task_always_eager is False  # left at Celery's default
