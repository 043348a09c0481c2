"""The outbox mail backend: each message printed and kept as one JSON file, readable back."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.test import override_settings

from taskscore.integrations.mail.outbox import (
    MESSAGE_ID,
    OutboxEmailBackend,
    links_in,
    outbox_message_get,
    outbox_messages,
)

BACKEND = "taskscore.integrations.mail.outbox.OutboxEmailBackend"


def _send(directory: Path, stream: io.StringIO, *, subject: str, body: str) -> int:
    connection = get_connection(BACKEND, outbox_dir=directory, stream=stream)
    message = EmailMessage(
        subject=subject, body=body, from_email="Taskscore <noreply@taskscore.localhost>",
        to=["ivan@example.test", "ops@example.test"], connection=connection,
    )  # fmt: skip
    return message.send()


def test_a_message_is_printed_and_stored_as_one_json_file(tmp_path: Path) -> None:
    # given the outbox backend writing to an empty directory
    stream = io.StringIO()
    body = (
        "Accept within 7 days: http://127.0.0.1:3000/invitations/abc_DEF-123.\n"
        "Or see (https://taskscore.example/help?q=1&x=2), then http://127.0.0.1:3000/invitations/"
        "abc_DEF-123 again.\n"
    )
    # when a message is sent
    sent = _send(tmp_path, stream, subject="You are invited", body=body)
    # then it is printed like the console backend does
    assert sent == 1
    assert "Subject: You are invited" in stream.getvalue()
    # and stored as one file named by its id, with every link once, punctuation trimmed
    [path] = list(tmp_path.iterdir())
    stored = json.loads(path.read_text())
    assert path.name == f"{stored['id']}.json"
    assert MESSAGE_ID.match(stored["id"])
    assert datetime.fromisoformat(stored["sent_at"]).tzinfo is not None
    assert {k: v for k, v in stored.items() if k not in ("id", "sent_at")} == {
        "from": "Taskscore <noreply@taskscore.localhost>",
        "to": ["ivan@example.test", "ops@example.test"],
        "subject": "You are invited",
        "body": body,
        "links": [
            "http://127.0.0.1:3000/invitations/abc_DEF-123",
            "https://taskscore.example/help?q=1&x=2",
        ],
    }
    # and it reads back by id
    assert outbox_message_get(tmp_path, stored["id"]) == stored


def test_messages_list_newest_first_and_at_most_the_limit(tmp_path: Path) -> None:
    # given five messages sent one after another
    stream = io.StringIO()
    for n in range(5):
        _send(tmp_path, stream, subject=f"message {n}", body="no links here")
    # and a half-written temporary file and a stray file that are not messages
    (tmp_path / ".partial.tmp").write_text("{")
    (tmp_path / "notes.json").write_text("{}")
    # when the newest three are listed
    listed = outbox_messages(tmp_path, limit=3)
    # then they come newest first, and only messages are read
    assert [m["subject"] for m in listed] == ["message 4", "message 3", "message 2"]
    assert [m["links"] for m in listed] == [[], [], []]
    assert len(outbox_messages(tmp_path)) == 5


@pytest.mark.parametrize(
    "message_id",
    ["../secret", "..", "notes", "/etc/passwd", "20260101T000000000000Z-0000000g", ""],
)
def test_an_id_that_is_not_a_message_id_reads_nothing(tmp_path: Path, message_id: str) -> None:
    # given files a crafted id could point at
    (tmp_path / "notes.json").write_text('{"secret": true}')
    (tmp_path.parent / "secret.json").write_text('{"secret": true}')
    # when read by that id, then nothing is
    assert outbox_message_get(tmp_path, message_id) is None


def test_an_unknown_well_formed_id_reads_nothing(tmp_path: Path) -> None:
    assert outbox_message_get(tmp_path, "20260101T000000000000Z-00000000") is None
    assert outbox_messages(tmp_path / "missing") == []


def test_the_directory_comes_from_settings_and_is_required(tmp_path: Path) -> None:
    with override_settings(MAIL_OUTBOX_DIR=str(tmp_path / "outbox")):
        assert OutboxEmailBackend().outbox_dir == tmp_path / "outbox"
    with override_settings(MAIL_OUTBOX_DIR=""), pytest.raises(ImproperlyConfigured):
        OutboxEmailBackend()


def test_links_are_http_or_https_only() -> None:
    text = "ftp://x.test mailto:a@b.test http:// https://ok.test/a_b?c=d#e, <http://t.test/x>"
    assert links_in(text) == ["https://ok.test/a_b?c=d#e", "http://t.test/x"]
