"""The channels, and the codes of the webhook channel's formats (shared by the preferences, the
categories and the channels themselves)."""

from __future__ import annotations

import enum


class WebhookFormat(enum.StrEnum):
    STANDARD = "standard"  # signed as the Standard Webhooks convention says
    SLACK = "slack"  # a Slack incoming webhook
    TEAMS = "teams"  # a Microsoft Teams incoming webhook (Adaptive Card)


class Channel(enum.StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    WEBHOOK = "webhook"  # the recipient's chat or webhook endpoint
