"""Who is notified on which channel, preferences, and how an e-mail delivery ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notification.domain.email import EmailContent, Links, compose_email, html_text, plain_text
from services.notification.domain.model import (
    AttemptResult,
    Channel,
    Contact,
    DeliveryState,
    FailureReason,
    Notification,
    Preferences,
    Recipient,
    Trigger,
    after_attempt,
    notification_id,
    others_of,
    plan,
    validate_preferences,
)
from services.notification.domain.templates import Audience, Facts, Template
from services.notification.domain.unsubscribe import Unsubscription, read_unsubscribe_token
from services.shared.errors import FailedPrecondition, InvalidArgument

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
MENTOR, MENTEE = Recipient("E-1", Audience.MENTOR), Recipient("E-2", Audience.MENTEE)
LINKS = Links("https://mentoring.example.com/", b"secret")


def trigger(template: Template = Template.MATCH_PROPOSED, *recipients: Recipient) -> Trigger:
    return Trigger("ev-1", template, recipients or (MENTOR, MENTEE), Facts(program_name="P"), "acme")


def test_defaults_give_in_app_delivered_and_email_pending() -> None:
    planned = plan(trigger(), {}, email_by_default=True, now=NOW)
    by_channel = {(item.recipient_id, item.channel): item for item in planned.notifications}
    assert set(by_channel) == {
        ("E-1", Channel.IN_APP),
        ("E-1", Channel.EMAIL),
        ("E-2", Channel.IN_APP),
        ("E-2", Channel.EMAIL),
    }
    assert by_channel["E-1", Channel.IN_APP].state is DeliveryState.DELIVERED
    assert by_channel["E-1", Channel.EMAIL].state is DeliveryState.PENDING
    assert by_channel["E-1", Channel.EMAIL].next_attempt_at == NOW
    assert by_channel["E-1", Channel.IN_APP].title != by_channel["E-2", Channel.IN_APP].title, "per audience"
    assert all(item.tenant == "acme" for item in planned.notifications)


def test_email_off_by_default_leaves_only_in_app() -> None:
    planned = plan(trigger(), {}, email_by_default=False, now=NOW)
    assert {item.channel for item in planned.notifications} == {Channel.IN_APP}


def test_muted_template_and_all_channels_off_notify_no_one() -> None:
    preferences = {
        "E-1": Preferences("E-1", email=True, muted_templates=frozenset({Template.MATCH_PROPOSED})),
        "E-2": Preferences("E-2", email=False, in_app=False),
    }
    planned = plan(trigger(), preferences, email_by_default=True, now=NOW)
    assert planned.notifications == ()
    assert planned.muted == ("E-1", "E-2")


def test_muting_one_template_keeps_the_others() -> None:
    preferences = {
        "E-1": Preferences("E-1", email=False, muted_templates=frozenset({Template.MATCH_PROPOSED}))
    }
    planned = plan(trigger(Template.MATCH_ACTIVATED, MENTOR), preferences, email_by_default=True, now=NOW)
    assert [(item.recipient_id, item.channel) for item in planned.notifications] == [("E-1", Channel.IN_APP)]


def test_a_recipient_listed_twice_is_notified_once() -> None:
    planned = plan(trigger(Template.MATCH_ACTIVATED, MENTOR, MENTOR), {}, email_by_default=False, now=NOW)
    assert len(planned.notifications) == 1


def test_notification_ids_are_deterministic_and_distinct() -> None:
    first = notification_id("ev-1", "E-1", Template.ENROLLED, Channel.IN_APP)
    assert first == notification_id("ev-1", "E-1", Template.ENROLLED, Channel.IN_APP)
    assert first != notification_id("ev-1", "E-1", Template.ENROLLED, Channel.EMAIL)
    assert first != notification_id("ev-2", "E-1", Template.ENROLLED, Channel.IN_APP)


def test_rendered_texts_carry_no_recipient_id() -> None:
    planned = plan(trigger(), {}, email_by_default=True, now=NOW)
    assert all(
        "E-1" not in item.body + item.title and "E-2" not in item.body for item in planned.notifications
    )


@pytest.mark.parametrize(
    ("by", "expected"),
    [(Audience.MENTOR, ["E-2", "E-3"]), (Audience.MENTEE, ["E-1"]), (None, ["E-1", "E-2", "E-3"])],
)
def test_others_of_the_side_that_acted(by: Audience | None, expected: list[str]) -> None:
    assert [recipient.employee_id for recipient in others_of(by, "E-1", ["E-2", "E-3"])] == expected


def test_preferences_validation() -> None:
    valid = validate_preferences(" E-1 ", True, False, " https://hooks.example/x ", ["session_scheduled"])
    assert valid == Preferences(
        "E-1", True, False, "https://hooks.example/x", frozenset({Template.SESSION_SCHEDULED})
    )
    with pytest.raises(InvalidArgument) as raised:
        validate_preferences("E-1", True, True, "", ["enrolled", "nonsense"])
    assert raised.value.field == "muted_templates[1]"
    for url in ("http://plain.example", "https://", "ftp://x"):
        with pytest.raises(InvalidArgument) as raised:
            validate_preferences("E-1", True, True, url, [])
        assert raised.value.field == "webhook_url"
    with pytest.raises(InvalidArgument) as raised:
        validate_preferences("  ", True, True, "", [])
    assert raised.value.field == "recipient_id"


def test_only_the_recipient_marks_an_item_read() -> None:
    item = plan(trigger(Template.ENROLLED, MENTEE), {}, False, NOW).notifications[0]
    assert item.mark_read("E-2").read
    with pytest.raises(FailedPrecondition) as raised:
        item.mark_read("E-1")
    assert raised.value.rule == "not_the_recipient"


# ---- e-mail ----


def pending_email() -> Notification:
    return next(
        item
        for item in plan(trigger(Template.ENROLLED, MENTEE), {}, True, NOW).notifications
        if item.channel is Channel.EMAIL
    )


def test_compose_greets_by_name_and_keeps_the_text() -> None:
    item = pending_email()
    content = compose_email(item, Contact("E-2", "Ada Lovelace", "ada@example.com"), LINKS)
    assert isinstance(content, EmailContent)
    assert (content.to_name, content.to_address, content.subject) == (
        "Ada Lovelace",
        "ada@example.com",
        item.title,
    )
    text, html = plain_text(content), html_text(content)
    assert text.startswith("Hello Ada Lovelace,") and item.body in text
    assert "<p>Hello Ada Lovelace,</p>" in html and f"<p>{item.body}</p>" in html
    assert content.settings_url == "https://mentoring.example.com/settings/notifications"
    assert content.settings_url in text and content.settings_url in html
    assert "the app" not in text


def test_the_unsubscribe_link_is_signed_for_its_recipient_and_template() -> None:
    item = pending_email()
    content = compose_email(item, Contact("E-2", "Ada", "ada@example.com"), LINKS)
    assert isinstance(content, EmailContent)
    assert content.unsubscribe_url.startswith(
        "https://mentoring.example.com/notifications/unsubscribe?token="
    )
    token = content.unsubscribe_url.split("token=", 1)[1]
    assert read_unsubscribe_token(b"secret", token) == Unsubscription("acme", "E-2", Template.ENROLLED)
    payload, signature = token.split(".")
    for forged in (f"{payload}.{signature[:-2]}AA", f"{payload[:-1]}x.{signature}", "nonsense"):
        with pytest.raises(InvalidArgument):
            read_unsubscribe_token(b"secret", forged)
    with pytest.raises(InvalidArgument):
        read_unsubscribe_token(b"another secret", token)


@pytest.mark.parametrize(
    ("contact", "reason"),
    [
        (Contact("E-2", "Ada", "ada@example.com", active=False), FailureReason.RECIPIENT_INACTIVE),
        (Contact("E-2", "Ada", ""), FailureReason.NO_EMAIL_ADDRESS),
        (Contact("E-2", "Ada", "ada@"), FailureReason.NO_EMAIL_ADDRESS),
    ],
)
def test_no_email_to_an_inactive_or_addressless_contact(contact: Contact, reason: FailureReason) -> None:
    assert compose_email(pending_email(), contact, LINKS) == AttemptResult.failed(reason)


def test_delivered_after_one_attempt() -> None:
    done = after_attempt(pending_email(), AttemptResult.ok(), NOW, 5, timedelta(seconds=2))
    assert (done.state, done.attempts, done.last_error, done.next_attempt_at) == (
        DeliveryState.DELIVERED,
        1,
        "",
        None,
    )


def test_a_permanent_failure_ends_at_once() -> None:
    failed = after_attempt(
        pending_email(),
        AttemptResult.failed(FailureReason.CONTACT_LOOKUP_UNAVAILABLE),
        NOW,
        5,
        timedelta(seconds=2),
    )
    assert (failed.state, failed.attempts, failed.last_error) == (
        DeliveryState.FAILED,
        1,
        "contact_lookup_unavailable",
    )


def test_retryable_failures_back_off_exponentially_then_fail() -> None:
    item = pending_email()
    transient = AttemptResult.failed(FailureReason.CHANNEL_UNAVAILABLE, retryable=True)
    delays = []
    for _ in range(3):
        item = after_attempt(item, transient, NOW, 4, timedelta(seconds=2))
        assert item.state is DeliveryState.PENDING
        assert item.next_attempt_at is not None
        delays.append(item.next_attempt_at - NOW)
    assert delays == [timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8)]
    item = after_attempt(item, transient, NOW, 4, timedelta(seconds=2))
    assert (item.state, item.attempts, item.last_error) == (DeliveryState.FAILED, 4, "channel_unavailable")
    with pytest.raises(FailedPrecondition):
        after_attempt(item, AttemptResult.ok(), NOW, 4, timedelta(seconds=2))


def test_jitter_shortens_the_back_off_by_up_to_half() -> None:
    transient = AttemptResult.failed(FailureReason.SMTP_DEFERRED, retryable=True)
    delays = []
    for jitter in (0.0, 0.5, 0.999999):
        item = after_attempt(pending_email(), transient, NOW, 4, timedelta(seconds=8), jitter=jitter)
        assert item.next_attempt_at is not None
        delays.append((item.next_attempt_at - NOW).total_seconds())
    assert delays[0] == 8 and delays[1] == 6 and 4 < delays[2] < 4.01
