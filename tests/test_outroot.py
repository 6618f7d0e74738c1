"""Nothing outside --out, nothing through a link, nothing clobbered: the out root and user-named outputs."""
from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from assetkit.cli import cli
from assetkit.outroot import OutRoot, OutRootError, safe_output_file, write_output_file

BRIEF = "examples/spring-launch/brief.yaml"


def tiny(workdir: Path) -> Path:
    """The example brief cut to one concept, one variant and one format (2 assets: 2 locales)."""
    brief = workdir / BRIEF
    text = brief.read_text().replace("variants: 2", "variants: 1")
    keep = [ln for ln in text.splitlines() if not (ln.strip().startswith("- meta-") or ln.strip().startswith("- iab-"))
            or ln.strip() == "- meta-square"]
    brief.write_text("\n".join(keep).split("  - id: roastery")[0] + "\n")
    return brief


def run(*args: str):
    return CliRunner().invoke(cli, ["run", BRIEF, "--no-ledger", "--progress", "none", *args])


@pytest.fixture
def outside(tmp_path) -> Path:
    d = tmp_path.parent / (tmp_path.name + "-outside")
    d.mkdir()
    (d / "precious.txt").write_text("keep me")
    return d


def test_stale_manifest_cannot_delete_through_a_link(workdir, outside):
    tiny(workdir)
    assert run("--out", "o4").exit_code == 0
    camp = workdir / "o4" / "spring-launch"
    manifest = json.loads((camp / "manifest.json").read_text())
    manifest["assets"].append({**manifest["assets"][0], "key": "f" * 32, "path": "old/precious.txt"})
    (camp / "manifest.json").write_text(json.dumps(manifest))
    (camp / "old").symlink_to(outside)
    r = run("--out", "o4")
    assert r.exit_code == 2
    assert r.output == (f"Error: o4/spring-launch/manifest.json lists 'old/precious.txt': o4/spring-launch/old is "
                        f"a symbolic link (to {outside}); assetkit does not write, read or delete through links "
                        "inside --out o4: remove the link and run again\n")
    assert (outside / "precious.txt").read_text() == "keep me"


def test_stale_manifest_leaving_the_folder_is_refused(workdir, outside):
    tiny(workdir)
    camp = workdir / "o" / "spring-launch"
    camp.mkdir(parents=True)
    for path in ("../../x", str(outside / "precious.txt")):
        (camp / "manifest.json").write_text(json.dumps({"assets": [{"key": "k", "path": path}]}))
        r = run("--out", "o")
        assert r.exit_code == 2 and "manifest.json lists" in r.output and r.output.count("\n") == 1
    assert (outside / "precious.txt").read_text() == "keep me"


def test_prune_deletes_only_regular_files_it_listed(workdir):
    tiny(workdir)
    assert run("--out", "o").exit_code == 0
    camp = workdir / "o" / "spring-launch"
    manifest = json.loads((camp / "manifest.json").read_text())
    extra = [("en-US/meta-square/gone-v1.png", "file"), ("en-US/meta-square/folder-v1.png", "dir"),
             ("en-US/meta-square/fifo-v1.png", "fifo")]
    for i, (rel, kind) in enumerate(extra):
        p = camp / rel
        if kind == "file":
            p.write_bytes(b"old")
        elif kind == "dir":
            p.mkdir()
        else:
            os.mkfifo(p)
        manifest["assets"].append({**manifest["assets"][0], "key": f"{i:032d}", "path": rel})
    (camp / "unlisted.png").write_bytes(b"mine")
    (camp / "manifest.json").write_text(json.dumps(manifest))
    r = run("--out", "o")
    assert r.exit_code == 0, r.output
    assert not (camp / extra[0][0]).exists()  # listed, regular: pruned
    assert (camp / extra[1][0]).is_dir() and stat.S_ISFIFO(os.lstat(camp / extra[2][0]).st_mode)
    assert (camp / "unlisted.png").read_bytes() == b"mine"


