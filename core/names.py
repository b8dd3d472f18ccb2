"""Names people read and compare: normalised (Unicode NFKC), no invisible or control characters, and a skeleton under
which names that look alike are equal ("Card Fraud Detector" and the same with a Cyrillic "а" or a zero-width space).

The skeleton follows Unicode's UTS #39, case-insensitively (names here are unique regardless of case): each character
is replaced by a representative of the characters it, or another case of it, can be mistaken for, and the result is
case-folded. The table of
look-alikes is Unicode's confusables data as the confusable-homoglyphs package ships it; that package answers
"is this string confusable" but does not compute a skeleton to store and index, hence the few lines below.
"""

from __future__ import annotations

import functools
import unicodedata

from confusable_homoglyphs.utils import load

# Control (Cc), format (Cf: zero-width spaces and joiners, bidirectional overrides and marks), surrogate (Cs),
# private-use (Co) and unassigned (Cn) code points: invisible, or shown differently depending on the font.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
BIDI_MARKS = "\u200e\u200f\u061c"
LINE_BREAKS = str.maketrans("\t\n\r", "   ")  # white space a pasted name may carry: collapsed, not refused


class UnusableName(ValueError):
    """A name that cannot be used; the message says why, fit to show a user."""


def refused_character(text: str) -> str | None:
    """A description of the first invisible or control character in text, or None."""
    for char in text:
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            name = unicodedata.name(char, "an unassigned or control character")
            return f"U+{ord(char):04X} {name}"
    return None


def normalised(text: str) -> str:
    """text in NFKC with runs of white space made one space: a name as it is stored."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def clean_name(text: str) -> str:
    """normalised(text); raises UnusableName for invisible or control characters."""
    # Checked before white space is collapsed: split() would also drop control characters such as U+001F.
    found = refused_character(unicodedata.normalize("NFKC", text).translate(LINE_BREAKS))
    if found:
        raise UnusableName(f"Names cannot contain invisible or control characters ({found}).")
    return normalised(text)


@functools.cache
def _representatives() -> dict[str, str]:
    """Each character that can be mistaken for another → one representative of all the characters it can be
    mistaken for (ASCII when there is one), from Unicode's confusables (single characters only)."""
    parent: dict[str, str] = {}

    def find(char: str) -> str:
        root = char
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(char, char) != root:
            parent[char], char = root, parent[char]
        return root

    def rank(char: str) -> tuple[bool, bool, int]:
        return (not char.isascii(), not char.isalnum(), ord(char))

    def union(a: str, b: str) -> None:
        a, b = find(a), find(b)
        if a != b:
            keep, drop = (a, b) if rank(a) <= rank(b) else (b, a)
            parent[drop] = keep

    for char, lookalikes in load("confusables.json").items():
        for lookalike in lookalikes:
            other = lookalike["c"].strip(BIDI_MARKS)
            if len(char) == 1 and len(other) == 1:
                union(char, other)
    # Case-insensitively: "O" looks like "0" and is the same name as "o", so all three are one class. ASCII letters
    # only: joining the cases of every script would chain unrelated classes through Greek and Cyrillic pairs.
    for code in range(ord("A"), ord("Z") + 1):
        union(chr(code), chr(code).lower())
    return {char: find(char) for char in parent}


def skeleton(name: str) -> str:
    """What name looks like: equal for names a reader could mistake for one another."""
    representatives = _representatives()
    decomposed = unicodedata.normalize("NFD", clean_name(name))
    mapped = "".join(representatives.get(char, char) for char in decomposed)
    return unicodedata.normalize("NFD", mapped).casefold()
