"""Real processes writing one ledger: nothing lost, and a killed run leaves all or nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from assetkit.ledger import Ledger

HERE = Path(__file__).resolve().parent

WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from assetkit.ledger import record_run
    from ledger_fixtures import manifest
    worker, n, ledger = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    for i in range(n):
        record_run(manifest(run_id=f"w{{worker}}-{{i:03d}}", campaign=f"c{{worker}}-{{i}}"), Path("m.json"), ledger,
                   None, None)
""")

KILLER = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from assetkit import ledger as L
    from ledger_fixtures import manifest
    real = L.Ledger._insert_entries
    def insert_then_die(self, *args, **kwargs):
        real(self, *args, **kwargs)   # rows are written inside the open transaction...
        os.kill(os.getpid(), signal.SIGKILL)   # ...and the process dies before COMMIT
    L.Ledger._insert_entries = insert_then_die
    L.record_run(manifest(run_id="killed"), Path("m.json"), Path(sys.argv[1]), None, None)
""")


def _env(tmp_path):
    env = dict(os.environ)
    env.pop("ASSETKIT_SETTINGS", None)
    env["PYTHONPATH"] = str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_two_processes_lose_nothing(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(tests=str(HERE)))
    n = 15
    procs = [subprocess.Popen([sys.executable, str(script), str(w), str(n), str(ledger)], cwd=tmp_path,
                              env=_env(tmp_path), stderr=subprocess.PIPE, text=True) for w in (1, 2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with Ledger(ledger, create=False) as lg:
        runs = lg.runs()
        assert len(runs) == 2 * n
        assert sum(1 for _ in lg.entries()) == 2 * n * 6
        assert lg.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_killed_run_leaves_no_partial_record(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    with Ledger(ledger):
        pass
    script = tmp_path / "killer.py"
    script.write_text(KILLER.format(tests=str(HERE)))
    p = subprocess.run([sys.executable, str(script), str(ledger)], cwd=tmp_path, env=_env(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == -signal.SIGKILL, p.stderr
    with Ledger(ledger, create=False) as lg:
        assert lg.runs() == [] and list(lg.entries()) == []
        assert lg.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        from ledger_fixtures import manifest

        from assetkit.settings import Settings
        assert lg.record_run(manifest(run_id="killed"), "m.json", Settings()).entries == 6  # retry works


SAME_BRIEF = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from assetkit.ledger import record_run
    from ledger_fixtures import manifest
    worker, ledger, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    while not go.exists():  # both processes start recording at the same moment
        pass
    rec = record_run(manifest(run_id=f"same-brief-{{worker}}"), Path("m.json"), ledger, None, None)
    print(rec.describe())
""")


def test_two_processes_running_the_same_brief_book_each_deliverable_once(tmp_path):
    """Two real processes record runs of the same brief (the same deliverables) at once: the
    ledger serialises them and every deliverable identity is booked exactly once."""
    from ledger_fixtures import QUOTE_YAML

    from assetkit.quotes import load_quotes

    ledger = tmp_path / "ledger.sqlite"
    with Ledger(ledger) as lg:
        lg.import_quote(load_quotes(QUOTE_YAML)[0], QUOTE_YAML)
    script, go = tmp_path / "same.py", tmp_path / "go"
    script.write_text(SAME_BRIEF.format(tests=str(HERE)))
    procs = [subprocess.Popen([sys.executable, str(script), str(w), str(ledger), str(go)], cwd=tmp_path,
                              env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in (1, 2)]
    go.touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(out)
    assert sorted(o.split(" ", 1)[0] for o in outs) == ["nothing", "saved"]  # one run books them …
    assert any(o.startswith("nothing new to book: 4 re-made assets are deliverables an earlier run booked "
                            "(identical output); cost here €") for o in outs)  # … the other books none again
    with Ledger(ledger, create=False) as lg:
        assert len(lg.runs()) == 2
        booked = [e for e in lg.entries(kind="asset") if e.units and not e.no_baseline]
        keys = [e.deliverable_key for e in booked]
        assert len(keys) == 4 and len(set(keys)) == 4  # 2 formats × 2 locales, once each
        translations = [e for e in lg.entries(kind="translation") if not e.no_baseline]
        assert len(translations) == 1
        lg.verify(full=True)
