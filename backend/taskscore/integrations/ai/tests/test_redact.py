"""Redaction of task text before it reaches an AI provider: what is replaced, by which placeholder,
and the numbers and words that must be left alone."""

from __future__ import annotations

import pytest

from taskscore.integrations.ai.redact import REDACTION_KINDS, Redaction, RedactionKind, redact

# Fake credentials, split so that secret scanners do not take this file for a leak.
STRIPE_LIVE = "sk_" + "live_" + "51HxYzAbCdEfGhIjKlMnOp"
STRIPE_TEST = "sk_" + "test_" + "4eC39HqLyjWDarjtT1zdp7dc"
STRIPE_RESTRICTED = "rk_" + "live_" + "51HxYzAbCdEfGh12"
STRIPE_PUBLISHABLE = "pk_" + "test_" + "TYooMQauvdEDq54NiTphI7jx"
STRIPE_WEBHOOK = "whsec_" + "5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH"
OPENAI_PROJECT = "sk-" + "proj-" + "abc123DEF456ghi789JKL012"
OPENAI_LEGACY = "sk-" + "T3BlbkFJ8x2Yq9Lm4Np7Rs1Tu6Vw"
GITHUB_CLASSIC = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GITHUB_OAUTH = "gho_" + "16C7e42F292c6912E7710c838347Ae178B4a"
GITHUB_FINE_GRAINED = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnop"
SLACK_BOT = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKl"
AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9"
    + "."
    + "eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    + "."
    + "dBjftJeZ4CVPmB92K27uhbUJU1p1r"
)
HEX_KEY = "3f2a9c1b4d5e6f708192a3b4c5d6e7f8091a2b3c"
RANDOM_KEY = "Zx8Qp2Lm7Rt4Vw9Ky3Nb6Hc1Jd5Fg0Sa"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Mail alice@example.com today.", "Mail [email] today.", id="plain"),
        pytest.param("alice.smith+qa@mail.example.co.uk", "[email]", id="plus-and-subdomains"),
        pytest.param("<carol@example.io>, dave@example.io;", "<[email]>, [email];", id="lists"),
    ],
)
def test_email_addresses(text: str, expected: str) -> None:
    assert redact(text) == Redaction(expected, ("email",))


@pytest.mark.parametrize(
    "phone",
    [
        "+1 (415) 555-2671",
        "+1 415 555 2671",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "+49 30 901820",
        "+33 1 23 45 67 89",
        "+4915112345678",
        "+82-10-1234-5678",
        "(415) 555-2671",
        "415-555-2671",
        "415.555.2671",
        "415 555 2671",
        "1-800-555-0199",
        "020 7946 0958",
        "07700 900123",
        "030 901820",
        "0151 1234 5678",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "010-1234-5678",
    ],
)
def test_phone_numbers(phone: str) -> None:
    assert redact(f"Call {phone}, then close the ticket.") == Redaction(
        "Call [phone], then close the ticket.", ("phone",)
    )