@pytest.mark.parametrize("link", ["en-US", ".cache", "en-US/meta-square", ".cache/masters"])
def test_a_link_where_a_folder_goes_is_refused_before_any_work(workdir, outside, link):
    tiny(workdir)
    camp = workdir / "o" / "spring-launch"
    (camp / link).parent.mkdir(parents=True, exist_ok=True)
    (camp / link).symlink_to(outside)
    r = run("--out", "o")
    assert r.exit_code == 2
    assert r.output.startswith(f"Error: o/spring-launch/{link} is a symbolic link (to {outside});")
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]


def test_a_link_pointing_inside_is_refused_too(workdir):
    tiny(workdir)
    camp = workdir / "o" / "spring-launch"
    (camp / "elsewhere").mkdir(parents=True)
    (camp / "de-DE").symlink_to("elsewhere")
    r = run("--out", "o")
    assert r.exit_code == 2 and "o/spring-launch/de-DE is a symbolic link (to elsewhere)" in r.output


def test_the_out_root_itself_may_be_a_link(workdir, tmp_path):
    tiny(workdir)
    real = tmp_path / "real-out"
    real.mkdir()
    (workdir / "o").symlink_to(real)
    assert run("--out", "o").exit_code == 0
    assert len(list(real.rglob("*.png"))) == 2 + 2 + 1  # 2 assets, 2 contact sheets, 1 cached master


@pytest.mark.parametrize("case", ["under-a-file", "is-a-file", "proc", "proc-root", "unwritable"])
def test_unusable_out_is_exit_2_one_line(workdir, monkeypatch, case):
    tiny(workdir)
    (workdir / "afile").write_text("x")
    out = {"under-a-file": "afile/sub", "is-a-file": "afile", "proc": "/proc/assetkit-out", "proc-root": "/proc",
           "unwritable": "ro"}[case]
    expected = {
        "under-a-file": "Error: --out afile/sub: a part of the path is a file, not a folder\n",
        "is-a-file": "Error: --out afile is a regular file, not a folder\n",
        "proc": "Error: --out /proc/assetkit-out: cannot create the folder: No such file or directory\n",
        "proc-root": None,
        "unwritable": "Error: --out ro: cannot write there: Permission denied\n",
    }[case]
    if case == "unwritable":
        (workdir / "ro").mkdir(mode=0o555)
        if os.geteuid() == 0:  # root writes anywhere: make the probe meet what a user would
            real_open = os.open

            def deny(path, flags, *a, dir_fd=None, **kw):
                if str(path).startswith(".assetkit-probe."):
                    raise PermissionError(13, "Permission denied")
                return real_open(path, flags, *a, dir_fd=dir_fd, **kw)
            monkeypatch.setattr("assetkit.outroot.os.open", deny)
    r = run("--out", out)
    assert r.exit_code == 2 and r.output.count("\n") == 1, r.output
    if expected:
        assert r.output == expected
    else:
        assert r.output.startswith("Error: --out /proc")


# -- user-named output files ------------------------------------------------------------------

def _report(tmp_path, out, *extra):
    from report_fixtures import random_ledger

    ledger = tmp_path / "l.sqlite"
    if not ledger.exists():
        random_ledger(ledger, 3, n=10)
    return CliRunner().invoke(cli, ["report", "--ledger", str(ledger), "--format", "md", "--out", str(out), *extra])


