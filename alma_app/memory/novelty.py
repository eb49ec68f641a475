"""What a new statement is, next to the most similar one already stored: the write rule.

Pure functions, no store and no model: the caller supplies the cosine similarity of the two
texts' embeddings. The rule, for a new text and the most similar stored memory of the same
owner and type:

1. similarity below the `related_similarity` setting (0.9): **new**, stored and linked to nothing.
2. otherwise both texts are reduced to tokens: NFKC, case-folded; runs of letters and runs of
   digits (so punctuation and whitespace vanish); "n't" and "cannot" become "not"; number words
   become digits ("five" -> 5, "twenty one" -> 21, "two hundred and five" -> 205); "1,000"
   becomes 1000; leading zeros and ordinal suffixes ("20th") are dropped; month abbreviations
   are spelled out; the articles a / an / the are dropped.
3. the **polarity** of a text is the parity of its negation cues: the negators (not, no, never,
   none, nothing, nobody, nowhere, neither, nor, without) and the negative words (avoid,
   disable, forbid, prohibit, disallow, deny, exclude, refuse, prevent, unable, invalid,
   incorrect, false, and their -s/-d/-ed/-ing forms). Different polarity: **contradicts**
   ("does" / "does not", "use" / "avoid", "can" / "cannot"); both are kept and flagged.
4. same polarity and the same multiset of tokens: **restatement** (case, punctuation,
   whitespace, word order, "5" / "five"): the stored memory is reinforced.
5. same polarity, different tokens: **supersedes**, a changed value of the same statement
   (a number, date, unit, name, id or word): the new memory is stored, linked to the old one,
   and ranks above it; `changed` names the tokens that differ.

The rule is deliberately lexical: it never decides that two different texts mean the same
thing, so the worst it can do is link two memories that did not need linking, never drop one.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Literal

Kind = Literal["new", "restatement", "supersedes", "contradicts"]

NEGATORS = frozenset(
    {"not", "no", "never", "none", "nothing", "nobody", "nowhere", "neither", "nor", "without"}
)
NEGATIVE_WORDS = frozenset(
    {
        "avoid",
        "disable",
        "forbid",
        "prohibit",
        "disallow",
        "deny",
        "exclude",
        "refuse",
        "prevent",
        "unable",
        "invalid",
        "incorrect",
        "false",
    }
)
ARTICLES = frozenset({"a", "an", "the"})
ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
MONTHS = {
    "jan": "january",
    "feb": "february",
    "mar": "march",
    "apr": "april",
    "jun": "june",
    "jul": "july",
    "aug": "august",
    "sep": "september",
    "sept": "september",
    "oct": "october",
    "nov": "november",
    "dec": "december",
}
_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
_UNITS += "fifteen sixteen seventeen eighteen nineteen"
UNITS = {word: n for n, word in enumerate(_UNITS.split())}
TENS = {
    word: 10 * n
    for n, word in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], 2
    )
}
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_CONTRACTIONS = (
    (re.compile(r"\bcan['’]t\b"), "can not"),
    (re.compile(r"\bwon['’]t\b"), "will not"),
    (re.compile(r"\bshan['’]t\b"), "shall not"),
    (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"n['’]t\b"), " not"),
)


@dataclass(frozen=True)
class Verdict:
    """The class of a new text against a stored one, and the tokens that tell them apart."""

    kind: Kind
    similarity: float
    added: tuple[str, ...] = ()  # tokens only the new text has
    removed: tuple[str, ...] = ()  # tokens only the stored text has

    @property
    def changed(self) -> str:
        """'12 -> 47' style summary of the difference, for events and the dashboard."""
        return f"{' '.join(self.removed) or '-'} -> {' '.join(self.added) or '-'}"


def tokens(text: str) -> list[str]:
    """The comparable tokens of a text (rule 2 of the module docstring), in order."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    out: list[str] = []
    words = _TOKEN.findall(text)
    i = 0
    while i < len(words):
        word = words[i]
        if word in UNITS or word in TENS:
            value, i = _number(words, i)
            out.append(str(value))
            continue
        i += 1
        if word[0].isdigit():
            if _THOUSANDS.fullmatch(word):
                word = word.replace(",", "")
            out.append((word.lstrip("0") or "0") if word.isdigit() else word)
        elif word in ORDINAL_SUFFIXES and out and out[-1][0].isdigit():
            continue
        elif word not in ARTICLES:
            out.append(MONTHS.get(word, word))
    return out


def _number(words: list[str], i: int) -> tuple[int, int]:
    """Read a run of number words from words[i]: ('two', 'hundred', 'and', 'five') -> 205."""
    total = current = 0
    while i < len(words):
        word = words[i]
        following = words[i + 1] if i + 1 < len(words) else ""
        if word == "and" and words[i - 1] in SCALES and (following in UNITS or following in TENS):
            pass
        elif word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word in SCALES and (current or total):
            if SCALES[word] == 100:
                current *= 100
            else:
                total += current * SCALES[word]
                current = 0
        else:
            break
        i += 1
    return total + current, i


def negation_cues(words: list[str]) -> int:
    """How many negators and negative words (with -s/-d/-ed/-ing forms) the tokens hold."""
    return sum(1 for w in words if w in NEGATORS or _stem(w) in NEGATIVE_WORDS)


def _stem(word: str) -> str:
    if word.endswith(("ies", "ied")) and word[:-3] + "y" in NEGATIVE_WORDS:
        return word[:-3] + "y"  # denies, denied
    for suffix in ("ing", "ed", "es", "s", "d"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            if stem in NEGATIVE_WORDS:
                return stem
            if stem + "e" in NEGATIVE_WORDS:
                return stem + "e"
    return word


def same_polarity(first: str, second: str) -> bool:
    """Whether two texts have the same polarity (rule 3): "use X" and "avoid X" do not."""
    return negation_cues(tokens(first)) % 2 == negation_cues(tokens(second)) % 2


def classify(new: str, old: str, similarity: float, related_similarity: float) -> Verdict:
    """Apply the rule of the module docstring to a new text and the most similar stored one."""
    if similarity < related_similarity:
        return Verdict("new", similarity)
    new_tokens, old_tokens = tokens(new), tokens(old)
    new_bag, old_bag = Counter(new_tokens), Counter(old_tokens)
    added = tuple((new_bag - old_bag).elements())
    removed = tuple((old_bag - new_bag).elements())
    if negation_cues(new_tokens) % 2 != negation_cues(old_tokens) % 2:  # rule 3
        return Verdict("contradicts", similarity, added, removed)
    if not added and not removed:
        return Verdict("restatement", similarity)
    return Verdict("supersedes", similarity, added, removed)