@pytest.mark.parametrize(
    "card",
    [
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "4242424242424242",
        "4111111111111111",
        "5555 5555 5555 4444",
        "2223003122003222",
        "3782 822463 10005",
        "378282246310005",
        "6011111111111117",
        "4000 0566 5566 5556 007",
    ],
)
def test_luhn_valid_card_numbers(card: str) -> None:
    assert redact(f"Paid with {card}.") == Redaction("Paid with [card].", ("card",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"key {STRIPE_LIVE}.", "key [secret].", id="stripe-live"),
        pytest.param(f"key {STRIPE_TEST}", "key [secret]", id="stripe-test"),
        pytest.param(f"key {STRIPE_RESTRICTED}", "key [secret]", id="stripe-restricted"),
        pytest.param(f"key {STRIPE_PUBLISHABLE}", "key [secret]", id="stripe-publishable"),
        pytest.param(f"hook {STRIPE_WEBHOOK}", "hook [secret]", id="stripe-webhook"),
        pytest.param(f"key {OPENAI_PROJECT}", "key [secret]", id="openai-project"),
        pytest.param(f"key {OPENAI_LEGACY}", "key [secret]", id="openai"),
        pytest.param(f"({GITHUB_CLASSIC})", "([secret])", id="github-classic"),
        pytest.param(f"{GITHUB_OAUTH}", "[secret]", id="github-oauth"),
        pytest.param(f"{GITHUB_FINE_GRAINED}", "[secret]", id="github-fine-grained"),
        pytest.param(f"slack {SLACK_BOT}", "slack [secret]", id="slack"),
        pytest.param(f"aws {AWS_KEY_ID}", "aws [secret]", id="aws-key-id"),
        pytest.param(f"cookie {JWT}", "cookie [secret]", id="jwt"),
        pytest.param(
            f"Authorization: Bearer {JWT}", "Authorization: Bearer [secret]", id="bearer-jwt"
        ),
        pytest.param(
            "Authorization: Bearer abc123def456ghi789",
            "Authorization: Bearer [secret]",
            id="bearer",
        ),
        pytest.param("use bearer 9f8e7d6c5b4a", "use bearer [secret]", id="bare-bearer"),
        pytest.param(
            "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [secret]", id="basic"
        ),
        pytest.param("password=hunter2", "password=[secret]", id="password"),
        pytest.param("DB_PASSWORD: Summer2024!", "DB_PASSWORD: [secret]", id="env-password"),
        pytest.param("secret: 'correct horse'", "secret: '[secret]'", id="quoted-secret"),
        pytest.param("token=abc.", "token=[secret].", id="token-before-a-full-stop"),
        pytest.param("(token=abc)", "(token=[secret])", id="token-in-brackets"),
        pytest.param("api_key = xyz, next", "api_key = [secret], next", id="api-key"),
        pytest.param("X-API-KEY: 12345abc", "X-API-KEY: [secret]", id="api-key-header"),
        pytest.param('{"api_key": "abc"}', '{"api_key": "[secret]"}', id="json"),
        pytest.param(
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = [secret]",
            id="aws-secret",
        ),
        pytest.param(f"commit {HEX_KEY} broke it", "commit [secret] broke it", id="hex"),
        pytest.param(f"key: {RANDOM_KEY}", "key: [secret]", id="random"),
    ],
)
def test_secrets(text: str, expected: str) -> None:
    assert redact(text) == Redaction(expected, ("secret",))


@pytest.mark.parametrize(
    ("text", "expected", "kinds"),
    [
        pytest.param(
            "See https://example.com/reset?token=abc&email=a@b.com#top.",
            "See https://example.com/reset?[query].",
            ("query",),
            id="query-and-fragment",
        ),
        pytest.param(
            "https://github.com/org/repo/blob/main/app.py#L10-L20",
            "https://github.com/org/repo/blob/main/app.py?[query]",
            ("query",),
            id="fragment",
        ),
        pytest.param(
            "[docs](https://example.com/a?b=1)",
            "[docs](https://example.com/a?[query])",
            ("query",),
            id="markdown-link",
        ),
        pytest.param(
            "postgres://admin:hunter2@db.internal:5432/app?sslmode=require",
            "postgres://admin:[secret]@db.internal:5432/app?[query]",
            ("query", "secret"),
            id="password-in-user-info",
        ),
        pytest.param(
            "Did you read https://example.com/docs/setup?",
            "Did you read https://example.com/docs/setup?",
            (),
            id="question-mark-ending-a-sentence",
        ),
        pytest.param(
            "Open https://example.com/tasks/42 and https://example.com/.",
            "Open https://example.com/tasks/42 and https://example.com/.",
            (),
            id="no-query",
        ),
    ],
)
def test_urls_keep_scheme_host_and_path(
    text: str, expected: str, kinds: tuple[RedactionKind, ...]
) -> None:
    assert redact(text) == Redaction(expected, kinds)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Import 10,000 rows and 1,234,567 events.", id="counts"),
        pytest.param("1 000 000 requests", id="spaced-thousands"),
        pytest.param("p95 2.8s, p99 4.12s", id="measurements"),
        pytest.param("Upgrade to 4.12.1 (v10.2.3)", id="versions"),
        pytest.param("Due 2026-12-01, or 01.12.2026, or 12/01/2026, or 01-12-2026", id="dates"),
        pytest.param("Run at 14:30, 2026-12-01T14:30:00Z, 09:00-17:00", id="times"),
        pytest.param("Support hours 0800-1700", id="hours"),
        pytest.param("Budget $12k, €1,200.50, 12 000 EUR", id="money"),
        pytest.param("Conversion up 45% to 12.5%", id="percentages"),
        pytest.param("Fixes #1234 and #12345678", id="issue-numbers"),
        pytest.param("Order 12345678 and invoice 2026001234", id="plain-numbers"),
        pytest.param("Card ending 4242 4242 4242 4241", id="luhn-invalid-card"),
        pytest.param("Created at 1767225600000 ms", id="millisecond-timestamp"),
        pytest.param("Trace 1234567812345670", id="luhn-valid-but-no-card-prefix"),
        pytest.param("Host 192.168.100.200 port 127.0.0.1:8000", id="ip-addresses"),
        pytest.param("Request 550e8400-e29b-41d4-a716-446655440000 failed", id="uuid"),
        pytest.param("ISBN 978-3-16-148410-0", id="isbn"),
        pytest.param("test_scoring_pipeline_handles_429_retry_after", id="identifier"),
        pytest.param("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", id="low-entropy"),
        pytest.param("Use Bearer authentication with refresh tokens", id="bearer-prose"),
        pytest.param("The secret: we ship on Friday.", id="secret-prose"),
        pytest.param("Set max_tokens=512; tokens: 1200; token_count: 5", id="token-counts"),
        pytest.param("Ask @alice in #payments", id="mentions"),
        pytest.param("Rate it 7/10, +15% over Q3 2026", id="ratings"),
        pytest.param('password: ""', id="empty-password"),
    ],
)
def test_plain_numbers_and_words_are_left_alone(text: str) -> None:
    assert redact(text) == Redaction(text, ())