def test_report_out_refuses_fifo_socket_folder_link_and_device(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    target = tmp_path / "target.md"
    target.write_text("old")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    cases = {fifo: "a FIFO (named pipe); give a regular file name (or '-' for standard output)",
             sock_path: "a socket; give a regular file name (or '-' for standard output)",
             tmp_path: "a folder; give a regular file name",
             Path("/dev/null"): "a character device; give a regular file name (or '-' for standard output)",
             link: f"a symbolic link (to {target}); give the real file or pass --follow-symlinks "
                   "to write to its target"}
    try:
        for path, why in cases.items():
            r = _report(tmp_path, path)
            assert (r.exit_code, r.output) == (2, f"Error: --out {path} is {why}\n")
    finally:
        sock.close()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert os.path.islink(link) and target.read_text() == "old"
    r = _report(tmp_path, link, "--follow-symlinks")
    assert r.exit_code == 0, r.output
    assert os.path.islink(link) and target.read_text().startswith("# Creative production savings")


def test_report_out_replaces_a_regular_file_atomically(tmp_path):
    old = tmp_path / "r.md"
    old.write_text("old")
    inode = os.stat(old).st_ino
    r = _report(tmp_path, old)
    assert r.exit_code == 0
    assert old.read_text().startswith("# Creative production savings") and os.stat(old).st_ino != inode
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_report_out_in_a_file_or_proc(tmp_path):
    (tmp_path / "f").write_text("x")
    r = _report(tmp_path, tmp_path / "f" / "r.md")
    assert r.exit_code == 2 and r.output == f"Error: --out {tmp_path / 'f' / 'r.md'}: a part of " \
                                            "the path is a file, not a folder\n"
    r = _report(tmp_path, "/proc/r.md")
    assert r.exit_code == 2 and r.output.startswith("Error: cannot write /proc/r.md: ")


# -- the API other modules use ----------------------------------------------------------------

def test_outroot_api(tmp_path, outside):
    root = OutRoot(tmp_path / "o").ensure()
    camp = root.sub("c")
    camp.write_bytes("a/b/c.png", b"1")
    assert camp.read_bytes("a/b/c.png") == b"1" and camp.file_info("a/b/c.png")[0] == 1
    assert camp.exists("a/b/c.png") and not camp.exists("a/b/none.png") and camp.file_info("x/y") is None
    for bad in ("../x", "/etc/passwd", "a/../../x", "", "~/x", "a\x00b"):
        with pytest.raises(OutRootError):
            camp.write_bytes(bad, b"x")
    (tmp_path / "o" / "c" / "l").symlink_to(outside)
    for op in (lambda: camp.write_bytes("l/x", b"x"), lambda: camp.read_bytes("l/precious.txt"),
               lambda: camp.unlink("l/precious.txt"), lambda: camp.exists("l/precious.txt"),
               lambda: camp.write_bytes("l", b"x"), lambda: camp.read_bytes("l")):
        with pytest.raises(OutRootError, match="is a symbolic link"):
            op()
    (tmp_path / "o" / "c" / "pipe").parent.mkdir(exist_ok=True)
    os.mkfifo(tmp_path / "o" / "c" / "pipe")
    with pytest.raises(OutRootError, match="FIFO"):  # refused at once, never blocks
        camp.read_bytes("pipe")
    with pytest.raises(OutRootError, match="FIFO"):
        camp.write_bytes("pipe", b"x")
    assert not camp.unlink("pipe") and camp.unlink("a/b/c.png") and not camp.unlink("a/b/c.png")
    (tmp_path / "o" / "c" / ".x.png.abc123.tmp").write_bytes(b"half")
    assert camp.remove_stale_temp_files() == 1
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]


def test_write_output_file_checks_right_before_the_rename(tmp_path):
    p = tmp_path / "new" / "r.html"
    assert write_output_file(p, b"x") == p and p.read_bytes() == b"x"
    assert safe_output_file(tmp_path / "missing.html") == tmp_path / "missing.html"
    with pytest.raises(OutRootError, match="a folder"):
        write_output_file(tmp_path, b"x")


def test_init_into_a_file_or_under_one_is_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("f").write_text("x")
    r = CliRunner().invoke(cli, ["init", "f"])
    assert (r.exit_code, r.output) == (2, "Error: f is a regular file, not a folder\n")
    r = CliRunner().invoke(cli, ["init", "f/new"])
    assert (r.exit_code, r.output) == (2, "Error: f/new: a part of the path is a file, not a folder\n")
