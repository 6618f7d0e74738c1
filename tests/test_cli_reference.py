"""The README's CLI reference is generated from the commands' --help and must be current."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_cli_reference_is_current():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def test_the_reference_lists_every_command():
    sys.path.insert(0, str(ROOT / "scripts"))
    import cli_reference

    from assetkit.cli import cli

    table = cli_reference.reference()
    for name in cli.commands:
        assert f"| `assetkit {name} " in table, name
    assert "`--model`" in table and "`assetkit ledger list [OPTIONS]`" in table