REALISTIC_TASK = f"""Stripe webhook retries double-charge customers

Since 4.12.1 (deployed 2026-12-01 at 14:30), about 10,000 rows a day get a second charge when
the webhook takes longer than p95 2.8s. Reported by jane.doe@acme-corp.com (call her on
+44 20 7946 0958 or 020 7946 0958) in #1234; affected card 4242 4242 4242 4242, $12k so far (3%).

Repro: POST https://api.acme-corp.com/v1/webhooks?signature=abc123&user=jane with
STRIPE_SECRET_KEY={STRIPE_LIVE} and header "Authorization: Bearer {JWT}".
Acceptance: 0 duplicate charges over 7 days; p95 under 1.5s.
"""
REALISTIC_TASK_REDACTED = """Stripe webhook retries double-charge customers

Since 4.12.1 (deployed 2026-12-01 at 14:30), about 10,000 rows a day get a second charge when
the webhook takes longer than p95 2.8s. Reported by [email] (call her on
[phone] or [phone]) in #1234; affected card [card], $12k so far (3%).

Repro: POST https://api.acme-corp.com/v1/webhooks?[query] with
STRIPE_SECRET_KEY=[secret] and header "Authorization: Bearer [secret]".
Acceptance: 0 duplicate charges over 7 days; p95 under 1.5s.
"""


def test_a_realistic_task_keeps_its_meaning_and_loses_its_personal_data() -> None:
    result = redact(REALISTIC_TASK)

    assert result.text == REALISTIC_TASK_REDACTED
    assert result.kinds == ("card", "email", "phone", "query", "secret")
    assert result.redacted is True


def test_the_redacted_values_appear_nowhere_in_the_result() -> None:
    result = redact(REALISTIC_TASK)

    for value in ["jane.doe", "7946", "4242", "signature=abc123", STRIPE_LIVE, JWT, "eyJ"]:
        assert value not in repr(result)


def test_text_without_findings_is_returned_unchanged() -> None:
    result = redact("Add a dark mode toggle to the settings page.")

    assert result == Redaction("Add a dark mode toggle to the settings page.", ())
    assert result.redacted is False


def test_kinds_are_sorted_and_distinct() -> None:
    result = redact("b@example.com, a@example.com, +44 20 7946 0958, c@example.com")

    assert result.kinds == ("email", "phone")


def test_the_kinds_are_the_placeholders_names() -> None:
    assert REDACTION_KINDS == ("card", "email", "phone", "query", "secret")


@pytest.mark.parametrize(
    "text",
    [
        REALISTIC_TASK,
        "token=[secret]. password: '[secret]' and https://x.io/a?[query]",
        "Bearer [secret] at [email], [phone] with [card]",
        "tp://password:' '#fragment",  # the assignment's redaction joins a URL: a second pass
        "token=b.",
        "https://x.io/a?[query]&token=abc",
    ],
)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)

    assert redact(once.text) == Redaction(once.text, ())


def test_a_placeholder_lookalike_does_not_shield_what_follows_it() -> None:
    assert redact("https://x.io/a?[query]&token=abc") == Redaction(
        "https://x.io/a?[query]", ("query",)
    )


def test_redaction_is_deterministic() -> None:
    assert redact(REALISTIC_TASK) == redact(REALISTIC_TASK)
