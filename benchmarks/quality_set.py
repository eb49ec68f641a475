"""The labelled retrieval set: a corpus of memories and queries with their one relevant memory.

Three kinds of query, each answerable by exactly one memory of the corpus:
- paraphrase: one half of the memory's subject/problem kept, the other reworded;
- semantic: both halves reworded, sharing no content word with the memory (checked here);
- lexical: a rare identifier (error code, ticket, hex status, function name) that only its
  memory contains; ids come in families of five that differ in one character, and the
  explanations next to them are shared word for word by many memories.

The corpus crosses 20 subjects with 8 problems (each pair one memory, with its fix), adds 100
identifier memories and 40 distractors that mention subjects without a problem. Everything is
derived from the tables below with a fixed seed, so the set is the same on every run.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# (how memories say it, how a query says it without any shared content word)
SUBJECTS = [
    ("login form", "sign-in screen"),
    ("checkout page", "purchase step"),
    ("shopping cart", "basket"),
    ("search results", "lookup hits"),
    ("user profile", "account settings"),
    ("payment API", "card charging endpoint"),
    ("email notifications", "outgoing mail alerts"),
    ("image uploads", "picture transfers"),
    ("orders database", "purchase records datastore"),
    ("rate limiter", "request throttle"),
    ("invoice export", "bill download"),
    ("password reset", "credential recovery"),
    ("session cookies", "browser tokens"),
    ("admin dashboard", "back-office console"),
    ("shipping rates", "delivery fees"),
    ("product catalogue", "item listing"),
    ("audit log", "activity trail"),
    ("mobile app", "phone client"),
    ("nightly batch job", "overnight scheduled task"),
    ("CI pipeline", "build server"),
]
PROBLEMS = [
    ("times out", "hangs until it gives up"),
    ("leaks memory", "RAM usage keeps climbing"),
    ("returns stale data", "shows outdated information"),
    ("deadlocks under load", "freezes when busy"),
    ("crashes on non-ASCII names", "breaks with accented characters"),
    ("charges customers twice", "bills people double"),
    ("is very slow", "takes ages"),
    ("drops messages", "silently loses things"),
]
FIXES = [
    "add an index on customer_id",
    "set an explicit timeout of five seconds",
    "invalidate the cache after every write",
    "take locks in a fixed order",
    "normalise text to NFC before storing",
    "send an idempotency key with each request",
    "paginate with cursors instead of offsets",
    "retry with exponential backoff and jitter",
    "move the work to a background queue",
    "pin the library version in the lock file",
]
# Shared explanations: many identifier memories use the same words, so only the id tells them apart.
MEANINGS = [
    "means the upstream service rejected the request; check the credentials",
    "appears when the worker runs out of retries; requeue the job by hand",
    "is logged when a migration is half applied; roll it back first",
    "shows up when the feature is disabled for the tenant",
    "indicates the payload failed schema validation",
]
STOPWORDS = {"the", "a", "an", "of", "on", "in", "with", "when", "it", "is", "to", "and", "for"}


@dataclass(frozen=True)
class Item:
    key: str
    fact: str


@dataclass(frozen=True)
class Query:
    kind: str  # "paraphrase" | "semantic" | "lexical"
    text: str
    relevant: str  # key of the one relevant memory


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS}


def _identifiers(rng: random.Random, count: int) -> list[str]:
    """Families of five near-identical ids (ERR_PAY_4471 .. ERR_PAY_4475): an embedding sees
    them as almost the same text, while only the exact token tells them apart."""
    makers = [
        lambda: (
            f"ERR_{rng.choice(['PAY', 'AUTH', 'SYNC', 'DB', 'QUEUE'])}_{rng.randint(100, 999)}{{}}"
        ),
        lambda: f"PLAT-{rng.randint(1000, 9999)}{{}}",
        lambda: f"0x{rng.getrandbits(28):07X}{{}}",
        lambda: f"reconcile_{rng.choice(['ledger', 'batch', 'stock'])}_v{rng.randint(1, 9)}{{}}",
        lambda: f"E{rng.randint(1000, 9999)}{{}}",
    ]
    out: list[str] = []
    while len(out) < count:
        pattern = makers[(len(out) // 5) % len(makers)]()
        family = [pattern.format(d) for d in rng.sample(range(10), 5)]
        if not set(family) & set(out):
            out.extend(family)
    return out[:count]


def build(seed: int = 5) -> tuple[list[Item], list[Query]]:
    """The corpus and the queries (about 120 paraphrase, 120 semantic, 100 lexical)."""
    rng = random.Random(seed)
    corpus: list[Item] = []
    queries: list[Query] = []
    pairs = [(s, p) for s in range(len(SUBJECTS)) for p in range(len(PROBLEMS))]
    for s, p in pairs:
        key = f"pair-{s}-{p}"
        (subject, subject_q), (problem, problem_q) = SUBJECTS[s], PROBLEMS[p]
        fact = f"The {subject} {problem}; fix: {rng.choice(FIXES)}"
        corpus.append(Item(key, fact))
    rng.shuffle(pairs)
    for s, p in pairs[:120]:
        key = f"pair-{s}-{p}"
        (subject, subject_q), (problem, problem_q) = SUBJECTS[s], PROBLEMS[p]
        text = f"{subject} {problem_q}" if rng.random() < 0.5 else f"{subject_q} {problem}"
        queries.append(Query("paraphrase", text, key))
    for s, p in pairs[-120:]:
        key = f"pair-{s}-{p}"
        text = f"{SUBJECTS[s][1]} {PROBLEMS[p][1]}"
        fact = next(i.fact for i in corpus if i.key == key)
        if words(text) & words(fact):
            continue  # semantic-only means no shared content word
        queries.append(Query("semantic", text, key))
    for i, ident in enumerate(_identifiers(rng, 100)):
        key = f"ident-{i}"
        corpus.append(Item(key, f"{ident} {MEANINGS[i % len(MEANINGS)]}"))
        queries.append(Query("lexical", rng.choice([ident, f"what is {ident}", f"{ident}?"]), key))
    for i in range(40):
        subject = SUBJECTS[i % len(SUBJECTS)][0]
        corpus.append(Item(f"noise-{i}", f"The {subject} was redesigned in release {i + 3}.0"))
    return corpus, queries
