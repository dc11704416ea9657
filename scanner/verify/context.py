"""What a verifier gets to work with: its spec, URLs built safely from it, and a throttled way to send."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .http import Client, Reply, base_override, quote_value
from .spec import PLACEHOLDER, Url, VerifierSpec

_DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class Unusable(Exception):
    """The credential cannot be put into this request safely (e.g. a bad host label). Fixed-text reason."""


def render(template: str, values: Mapping[str, str], encode: Callable[[str], str] | None = None) -> str:
    def one(m: re.Match[str]) -> str:
        value = values[m.group(1)]
        return encode(value) if encode else value

    return PLACEHOLDER.sub(one, template)


def build_url(url: Url, provider: str, values: Mapping[str, str]) -> str:
    """The override origin or the rule's own host, then the path with every value escaped."""
    path = render(url.path, values, quote_value)
    origin = base_override(provider)
    if origin is not None:
        return origin + path
    host = url.host
    if url.label:
        label = values[url.label].lower()
        if not _DNS_LABEL.match(label):
            raise Unusable("the credential does not name a valid host label")
        host = f"{label}.{host}"
    return f"https://{host}" + (f":{url.port}" if url.port else "") + path


@dataclass(frozen=True)
class Context:
    spec: VerifierSpec
    client: Client
    throttle: Callable[[VerifierSpec], None]  # waits for the rate limit; raises TransportError when cut off

    def url(self, values: Mapping[str, str], index: int = 0) -> str:
        return build_url(self.spec.urls[index], self.spec.provider, values)

    def send(self, method: str, url: str, **kwargs: Any) -> Reply:
        self.throttle(self.spec)
        return self.client.send(method, url, **kwargs)
