"""benchmarks/locomo_replay.py measures fusion ideas offline: its replay of the product's ranking
must be the ranking retrieve returns, or every figure it prints describes another product."""

from __future__ import annotations

from alma_app import ALMA
from alma_app.memory import scoring
from alma_app.types import DomainKnowledge
from benchmarks.locomo_replay import capture, product

TURNS = [
    "Ana: I went to a support group for new parents yesterday.",
    "Ben: How did it go?",
    "Ana: It was so powerful, everyone shared their stories.",
    "Ben: Did you meet anyone there?",
    "Ana: Yes, a nurse called Maya who lives on my street.",
    "Ben: I started pottery classes at the community centre.",
    "Ana: What do you make?",
    "Ben: Mostly bowls, my first one cracked in the kiln.",
    "Ana: The deploy failed because the database migration timed out.",
    "Ben: We fixed it by running the migration before the release.",
    "Ana: My dog Rex learned to open the back door.",
    "Ben: Ha, clever dog! Where did you adopt him?",
    "Ana: From the shelter near the river, two years ago.",
]
QUESTIONS = [
    ("Where did Ana meet Maya?", 4, frozenset({"t4"})),
    ("What happened at the support group?", 4, frozenset({"t0", "t2"})),
    ("What does Ben make in pottery class?", 4, frozenset({"t7"})),
    ("Why did the deploy fail?", 4, frozenset({"t8", "t9"})),
    ("Where was Rex adopted?", 4, frozenset({"t12"})),
]


def recorded(disk_alma: ALMA) -> dict:
    disk_alma.add_memories(
        [DomainKnowledge(agent="helena", domain="conversation", fact=t) for t in TURNS]
    )
    return capture(disk_alma, "helena", [f"t{i}" for i in range(len(TURNS))], QUESTIONS)


def test_the_replay_ranks_as_retrieve_does_neighbouring_context_included(disk_alma: ALMA) -> None:
    conv = recorded(disk_alma)
    weights = conv["weights"]
    assert weights.context_weight > 0
    lifted = 0
    for q in conv["questions"]:
        assert product(conv, q, weights)[:5] == q["retrieved"], q["text"]
        plain = {k: scoring.relevance(c, q["best_bm25"], weights) for k, c in q["merged"].items()}
        lifted += sorted(plain, key=lambda k: -round(plain[k], 6))[:5] != q["retrieved"]
    assert lifted, "no question's top 5 depends on the neighbours: the check would prove little"
