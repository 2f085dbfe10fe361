"""Requests as Slack sends them to an app: signed headers and form bodies.

The one builder of signed requests: the stand-in's driver, the tests that post by hand and
the benches all sign and encode through it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"


def signed_headers(
    secret: str,
    body: str | bytes,
    *,
    content_type: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Slack's signature headers over ``body`` exactly as sent (and its content type).

    Signed over the bytes, as Slack does (slack_sdk's ``generate_signature`` decodes them as
    UTF-8 first, so it cannot sign a body that is not UTF-8: the tests send some)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256)
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


def interaction_body(payload: Mapping[str, Any]) -> str:
    """A block action, view submission or shortcut: the JSON payload in a form field."""
    return urlencode({"payload": json.dumps(payload)})


def slash_command_form(
    *,
    token: str,
    team_id: str,
    team_domain: str,
    channel_id: str,
    channel_name: str,
    user_id: str,
    user_name: str,
    command: str,
    text: str,
    api_app_id: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command (send them with ``urlencode``)."""
    return {
        "token": token,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
