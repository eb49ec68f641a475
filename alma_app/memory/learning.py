"""Learning from outcomes: every outcome is stored, and similar ones become ONE heuristic or ONE
anti-pattern that later outcomes reinforce.

"Similar" is the cosine similarity of the strategies' embeddings (settings.strategy_similarity),
never word overlap. Rules, for one agent and task type:
- a success whose strategy is similar to an existing heuristic's reinforces it (occurrence and
  success counts, last_validated, confidence); otherwise, once at least
  min_occurrences_for_heuristic successes not yet behind a heuristic used similar strategies AND
  the evidence says the strategy works (`supported`, below), one heuristic forms from them (its
  strategy is the most representative one: the medoid);
- a failure whose strategy is similar to a heuristic's weakens it (one more use, no success),
  and retires it once its strategy no longer works more often than not (`likely_works` of its
  counts): a heuristic on probation (one success) goes at its first failure, an established
  one only when failures catch up with its successes;
- a failure similar to an anti-pattern reinforces it, where two failures are similar when their
  strategies are, or when their error messages are AND their strategies are at least loosely
  related (>= ERROR_MATCH_MIN_STRATEGY: a generic error alone never joins unrelated strategies);
  otherwise, once MIN_FAILURES_FOR_ANTI_PATTERN similar failures are there AND the evidence says
  the strategy fails (`supported`), they form one anti-pattern, whose better_alternative is the
  best successful strategy known for the task type, or "". One failure is enough when its error
  names the strategy (`names_strategy`: a refusal of that strategy, not a symptom) and the
  record does not show that the strategy works.
Evidence, not counts alone: the strategy's history in the bucket (every outcome with a similar
strategy, oldest first) supports "it works" (or "it fails") when the Wilson lower bound of its
success (failure) rate at EVIDENCE_Z is at least MIN_RATE_LOWER_BOUND, or when the latest run of
successes (failures) would have had a chance below CHANGE_ALPHA at the rate seen before the run
(the world changed: a strategy that always worked fails three times in a row). So two failures of
a strategy that also succeeded do not condemn it, three lucky successes among many failures do
not make a heuristic, and a strategy that stops working is unlearned within a few tasks.
A heuristic and an anti-pattern never contradict each other in one bucket: when one forms, the
other about a similar strategy is retired (archived, restorable, logged as "retire"). And an
anti-pattern stands only while its strategy's history still says "it fails" (`still_fails`): a
success after which it no longer does (two failures and now a success; or a run of successes
that the old failure rate makes unlikely: the world changed) retires it, so that a strategy
avoided before a change can become the one to use again.
min_occurrences_for_heuristic (default 1, config.AgentScope) is a floor, not the whole rule: a
heuristic forms when the strategy's history supports "it works" OR it has worked more often than
not so far (`likely_works`: one success of one use, two of three; not one of two, not three of
eight). A heuristic of that second kind is on probation: it starts at a low confidence (2/3 for
one success), and its first failure retires it. A user who sets 3 gets at least 3.
Heuristic confidence is the success rate smoothed by Laplace's rule, (s + 1) / (n + 2);
anti-pattern confidence is n / (n + 1) for n similar failures. Strategies of opposite polarity
("use the page object" / "do not use the page object", alma_app.memory.novelty) are never
similar: one never reinforces, weakens or joins the other. A rejected heuristic or
anti-pattern is still the one reinforced (it stays rejected), so a reviewer's "no" is not asked
again through a duplicate. Learned memories are `pending` when the agent's config has
require_review: true, else approved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import alma_store as st
from alma_app.checks import check_choice, check_int, check_text
from alma_app.config import AgentScope
from alma_app.memory.evidence import (
    laplace,
    likely_works,
    names_strategy,
    still_fails,
    supported,
)
from alma_app.memory.matching import ERROR_MATCH_MIN_STRATEGY as ERROR_MATCH_MIN_STRATEGY
from alma_app.memory.matching import Matcher
from alma_app.memory.repository import MemoryRepository
from alma_app.memory.task_types import closest_category
from alma_app.memory.types import AntiPattern, Heuristic, Outcome
from alma_app.values import utcnow

MIN_FAILURES_FOR_ANTI_PATTERN = 2
CANDIDATES = 100  # nearest outcomes examined when looking for similar strategies
MAX_SOURCE_IDS = 500  # most recent supporting outcome ids kept on a heuristic/anti-pattern
OUTCOMES = ("success", "failure")


@dataclass
class LearnResult:
    """What one learn() call did. Actions: "created", "reinforced", (heuristics) "weakened", or
    "retired": a heuristic whose strategy's failures now form an anti-pattern, an anti-pattern
    whose strategy now works (a heuristic formed) or succeeds again (`still_fails` is False)."""

    outcome: Outcome
    task_type: str
    heuristic: Heuristic | None = None
    heuristic_action: str | None = None
    anti_pattern: AntiPattern | None = None
    anti_pattern_action: str | None = None

    @property
    def heuristic_created(self) -> bool:
        return self.heuristic_action == "created"

    @property
    def heuristic_reinforced(self) -> bool:
        return self.heuristic_action == "reinforced"

    @property
    def anti_pattern_created(self) -> bool:
        return self.anti_pattern_action == "created"

    @property
    def anti_pattern_reinforced(self) -> bool:
        return self.anti_pattern_action == "reinforced"


class Learner:
    """Turns outcomes into heuristics and anti-patterns; used by ALMA.learn."""

    def __init__(self, repo: MemoryRepository, check_scope: Callable[[str, str], None]) -> None:
        self.repo = repo
        self.check_scope = check_scope
        self.match = Matcher(repo)
        self.vectors = self.match.vectors  # embeddings of short texts, cached (retrieve's focus)
        self.similarities = self.match.similarities

    @property
    def threshold(self) -> float:
        return self.repo.settings.strategy_similarity

    def infer_task_type(self, agent: str, task: str) -> str:
        """The agent's category (can_learn or cannot_learn) most similar to the task, or general."""
        return closest_category(task, self.repo.settings.agent(agent), self.similarities)

    # ------------------------------------------------------------------ learn

    def learn(
        self,
        agent: str,
        task: str,
        outcome: str,
        strategy_used: str,
        *,
        feedback: str | None = None,
        task_type: str | None = None,
        duration_ms: int | None = None,
        error_message: str | None = None,
    ) -> LearnResult:
        check_text("task", task)
        check_text("strategy_used", strategy_used)
        check_choice("outcome", outcome, OUTCOMES)
        for name, value in (("feedback", feedback), ("error_message", error_message)):
            if value is not None:
                check_text(name, value, allow_empty=True)
        if duration_ms is not None:
            check_int("duration_ms", duration_ms, low=0)
        if task_type is not None:
            check_text("task_type", task_type)
        kind = task_type or self.infer_task_type(agent, task)
        self.check_scope(agent, kind)  # raises before anything is stored

        record = Outcome(
            agent=agent,
            task=task,
            task_type=kind,
            success=outcome == "success",
            strategy_used=strategy_used,
            duration_ms=duration_ms,
            error_message=error_message or None,
            feedback=feedback or None,
            project_id=self.repo.settings.project_id,
        )
        # One learner at a time per agent and task type, across processes: two processes
        # learning the same strategy at the same instant must form one heuristic, not two.
        with self.repo.writing("learn", agent, kind):
            return self._learn_locked(record)

    def _learn_locked(self, record: Outcome) -> LearnResult:
        assert record.agent is not None
        agent, kind, strategy_used = record.agent, record.task_type, record.strategy_used
        self.repo.insert([record], actor=agent)
        result = LearnResult(outcome=record, task_type=kind)
        heuristics = self.match.nearby("heuristic", agent, kind, strategy_used, limit=50)
        match = self.match.best_match(strategy_used, heuristics, lambda h: h.strategy)
        nearby = self.match.nearby("outcome", agent, kind, strategy_used, limit=CANDIDATES)
        history = self.match.history(record, nearby)
        if record.success:
            if match is not None:
                result.heuristic = self._reinforce_heuristic(match, record)
                result.heuristic_action = "reinforced"
            else:
                result.heuristic = self._maybe_create_heuristic(record, heuristics, nearby, history)
                result.heuristic_action = "created" if result.heuristic else None
            created = result.heuristic if result.heuristic_created else None
            retired = self._retire_anti_pattern(record, created, history)
            if retired is not None:
                result.anti_pattern, result.anti_pattern_action = retired, "retired"
        else:
            if match is not None:
                result.heuristic = self._weaken_heuristic(match, record)
                result.heuristic_action = "weakened"
                weakened = result.heuristic
                if not likely_works(weakened.success_count, weakened.occurrence_count):
                    self._retire(weakened, record, "its strategy fails as often as it works")
                    result.heuristic_action = "retired"
            result.anti_pattern, result.anti_pattern_action = self._learn_failure(
                record, nearby, history
            )
            if result.anti_pattern_action == "created" and result.heuristic_action == "weakened":
                assert result.heuristic is not None
                self._retire(result.heuristic, record, "its strategy now fails")
                result.heuristic_action = "retired"
        return result

    # ------------------------------------------------------------------ retiring

    def _retire(self, memory: Any, record: Outcome, why: str) -> None:
        """Archive a heuristic or anti-pattern the evidence now contradicts (restorable)."""
        assert record.agent is not None
        self.repo.archive_and_delete(
            [memory], actor=record.agent, action="retire", reason=f"{why}: {record.id}"
        )

    def _retire_anti_pattern(
        self, record: Outcome, created: Heuristic | None, history: list[bool]
    ) -> AntiPattern | None:
        """After a success: retire the anti-pattern naming a similar strategy when a heuristic
        for it has just formed, or when the strategy's history (the success last) no longer says
        it fails. Returns the anti-pattern retired, if any."""
        assert record.agent is not None
        failed = sum(not r for r in history)
        if created is None and (failed < MIN_FAILURES_FOR_ANTI_PATTERN or still_fails(history)):
            return None  # nothing to look for: no anti-pattern, or one that still stands
        strategy = created.strategy if created is not None else record.strategy_used
        known = self.match.nearby(
            "anti_pattern", record.agent, record.task_type, strategy, limit=10
        )
        match = self.match.best_match(strategy, known, lambda a: a.pattern)
        if match is not None:
            why = "its strategy now works" if created is not None else "its strategy succeeds again"
            self._retire(match, record, why)
        return match

    def _status(self, agent: str) -> str:
        scope = self.repo.settings.agent(agent)
        return "pending" if scope is not None and scope.require_review else "approved"

    # ------------------------------------------------------------------ heuristics

    def _maybe_create_heuristic(
        self, record: Outcome, heuristics: list[Any], nearby: list[Any], history: list[bool]
    ) -> Heuristic | None:
        assert record.agent is not None
        scope = self.repo.settings.agent(record.agent)
        needed = (scope or AgentScope(name=record.agent)).min_occurrences_for_heuristic
        sourced = {i for h in heuristics for i in h.source_outcome_ids}
        successes = self.match.similar_outcomes(record, nearby, success=True, exclude=sourced)
        works = supported(history, True) or likely_works(sum(history), len(history))
        if len(successes) < needed or not works:
            return None
        successes.sort(key=lambda o: o.timestamp)
        strategy = self.match.medoid([o.strategy_used for o in successes])
        failures = self.match.count_similar_failures(record, strategy)
        tasks = list(dict.fromkeys(o.task for o in successes))[:2]
        examples = "; ".join(t if len(t) <= 120 else t[:117] + "..." for t in tasks)
        uses = len(successes) + failures
        heuristic = Heuristic(
            agent=record.agent,
            project_id=record.project_id,
            status=self._status(record.agent),
            condition=f"working on {record.task_type.replace('_', ' ')} tasks (e.g. {examples})",
            strategy=strategy,
            task_type=record.task_type,
            confidence=laplace(len(successes), uses),
            occurrence_count=uses,
            success_count=len(successes),
            last_validated=utcnow(),
            source_outcome_ids=[o.id for o in successes][-MAX_SOURCE_IDS:],
        )
        self.repo.insert(
            [heuristic],
            actor=record.agent,
            reason=f"{len(successes)} successes with similar strategies",
        )
        return heuristic

    def _reinforce_heuristic(self, heuristic: Heuristic, record: Outcome) -> Heuristic:
        def change(new: Any) -> Any:
            if record.id in new.source_outcome_ids:
                return None  # already counted (it formed this heuristic)
            new.occurrence_count += 1
            new.success_count += 1
            new.confidence = laplace(new.success_count, new.occurrence_count)
            new.last_validated = utcnow()
            new.source_outcome_ids = [*new.source_outcome_ids, record.id][-MAX_SOURCE_IDS:]
            return new

        return self._update(heuristic, change, record, "reinforce", "a similar strategy succeeded")

    def _weaken_heuristic(self, heuristic: Heuristic, record: Outcome) -> Heuristic:
        def change(new: Any) -> Any:
            new.occurrence_count += 1
            new.confidence = laplace(new.success_count, new.occurrence_count)
            return new

        return self._update(heuristic, change, record, "weaken", "a similar strategy failed")

    def _update(
        self, memory: Any, change: Callable[[Any], Any], record: Outcome, action: str, why: str
    ) -> Any:
        """Apply a count change to the latest version (re-applied if a reviewer wrote first)."""
        assert record.agent is not None
        return self.repo.update(
            memory.id, change, actor=record.agent, action=action, reason=f"{why}: {record.id}"
        )

    # ------------------------------------------------------------------ anti-patterns

    def _learn_failure(
        self, record: Outcome, nearby: list[Any], history: list[bool]
    ) -> tuple[AntiPattern | None, str | None]:
        assert record.agent is not None
        known = self.match.nearby(
            "anti_pattern", record.agent, record.task_type, record.strategy_used, limit=50
        )
        match = self.match.best_match(
            record.strategy_used,
            known,
            lambda a: a.pattern,
            record.error_message,
            lambda a: a.why_bad,
        )
        if match is not None:
            alternative = self.best_alternative(record.agent, record.task_type, match.pattern)

            def change(new: Any) -> Any:
                if record.id in new.source_outcome_ids:
                    return None  # already counted (it formed this anti-pattern)
                new.occurrence_count += 1
                new.confidence = new.occurrence_count / (new.occurrence_count + 1)
                new.last_seen = utcnow()
                new.source_outcome_ids = [*new.source_outcome_ids, record.id][-MAX_SOURCE_IDS:]
                new.better_alternative = alternative
                return new

            why = "a similar failure happened again"
            return self._update(match, change, record, "reinforce", why), "reinforced"
        sourced = {i for a in known for i in a.source_outcome_ids}
        failures = self.match.similar_outcomes(record, nearby, success=False, exclude=sourced)
        # An error that names the strategy blames it, not luck: one such failure is enough.
        refused = names_strategy(record.error_message, record.strategy_used)
        refused = refused and not supported(history, True)
        shown = len(failures) >= MIN_FAILURES_FOR_ANTI_PATTERN and supported(history, False)
        if not (refused or shown):
            return None, None
        failures.sort(key=lambda o: o.timestamp)
        pattern = self.match.medoid([o.strategy_used for o in failures])
        errors = Counter(o.error_message for o in failures if o.error_message)
        feedback = [o.feedback for o in failures if o.feedback]
        if errors:
            why_bad = errors.most_common(1)[0][0]
        elif feedback:
            why_bad = feedback[-1]
        else:
            why_bad = f"failed {len(failures)} times on {record.task_type.replace('_', ' ')} tasks"
        anti = AntiPattern(
            agent=record.agent,
            project_id=record.project_id,
            status=self._status(record.agent),
            pattern=pattern,
            why_bad=why_bad,
            better_alternative=self.best_alternative(record.agent, record.task_type, pattern),
            task_type=record.task_type,
            confidence=len(failures) / (len(failures) + 1),
            occurrence_count=len(failures),
            last_seen=utcnow(),
            source_outcome_ids=[o.id for o in failures][-MAX_SOURCE_IDS:],
        )
        reason = f"{len(failures)} failures with similar strategies or errors"
        self.repo.insert([anti], actor=record.agent, reason=reason)
        return anti, "created"

    def best_alternative(self, agent: str, task_type: str, avoid: str) -> str:
        """The best successful strategy for the task type that is not like `avoid`, or "".

        The most confident heuristic (approved before pending) wins; otherwise the strategy of
        the most frequent successful outcome.
        """
        heuristics = self.repo.scan(
            st.And(
                (
                    self.match.bucket("heuristic", agent, task_type),
                    st.In("status", ("approved", "pending")),
                )
            ),
            order_by="confidence",
            descending=True,
            limit=20,
        )
        heuristics.sort(key=lambda h: h.status != "approved")
        strategies = [h.strategy for h in heuristics]  # type: ignore[attr-defined]
        strategies += self.repo.successful_strategies(agent, task_type, limit=20)
        sims = self.similarities(avoid, strategies)
        for strategy, sim in zip(strategies, sims, strict=True):
            if sim < self.threshold:
                return strategy
        return ""
