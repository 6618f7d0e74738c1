"""``assetkit ledger`` and ``assetkit quotes`` through click, with exact output and exit codes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from ledger_fixtures import QUOTE_CSV, QUOTE_YAML, SETTINGS_YAML, manifest

from assetkit.cli import cli
from assetkit.ledger import Ledger, record_run


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("ASSETKIT_LEDGER", "ASSETKIT_SETTINGS"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "assetkit.yaml").write_text(SETTINGS_YAML)
    return tmp_path


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_quotes_import_and_list(project):
    r = run("quotes", "import", str(QUOTE_YAML))
    assert (r.exit_code, r.output) == (0, "Imported quote agency-2026 v1: Harbour & Finch Creative, USD, "
                                          "2026-01-01 to 2027-12-31, 9 lines\n")
    r = run("quotes", "import", str(QUOTE_CSV))
    assert r.output.startswith("Unchanged quote agency-2026 v1")
    r = run("quotes", "list")
    assert r.output == (
        "QUOTE        VERSION  AGENCY                    CURRENCY  VALID                     LINES\n"
        "agency-2026        1  Harbour & Finch Creative  USD       2026-01-01 to 2027-12-31      9\n")
    assert json.loads(run("quotes", "list", "--json").output)[0]["lines"] == 9


def test_bad_quote_file_exit_code(project):
    (project / "q.yaml").write_text("id: q\nagency: A\ncurrency: EUR\nvalid_from: 2026-01-01\n")
    r = CliRunner().invoke(cli, ["quotes", "import", "q.yaml"])
    assert r.exit_code == 2
    assert r.output == ("q.yaml:1:1: valid_to: missing required key 'valid_to'\n"
                        "q.yaml:1:1: lines: missing required key 'lines'\n"
                        "Error: 2 problems found; nothing was run.\n")


def test_list_show_void_review(project):
    run("quotes", "import", str(QUOTE_YAML))
    rec = record_run(manifest(), Path("out/manifest.json"), None, None, None)
    record_run(manifest(run_id="old", finished="2025-01-10T10:00:00Z", campaign="legacy"), Path("m.json"),
               None, None, None)
    r = run("ledger", "list")
    assert r.exit_code == 0
    assert r.output == (
        "DATE        RUN / ENTRY              CAMPAIGN       ITEMS   BASELINE  ACTUAL     SAVING  HOURS SAVED\n"
        "2025-01-10  old                      legacy             5      €0.00  €30.40    -€30.40         -0.5"
        "  NO BASELINE\n"
        f"2026-11-25  {rec.run_id}  spring-launch      5  €1,380.00  €30.40  €1,349.60         11.6\n"
        "total                                                  10  €1,380.00  €60.80  €1,319.20         11.1\n"
        "1 row without an agency baseline (saving understated); see `assetkit ledger show RUN_ID`.\n")
    r = run("ledger", "list", "--since", "2026-01-01", "--csv")
    assert r.output.splitlines()[1] == (
        f"2026-11-25,{rec.run_id},spring-launch,Nordlicht Coffee,\"production,social,translation\",5,EUR,"
        "1380.00,30.40,1349.60,12.1352,0.5000,11.6352,no,no,0.00")
    r = run("ledger", "show", rec.run_id)
    assert r.exit_code == 0 and "#6     translation  translation  de-DE" in r.output
    assert r.output.splitlines()[-1].startswith("total")
    r = run("ledger", "void", "1", "--reason", "wrong crop")
    assert r.output == "Voided entry #1: reversing entry #13\n"
    r = run("ledger", "review", rec.run_id, "--minutes", "45")
    assert r.output == f"Recorded 45 min of human time for run {rec.run_id} (replaces the estimate)\n"
    data = json.loads(run("ledger", "list", "--json", "--campaign", "spring-launch").output)
    assert data[0]["deliverables"] == 4 and data[0]["actual_hours"] == "0.7500"


def test_add_manual(project):
    evidence = ["--source", "Quote HF-2026-114", "--approved-by", "M. Keller"]
    r = run("ledger", "add", "--category", "crm", "--description", "Newsletter banners", "--baseline", "900",
            "--actual", "120", "--hours", "3", "--baseline-hours", "8", "--date", "2026-11-02", *evidence)
    # 900 − 120 − 3 h × €60 internal rate
    assert (r.exit_code, r.output) == (0, "Added entry #1 (crm): saving €600.00, 5.0 h\n")
    with Ledger(readonly=True) as lg:
        assert lg.entry(1).reason == "source: Quote HF-2026-114; approved by: M. Keller"
    r = CliRunner().invoke(cli, ["ledger", "add", "--category", "crm", "--description", "x", "--baseline", "1",
                                 "--actual", "0"])
    assert r.exit_code == 2 and "Missing option '--source'" in r.output
    big = ["ledger", "add", "--category", "crm", "--description", "x", "--baseline", "1e9", "--actual", "0", *evidence]
    r = CliRunner().invoke(cli, big)
    assert (r.exit_code, r.output) == (2, "Error: --baseline 1E+9 EUR is above the manual-entry limit of 25000 EUR "
                                          "(settings manual_entry_limit); check it, then add --confirm-large\n")
    r = CliRunner().invoke(cli, big[:-4] + ["--baseline", "30000", *evidence, "--confirm-large"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["ledger", "add", "--category", "print", "--description", "x", "--baseline", "1",
                                 "--actual", "0", *evidence])
    assert r.exit_code == 2
    assert r.output == ("Error: category 'print' is not one of translation, production, crm, social, "
                        "photography, other\n")


def test_user_errors(project):
    r = CliRunner().invoke(cli, ["ledger", "list"])
    assert r.exit_code == 2
    assert r.output == ("Error: .assetkit/ledger.sqlite: no ledger yet (it is created by the first recorded run, "
                        "`assetkit quotes import` or `assetkit ledger add`)\n")
    (project / "foreign.sqlite").write_text("not a database")
    r = CliRunner().invoke(cli, ["ledger", "list", "--ledger", "foreign.sqlite"])
    assert r.exit_code == 2 and "not an assetkit ledger" in r.output
    run("quotes", "import", str(QUOTE_YAML))
    r = CliRunner().invoke(cli, ["ledger", "void", "99", "--reason", "x"])
    assert (r.exit_code, r.output) == (2, "Error: no ledger entry 99\n")
    r = CliRunner().invoke(cli, ["ledger", "list", "--since", "yesterday"])
    assert r.exit_code == 2 and "'yesterday' is not a date like 2026-11-25" in r.output


def test_every_command_has_help():
    from assetkit.cli_ledger import commands

    for group in commands:
        assert group.help
        for name, cmd in getattr(group, "commands", {group.name: group}).items():
            assert cmd.help and "Example:" in cmd.help, name
