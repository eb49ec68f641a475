"""Keep secrets out of messages, and say in one line why an object store refused a request.

Lance's errors are long debug dumps that may echo request URLs (with SAS signatures) or options;
the store passes every message it raises or logs through `scrub`, and `explain` turns the
common object-store failures (missing container or bucket, rejected credentials, unreachable
endpoint) into a sentence a person can act on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import StoreUnavailable

MASK = "***"
_SECRET_KEY_HINTS = ("key", "secret", "token", "password", "sas", "credential", "signature")
_URL_SECRETS = re.compile(
    r"(?i)\b(sig|signature|x-amz-signature|x-goog-signature|token)=[^&\s\"']+"
)
_CODE = re.compile(r"<Code>\s*([A-Za-z]+)\s*</Code>")
_STATUS = re.compile(r"(?i)\bstatus(?:\s*code)?\W{0,3}(\d{3})\b")

_MISSING = ("ContainerNotFound", "NoSuchBucket", "BucketNotFound", "ResourceNotFound")
_AUTH = (
    "AuthorizationFailure",
    "AuthenticationFailed",
    "AuthorizationPermissionMismatch",
    "InvalidAuthenticationInfo",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "ExpiredToken",
    "InvalidToken",
)
_UNREACHABLE = (
    "connection refused",
    "connectionrefused",
    "tcp connect error",
    "dns error",
    "failed to lookup address",
    "timed out",
    "network is unreachable",
    "no route to host",
)


def secrets_of(options: Mapping[str, str] | None) -> tuple[str, ...]:
    """The values of options that look secret (keys, tokens, passwords), longest first."""
    values = {
        str(value)
        for key, value in (options or {}).items()
        if any(hint in key.lower() for hint in _SECRET_KEY_HINTS) and len(str(value)) >= 4
    }
    return tuple(sorted(values, key=len, reverse=True))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret value and every URL signature replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return _URL_SECRETS.sub(lambda m: f"{m.group(1)}={MASK}", text)


def explain(text: str) -> str | None:
    """One sentence for a failed object-store request, or None when `text` is not one."""
    lowered = text.lower()
    code_match = _CODE.search(text)
    code = code_match.group(1) if code_match else ""
    status_match = _STATUS.search(text)
    status = int(status_match.group(1)) if status_match else None
    detail = " ".join(str(p) for p in (f"HTTP {status}" if status else "", code) if p)
    if code in _MISSING or (
        ("bucket" in lowered or "container" in lowered)
        and ("does not exist" in lowered or "not found" in lowered)
    ):
        return (
            f"the container or bucket does not exist ({detail or 'not found'}); create it "
            "first, LanceDB does not create it"
        )
    if "invalid access key" in lowered or "invalid account key" in lowered:
        return (
            "the access key in storage_options is malformed (an Azure account key is base64); "
            "check it and the environment variable it comes from"
        )
    if code in _AUTH or status in (401, 403):
        return (
            f"the storage service rejected the credentials ({detail}); check the account name "
            "and key, access keys or token in storage_options and their environment variables"
        )
    if any(marker in lowered for marker in _UNREACHABLE):
        return (
            "cannot reach the storage endpoint (connection refused, DNS failure or timeout); "
            "check storage_options.endpoint and the network"
        )
    if status is not None and status >= 400:
        return f"the storage service refused the request ({detail})"
    return None


class Failures:
    """How one store's failures leave it: storage failures as StoreUnavailable with a short,
    secret-free reason; anything else (a bug, bad input) unchanged unless it leaks a secret."""

    def __init__(self, uri: str, options: Mapping[str, str] | None) -> None:
        self.uri = uri
        self._secrets = secrets_of(options)

    def scrub(self, text: str) -> str:
        return scrub(text, self._secrets)

    def leaks(self, exc: BaseException) -> bool:
        return self.scrub(str(exc)) != str(exc)

    def translate(self, exc: BaseException, doing: str = "") -> BaseException:
        """A storage failure as StoreUnavailable; any other error is returned as it is."""
        text = str(exc)
        reason = explain(text)
        if reason is None and not isinstance(exc, OSError) and not self.leaks(exc):
            return exc  # not a storage failure: a bug or bad input, keep it as it is
        reason = reason or self.scrub(text)[:1000]
        return StoreUnavailable(self.uri, f"{doing}{reason}")
