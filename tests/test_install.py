"""The package as a user gets it: build the wheel, install it (core only: no torch) in a fresh
venv, run the demo, the ledger/report tests and the "which extra?" errors from there.

Slow (a venv and the core dependencies from the package registry or pip's cache), so marked
``slow``; ``make test`` and CI run it. Nothing is imported from the source tree: the commands
run in a copy of the repository whose ``assetkit/`` folder is removed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIFFUSION = ("torch", "diffusers", "transformers", "accelerate", "peft", "safetensors", "huggingface_hub")
#: what the ledger/report tests need besides the core (not the whole [test] extra: no torch)
TEST_TOOLS = ("pytest", "hypothesis", "pypdfium2")

pytestmark = pytest.mark.slow


def _run(args, cwd, env=None, check=True, timeout=600):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def _copy_tree(dest: Path) -> Path:
    """The repository's files without build outputs, venvs or caches."""
    skip = {".git", ".venv", "out", "build", "dist", ".assetkit", ".pytest_cache", ".hypothesis", ".bench",
            ".mypy_cache", ".ruff_cache", "__pycache__"}
    shutil.copytree(ROOT, dest, ignore=lambda d, names: [n for n in names if n in skip or n.endswith(".egg-info")])
    return dest


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("install")
    src = _copy_tree(tmp / "src")
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", dist, src],
         cwd=tmp)
    wheel = next(dist.glob("assetkit-*.whl"))
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    py = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", py, "install", "--quiet", wheel, *TEST_TOOLS], cwd=tmp)
    work = tmp / "work"
    shutil.copytree(src, work, ignore=shutil.ignore_patterns("assetkit", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(tmp / "home")
    env["ASSETKIT_LEDGER"] = str(tmp / "ledger.sqlite")
    return {"wheel": wheel, "venv": venv, "py": py, "work": work, "env": env, "src": src}


def test_the_wheel_holds_every_package_file(core_venv):
    names = set(zipfile.ZipFile(core_venv["wheel"]).namelist())
    pkg = core_venv["src"] / "assetkit"
    want = {p.relative_to(pkg.parent).as_posix() for p in pkg.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert want - names == set()
    assert {"assetkit/fonts/DejaVuSans.ttf", "assetkit/templates/report.html.j2",
            "assetkit/pipelines/social-campaign.yaml"} <= names


def test_the_core_install_has_no_diffusion_packages(core_venv):
    code = ("import importlib.util, json, assetkit; "
            f"print(json.dumps([m for m in {DIFFUSION!r} if importlib.util.find_spec(m)])); print(assetkit.__file__)")
    out = _run([core_venv["py"], "-c", code], cwd=core_venv["work"], env=core_venv["env"]).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1].startswith(str(core_venv["venv"]))  # the installed package, not the source tree


def test_the_demo_runs_on_the_core_install(core_venv):
    out = core_venv["work"] / "out" / "demo"
    proc = _run(["sh", "scripts/demo.sh", out], cwd=core_venv["work"], env=core_venv["env"])
    assert "Demo done." in proc.stdout
    for rel in ("spring-launch/manifest.json", "spring-launch/contact-sheet-en-US.png",
                "spring-roast-packshot/manifest.json", "savings-report.html", "savings-report.pdf",
                "demo-quarter-report.html"):
        assert (out / rel).is_file() and (out / rel).stat().st_size > 0, rel
    assert len(list((out / "spring-launch").rglob("*.png"))) > 10


@pytest.mark.parametrize("args", [
    ["run", "examples/spring-launch/brief.yaml", "--model", "hf:stabilityai/sd-turbo", "--no-ledger", "--out", "o"],
    ["models", "list"],
    ["models", "check", "hf:stabilityai/sd-turbo"],
])
def test_asking_for_a_model_without_the_extra_names_it(core_venv, args):
    proc = _run([core_venv["venv"] / "bin" / "assetkit", *args], cwd=core_venv["work"], env=core_venv["env"],
                check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'assetkit[diffusion]'" in lines[0], proc.stderr
    assert not [p for p in (core_venv["work"] / "o").rglob("*") if p.is_file()]  # nothing written


def test_the_ledger_and_report_tests_pass_on_the_core_install(core_venv):
    proc = _run([core_venv["py"], "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_ledger.py",
                 "tests/test_ledger_cli.py", "tests/test_report.py", "tests/test_quotes.py"],
                cwd=core_venv["work"], env=core_venv["env"], check=False, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
