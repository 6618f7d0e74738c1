"""Hostile and careless input: every case is exit 2 with file:line:col (or the option), never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from assetkit.cli import cli


def validate(*files: Path):
    return CliRunner().invoke(cli, ["validate", *map(str, files)])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


STEPS = "version: 1\nsteps:\n  - generate: {}\n  - reframe: {panel: %s}\n  - compose: {}\n  - export: {}\n"


@pytest.mark.parametrize("panel, message", [
    ("0", "must be at least 0.1, got 0"), ("-1", "must be at least 0.1, got -1"),
    ("1.5", "must be at most 0.9, got 1.5"), ("0.0001", "must be at least 0.1, got 0.0001"),
])
def test_reframe_panel_out_of_range(tmp_path, monkeypatch, panel, message):
    monkeypatch.chdir(tmp_path)
    r = validate(write(tmp_path / "p.yaml", STEPS % panel))
    assert r.exit_code == 2
    assert r.output == f"p.yaml:4:22: steps[1].reframe.panel: {message}\nError: 1 problem found; nothing was run.\n"


def test_pipeline_without_export_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = validate(write(tmp_path / "p.yaml", "version: 1\nsteps:\n  - generate: {}\n  - reframe: {}\n  - compose: {}\n"))
    assert (r.exit_code, r.output) == (2, ("p.yaml:2:1: steps: the pipeline has no 'export' step, so a run would "
                                           "write no assets and no manifest: add '- export: {}' as its last step\n"
                                           "Error: 1 problem found; nothing was run.\n"))


def test_a_step_with_bad_params_still_counts_for_the_order_check(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = validate(write(tmp_path / "p.yaml", STEPS % "0"))
    assert "needs frames" not in r.output and r.output.count("\n") == 2


# -- YAML limits (the time a bomb takes is measured in bench/yaml_limits.py) ----------------------

def alias_bomb(width: int = 9, depth: int = 10) -> str:
    lines = ["version: 1", "a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, depth)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, expected", [
    (alias_bomb(), ["p.yaml:6:10: aliases expand to more than 10,000 nodes (*a3 here); write the values out or use "
                    "fewer nested aliases"]),
    ("version: 1\nx: " + "[" * 300 + "]" * 300 + "\n", ["p.yaml:2:67: nested more than 64 levels deep"]),
    ("version: 1\n" + "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n",
     ["p.yaml:66:129: nested more than 64 levels deep"]),
    ("version: 1\nsteps:\n  - generate: {seed: 2026-13-01}\n  - export: {valid_from: 2026-02-30}\n",
     ["p.yaml:3:22: steps[0].generate.seed: '2026-13-01' is not a valid date or time (month must be in 1..12)",
      "p.yaml:4:26: steps[1].export.valid_from: '2026-02-30' is not a valid date or time (day is out of range "
      "for month)"]),
    ("version: 1\nseed: " + "9" * 5000 + "\n", ["p.yaml:2:7: seed: a whole number of 5,000 digits is too large "
                                                 "(at most 100 digits)"]),
    ("version: 1\na: .nan\nb: [-.inf]\nc: 1e400\n", [
        "p.yaml:2:4: a: '.nan' is not a finite number (.nan and .inf are not accepted)",
        "p.yaml:3:5: b[0]: '-.inf' is not a finite number (.nan and .inf are not accepted)",
        "p.yaml:4:4: c: '1e400' is not a finite number (.nan and .inf are not accepted)"]),
    ("version: 1\nname: ab\x00c\n", ["p.yaml:2:9: a NUL byte is not allowed in YAML text"]),
    ("version: 1\nname: \x07\n", ["p.yaml:2:7: the control character U+0007 is not allowed in YAML text"]),
])
def test_yaml_limits_and_impossible_values(tmp_path, monkeypatch, text, expected):
    from assetkit.errors import ConfigError
    from assetkit.yamlfile import load_yaml

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "p.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_yaml("p.yaml")
    assert [str(p) for p in info.value.problems] == expected
    r = validate(Path("p.yaml"))
    assert r.exit_code == 2 and r.output.splitlines()[:-1] == expected


def test_shallow_aliases_still_load(tmp_path):
    from assetkit.yamlfile import load_yaml

    doc = load_yaml(write(tmp_path / "p.yaml", alias_bomb(width=9, depth=4)))  # 9^4 = 6,561 nodes
    assert len(doc.data["a3"]) == 9


def test_brief_with_an_impossible_seed_is_exit_2_at_its_position(workdir):
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    brief.write_text(brief.read_text().replace("seed: 20270301", "seed: 2026-13-01"))
    r = CliRunner().invoke(cli, ["run", str(brief.relative_to(workdir)), "--no-ledger"])
    assert (r.exit_code, r.output.splitlines()[0]) == (2, "examples/spring-launch/brief.yaml:7:7: seed: '2026-13-01' "
                                                          "is not a valid date or time (month must be in 1..12)")


def test_not_utf8_has_a_line_and_column(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_bytes(b"version: 1\nname: \xc3\xa9\xff\n")
    r = validate(Path("p.yaml"))
    assert r.output.splitlines()[0] == "p.yaml:2:8: not UTF-8 text (invalid start byte at byte 19)"


# -- inputs are regular files -------------------------------------------------------------------

def test_yaml_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path, monkeypatch):
    import os

    monkeypatch.chdir(tmp_path)
    os.mkfifo("p.yaml")
    r = validate(Path("p.yaml"), Path("/dev/zero"))
    assert r.exit_code == 2
    assert r.output.splitlines()[:2] == ["/dev/zero: is a character device, expected a regular file",
                                         "p.yaml: is a FIFO (named pipe), expected a regular file"]


@pytest.mark.parametrize("field", ["logo", "headline-font", "concept-image", "product-image"])
def test_brand_and_brief_files_that_are_fifos_never_hang(workdir, field):
    import os
    import re

    brand = workdir / "brand" / "nordlicht" / "brand.yaml"
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    if field == "logo":
        os.mkfifo(workdir / "brand" / "nordlicht" / "pipe.png")
        brand.write_text(re.sub(r"default: \S+", "default: pipe.png", brand.read_text(), count=1))
    elif field == "headline-font":
        os.mkfifo(workdir / "brand" / "nordlicht" / "pipe.ttf")
        brand.write_text(re.sub(r"headline: \S+", "headline: pipe.ttf", brand.read_text(), count=1))
    else:
        os.mkfifo(workdir / "examples" / "spring-launch" / "pipe.png")
        key = "image" if field == "concept-image" else "product"
        brief.write_text(brief.read_text().replace("    focal: [0.62, 0.55]\n",
                                                   f"    focal: [0.62, 0.55]\n    {key}: pipe.png\n"))
    r = CliRunner().invoke(cli, ["validate", str(brief.relative_to(workdir))])
    assert r.exit_code == 2
    assert "pipe." in r.output and ("FIFO" in r.output or "not a regular file" in r.output), r.output


def test_open_input_limits(tmp_path):
    import os

    from assetkit.files import InputFileError, open_input, read_input

    f = tmp_path / "a.yaml"
    f.write_bytes(b"x" * 11)
    assert read_input(f, 11) == b"x" * 11
    with pytest.raises(InputFileError, match="is 11 bytes, over the limit of 10"):
        read_input(f, 10)
    (tmp_path / "link.yaml").symlink_to(f)
    assert read_input(tmp_path / "link.yaml", 100) == b"x" * 11  # links are resolved, the target must be regular
    os.mkfifo(tmp_path / "p")
    (tmp_path / "link-to-pipe").symlink_to(tmp_path / "p")
    for bad in ("p", "link-to-pipe"):
        with pytest.raises(InputFileError, match="FIFO"):
            open_input(tmp_path / bad, 100)
    with pytest.raises(InputFileError, match="is a folder"):
        open_input(tmp_path, 100)


def test_quotes_csv_with_a_huge_cell_or_a_nul(tmp_path, monkeypatch, repo_root):
    monkeypatch.chdir(tmp_path)
    good = (repo_root / "examples" / "quotes" / "agency-2026.csv").read_text()
    n = good.count("\n")
    Path("big.csv").write_text(good + "x," + "A" * 140_000 + "\n")
    Path("nul.csv").write_text(good.replace("\n", "\n\x00", 1))
    r = validate(Path("big.csv"), Path("nul.csv"))
    assert r.exit_code == 2
    assert r.output.splitlines()[:2] == [f"big.csv:{n + 1}:1: CSV error: a cell is longer than the limit of 131,072 "
                                         "characters", "nul.csv:2:1: a NUL byte is not allowed in CSV text"]


# -- unsafe weights: the command line only ------------------------------------------------------

def test_allow_unsafe_weights_in_a_pipeline_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "p.yaml", "version: 1\nsteps:\n  - generate:\n      allow_unsafe_weights: true\n"
                               "  - reframe: {}\n  - compose: {}\n  - export: {}\n")
    r = validate(Path("p.yaml"))
    assert (r.exit_code, r.output) == (2, "p.yaml:4:7: steps[0].generate.allow_unsafe_weights: 'allow_unsafe_weights' "
                                          "is accepted only on the command line (--allow-unsafe-weights), never from a "
                                          "file: pickle weights can run code, and a shared file must not switch that "
                                          "refusal off\nError: 1 problem found; nothing was run.\n")


def test_allow_unsafe_weights_in_a_brief_is_refused(workdir):
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    brief.write_text(brief.read_text().replace("variants: 2\n", "variants: 2\nallow_unsafe_weights: true\n"))
    r = CliRunner().invoke(cli, ["run", str(brief.relative_to(workdir)), "--no-ledger"])
    assert r.exit_code == 2
    assert r.output.startswith("examples/spring-launch/brief.yaml:9:1: allow_unsafe_weights: 'allow_unsafe_weights' "
                               "is accepted only on the command line (--allow-unsafe-weights)")


# -- inputs are checked again when they are used ---------------------------------------------------

def _swap_after_validation(monkeypatch, target: Path, how: str):
    """Make ``assetkit run`` find ``target`` replaced by a FIFO (or a link to one) right after the
    brief, brand and pipeline were validated. A watchdog opens the FIFO after 20 s unless the
    returned event is set, so a regression fails the test instead of hanging it."""
    import os
    import threading

    import assetkit.runner as runner

    fifo = target if how == "fifo" else target.with_name("elsewhere.fifo")
    original = runner.load_campaign
    done = threading.Event()

    def load_then_swap(*args, **kwargs):
        campaign = original(*args, **kwargs)
        target.unlink()
        os.mkfifo(fifo)
        if how == "link":
            target.symlink_to(fifo.name)
        return campaign

    def watchdog():
        if not done.wait(20) and fifo.exists():
            os.close(os.open(fifo, os.O_RDWR | os.O_NONBLOCK))  # a blocked reader gets EOF

    monkeypatch.setattr(runner, "load_campaign", load_then_swap)
    threading.Thread(target=watchdog, daemon=True).start()
    return done


@pytest.mark.parametrize("what, how", [("logo", "fifo"), ("logo", "link"), ("headline-font", "fifo"),
                                       ("body-font", "link"), ("product", "fifo"), ("concept-image", "link")])
def test_an_input_swapped_for_a_fifo_after_validation_is_refused_when_used(workdir, monkeypatch, what, how):
    kit = workdir / "brand" / "nordlicht"
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    if what in ("product", "concept-image"):
        from PIL import Image

        Image.new("RGBA", (120, 160), (200, 80, 40, 255)).save(brief.parent / "shot.png")
        key = "image" if what == "concept-image" else "product"
        brief.write_text(brief.read_text().replace("    focal: [0.62, 0.55]\n",
                                                   f"    focal: [0.62, 0.55]\n    {key}: shot.png\n"))
        target = brief.parent / "shot.png"
    else:
        target = {"logo": kit / "logo.png", "headline-font": kit / "fonts" / "DejaVuSerif-Bold.ttf",
                  "body-font": kit / "fonts" / "DejaVuSansCondensed.ttf"}[what]
    done = _swap_after_validation(monkeypatch, target, how)
    r = CliRunner().invoke(cli, ["run", "examples/spring-launch/brief.yaml", "--no-ledger", "--progress", "none"])
    done.set()
    print(r.output)
    assert r.exit_code == 2, r.output
    shown = str(target.relative_to(workdir))
    last = r.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and shown in last and "FIFO" in last, r.output
    assert "Traceback" not in r.output


def test_load_image_checks_the_file_as_validation_does(tmp_path):
    import os

    from PIL import Image

    from assetkit.files import InputFileError, load_image

    Image.new("RGBA", (4, 3), (1, 2, 3, 4)).save(tmp_path / "a.png")
    im = load_image(tmp_path / "a.png", "RGBA")
    assert im.size == (4, 3) and im.getpixel((0, 0)) == (1, 2, 3, 4)
    os.mkfifo(tmp_path / "p.png")
    with pytest.raises(InputFileError, match=r"p\.png is a FIFO \(named pipe\), expected a regular file"):
        load_image(tmp_path / "p.png")
    (tmp_path / "t.png").write_bytes(b"not an image")
    with pytest.raises(InputFileError, match="is not an image any more"):
        load_image(tmp_path / "t.png")


def test_a_pipeline_that_is_a_device_is_named_where_the_brief_names_it(workdir):
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    brief.write_text(brief.read_text().replace("pipeline: social-campaign", "pipeline: /dev/zero"))
    r = CliRunner().invoke(cli, ["validate", str(brief.relative_to(workdir))])
    assert r.exit_code == 2
    assert r.output.splitlines()[0] == ("examples/spring-launch/brief.yaml:6:11: pipeline: /dev/zero: is a character "
                                        "device, expected a regular file")


def test_a_format_yaml_reads_as_a_number_says_to_quote_it(workdir):
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    text = brief.read_text()
    first = text.split("formats:\n", 1)[1].splitlines()[0]
    brief.write_text(text.replace("formats:\n" + first, "formats:\n  - 0x100", 1))
    r = CliRunner().invoke(cli, ["validate", str(brief.relative_to(workdir))])
    assert r.exit_code == 2
    assert any(line.endswith("formats[0]: expected text, got the number 256 (YAML reads an unquoted 0x100, 1e3 or "
                             "0777 as a number: put the text in quotes)") for line in r.output.splitlines()), r.output
