"""A rule regex's top-level shape: whether it opens with a literal, and what Hyperscan is given for it."""
from __future__ import annotations

import re

# A pattern that opens with a plain literal of 3+ characters is cheap for Hyperscan: no need to measure.
_LITERAL_PREFIX = re.compile(r"^(?:\\b|\(\?:|\()*[A-Za-z0-9_\-.:/@=]{3,}(?![*+?{])")
# So does a caseless one with no alternative beside it (the probe's verdict on such a pattern depends
# on the machine's load; a whole-buffer confirm of `(?i)\bconfigure\s+set` cost 10% of stdlib scans).
_CASELESS_LITERAL_PREFIX = re.compile(r"^\(\?i\)(?:\\b)?[A-Za-z0-9_]{3,}(?![A-Za-z0-9_*+?{])")


def literal_prefix(regex: str) -> bool:
    if _LITERAL_PREFIX.match(regex):
        return True
    return bool(_CASELESS_LITERAL_PREFIX.match(regex)) and bool(_elements(regex, 0))  # no top-level |


# A pattern that opens with punctuation, such as `\( ?["']` (a call's first string argument), has
# Hyperscan start work at nearly every call in source code: 10% of the whole pass for one generic rule.
# Dropping that opening leaves a pattern that matches a suffix of every match, so it still reports
# each match's end offset (the line window is the same); the confirming regex keeps the full pattern.
# The opening is left out for speed only. An earlier note had Hyperscan miss this shape (`[(,] ?["']`)
# "only in the full database"; that does not reproduce (hyperscan 0.9.1): benchmarks/hyperscan_shape.py
# finds the same end offsets for four variants compiled alone and inside a database of every rule (with
# and without a keyword entry for every keyword) over 4,661 texts, and the engine's windowed scan equal
# to the whole-buffer scan with each variant as a rule of its own. What does give "matches alone, not in
# the engine" is a rule whose keywords are absent from the text: the engine keeps a rule's Hyperscan hit
# only where one of its keywords occurs, and neither Hyperscan alone nor Engine.scan_whole checks them.
_INLINE_FLAGS = re.compile(r"^\(\?[imsx]+\)")
_QUANTIFIER = re.compile(r"(?:[*+?]|\{(\d*)(?:,\d*)?\})[?+]?$")
_LEADING_QUANTIFIER = re.compile(r"(?:[*+?]|\{\d*(?:,\d*)?\})[?+]?")
_PUNCT_RUN = re.compile(r"^(?:\\[^A-Za-z0-9]|[^A-Za-z0-9\\\[\]()|.^$*+?{}])+$")
_PUNCT_CLASS = re.compile(r"^\[(?:\\[^A-Za-z0-9]|[^A-Za-z0-9\\\]^-])+\]$")
_ANCHOR = re.compile(r"[A-Za-z0-9_]{3,}")


def hs_expression(regex: str) -> str:
    """The expression the database holds for a rule: its regex without an opening of punctuation (2+
    characters) when a literal of 3+ characters follows it; else the regex itself."""
    flags = _INLINE_FLAGS.match(regex)
    prefix = flags.group(0) if flags else ""
    elements = _elements(regex, len(prefix))
    k, dropped = 0, 0
    while elements and k < len(elements) - 1:
        body = _QUANTIFIER.sub("", elements[k])
        if not (_PUNCT_RUN.match(body) or _PUNCT_CLASS.match(body)):
            break
        dropped += _min_length(elements[k], body)
        k += 1
    if dropped < 2 or not _has_literal(elements[k]):
        return regex
    return prefix + "".join(elements[k:])


def _min_length(element: str, body: str) -> int:
    quantifier = _QUANTIFIER.search(element)
    if quantifier is None:
        return 1 if body.startswith("[") else len(re.sub(r"\\(.)", r"\1", body))
    if quantifier.group(0)[0] in "*?":
        return 0
    return int(quantifier.group(1) or 1) if quantifier.group(0)[0] == "{" else 1


def _has_literal(element: str) -> bool:
    bare = re.sub(r"\[(?:\\.|[^\]\\])*\]|\\.|\(\?[a-z]*:?", "", element)
    return bool(_ANCHOR.search(bare))


def _elements(regex: str, i: int) -> list[str]:
    """Top-level elements of a pattern from ``i``, each with its quantifier; [] when it has a top-level ``|``."""
    out: list[str] = []
    n = len(regex)
    while i < n:
        start = i
        ch = regex[i]
        if ch == "|":
            return []
        if ch == "\\":
            i += 2
        elif ch == "[":
            i = _class_end(regex, i)
        elif ch == "(":
            depth = 0
            while True:
                c = regex[i]
                if c == "\\":
                    i += 2
                    continue
                if c == "[":
                    i = _class_end(regex, i)
                    continue
                depth += (c == "(") - (c == ")")
                i += 1
                if depth == 0:
                    break
        else:  # a run of plain characters is one element; a quantified last character stands alone
            i += 1
            while i < n and regex[i] not in "\\[()|.^$*+?{":
                i += 1
            if i < n and regex[i] in "*+?{" and i - start > 1:
                i -= 1
        quantifier = _LEADING_QUANTIFIER.match(regex, i)
        if quantifier:
            i = quantifier.end()
        out.append(regex[start:i])
    return out


def _class_end(regex: str, i: int) -> int:
    i += 1
    i += regex.startswith("^", i)
    i += regex.startswith("]", i)  # a leading ] is a member, not the end
    while regex[i] != "]":
        i += 2 if regex[i] == "\\" else 1
    return i + 1


_FLAGS = re.compile(r"\(\?([a-zA-Z]*)(?:-[a-zA-Z]*)?([:)])")


def bare_anchors(regex: str) -> list[int]:
    """Offsets of ``^``, ``$``, ``\\A`` and ``\\z`` outside any ``m`` flag: they anchor at a buffer's edges."""
    found: list[int] = []
    outer: list[bool] = []
    multiline, i = False, 0
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            if regex[i + 1:i + 2] in ("A", "z"):
                found.append(i)
            i += 2
        elif c == "[":  # a class: skip to its end (a leading ^ or ] is part of it)
            i += 2 if regex[i + 1:i + 2] == "^" else 1
            i += 1 if regex[i:i + 1] == "]" else 0
            while i < len(regex) and regex[i] != "]":
                i += 2 if regex[i] == "\\" else 1
            i += 1
        elif c == "(":
            flags = _FLAGS.match(regex, i)
            if flags and flags.group(2) == ")":  # (?m) sets the flag for the rest of the enclosing group
                multiline = multiline or "m" in flags.group(1)
            else:
                outer.append(multiline)
                multiline = multiline or bool(flags and "m" in flags.group(1))
            i = flags.end() if flags else i + 1
        elif c == ")":
            multiline = outer.pop() if outer else multiline
            i += 1
        else:
            if c in "^$" and not multiline:
                found.append(i)
            i += 1
    return found


def line_anchored(regex: str) -> str:
    """``regex`` with each bare ``^`` / ``$`` made a line anchor (``(?m:^)`` / ``(?m:$)``).

    Sources hand the engine windows of whole lines (merged runs of lines, the lines a commit adds), so a
    buffer's edges are arbitrary line boundaries: an anchor at the buffer's edge would match on some
    lines and not others. ``\\A`` and ``\\z`` are left as written.
    """
    out, last = [], 0
    for at in bare_anchors(regex):
        if regex[at] in "^$":
            out += [regex[last:at], f"(?m:{regex[at]})"]
            last = at + 1
    return "".join(out) + regex[last:]

