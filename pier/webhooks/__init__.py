"""Webhooks: target checks, Standard Webhooks signatures, and the background sender."""

from pier.webhooks.sender import WebhookSender
from pier.webhooks.signing import sign
from pier.webhooks.targets import EVENTS, TargetRefused, check_events, check_url, client

__all__ = [
    "EVENTS",
    "TargetRefused",
    "WebhookSender",
    "check_events",
    "check_url",
    "client",
    "sign",
]
