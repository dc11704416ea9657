"""Replacing every secret of a run in a text, in time linear in the text, however many secrets there are."""
from __future__ import annotations

from collections.abc import Callable, Iterable

_PREFIX = 4  # secrets are indexed by their first characters; rules never yield much shorter ones


class Scrubber:
    """Replaces each of ``secrets`` found in a text by ``replacement(secret)``, leftmost and longest first.

    A run can hold tens of thousands of secrets: ``str.replace`` for each, on each text, is quadratic.
    Indexing them by prefix and length makes one pass over the text enough.
    """

    def __init__(self, secrets: Iterable[str], replacement: Callable[[str], str]) -> None:
        unique = {s for s in secrets if s}
        self._k = min([_PREFIX, *(len(s) for s in unique)])
        # Secrets share prefixes (ghp_, AKIA, xoxb-): index the distinct lengths under each prefix,
        # then test candidates by set membership, so the cost does not grow with the secret count.
        lengths: dict[str, set[int]] = {}
        for secret in unique:
            lengths.setdefault(secret[: self._k], set()).add(len(secret))
        self._lengths = {prefix: sorted(ls, reverse=True) for prefix, ls in lengths.items()}  # longest first
        self._secrets = frozenset(unique)
        self._replacement = replacement
        self._memo: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        if not self._secrets or len(text) < self._k:
            return text
        done = self._memo.get(text)
        if done is None:
            done = self._memo[text] = self._scrub(text)
        return done

    def _scrub(self, text: str) -> str:
        k, index, known = self._k, self._lengths, self._secrets
        parts: list[str] = []
        last = i = 0
        end = len(text) - k
        while i <= end:
            lengths = index.get(text[i : i + k])
            size = next((n for n in lengths if text[i : i + n] in known), 0) if lengths else 0
            if not size:
                i += 1
                continue
            parts += (text[last:i], self._replacement(text[i : i + size]))
            i = last = i + size
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)
