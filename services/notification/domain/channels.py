"""Codes of the webhook channel's formats (shared by the preferences and the channel itself)."""

from __future__ import annotations

import enum


class WebhookFormat(enum.StrEnum):
    STANDARD = "standard"  # signed as the Standard Webhooks convention says
    SLACK = "slack"  # a Slack incoming webhook
    TEAMS = "teams"  # a Microsoft Teams incoming webhook (Adaptive Card)
