"""Two real processes writing to one store at once lose nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from alma_app import ALMA

WRITER = textwrap.dedent(
    """
    import hashlib
    import sys
    from alma_app import ALMA
    store_dir, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    alma = ALMA(project_id="shared", storage_dir=store_dir, embedding="hashing",
                compact_every=40)
    ids = []
    for i in range(count):
        # distinct texts: near-duplicates would (rightly) reinforce instead of adding
        token = hashlib.sha256(f"{name}{i}".encode()).hexdigest()[:24]
        memory = alma.add_domain_knowledge(name, "testing", f"{name} fact {i} {token}")
        ids.append(memory.id)
        if i % 3 == 0:
            alma.update_memory(ids[i // 2], fact=f"{name} fact {i // 2} (revised)")
    print("done", len(ids))
    """
)


@pytest.mark.slow
def test_two_processes_appending_and_updating_lose_no_writes(tmp_path):
    store_dir = str(tmp_path / "store")
    count = 60
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store_dir, name, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("writer_a", "writer_b")
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        assert f"done {count}" in out

    alma = ALMA(project_id="shared", storage_dir=store_dir, embedding="hashing")
    for name in ("writer_a", "writer_b"):
        page = alma.list_memories(agent=name, limit=1000)
        facts = sorted(m.fact for m in page.items)
        assert page.total == count, f"{name} lost writes"
        assert len(set(facts)) == count, f"{name} has duplicates"
        revised = [f for f in facts if f.endswith("(revised)")]
        assert len(revised) == len({i // 2 for i in range(count) if i % 3 == 0})
    events = alma.store.sql(
        "SELECT action, count(*) AS n FROM events GROUP BY action", tables=["events"]
    ).to_pylist()
    by_action = {e["action"]: e["n"] for e in events}
    assert by_action["create"] == 2 * count
    assert by_action["edit"] == 2 * len({i // 2 for i in range(count) if i % 3 == 0})
