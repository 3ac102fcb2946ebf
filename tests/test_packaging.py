"""A wheel (`pip install .`, a container build) carries everything the checkout reads: prompts,
the bundled document, the widget's files and the lexicon; installed alone, it indexes, answers
and serves the widget."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from assistant.settings import PROJECT_DIR

pytestmark = pytest.mark.integration

_SKIP = shutil.ignore_patterns(".venv", ".data", ".git", "build", "*.egg-info", "test-artifacts", ".*_cache",
                               ".hypothesis", "__pycache__", "tests")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("src") / "project"
    shutil.copytree(PROJECT_DIR, source, ignore=_SKIP)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source),
                    "-w", str(out)], check=True, timeout=300)
    return next(out.glob("*.whl"))


def test_the_wheel_carries_every_file_the_product_reads(wheel) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(n.split("/")[0] for n in names if n.endswith(".data/data/share/doc-assistant/prompts/abstain.txt"))
    share = f"{data}/data/share/doc-assistant"
    expected = {f"{share}/prompts/{p.name}" for p in (PROJECT_DIR / "prompts").glob("*.txt")}
    expected |= {f"{share}/documents/{p.name}" for p in (PROJECT_DIR / "documents").glob("*.txt")}
    expected |= {f"ui/static/{p.name}" for p in (PROJECT_DIR / "ui" / "static").iterdir()}
    expected |= {f"assistant/data/{p.name}" for p in (PROJECT_DIR / "assistant" / "data").iterdir() if p.is_file()}
    assert expected <= names, sorted(expected - names)


def test_an_installed_wheel_indexes_answers_and_keeps_its_index_in_the_working_folder(wheel, tmp_path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    site = next((env_dir / "lib").glob("python3.*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # the dependencies, not this checkout
    bin_dir = env_dir / "bin"
    subprocess.run([str(bin_dir / "pip"), "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["HF_HUB_OFFLINE"] = "1"

    def run(*argv: str) -> str:
        done = subprocess.run([str(bin_dir / "assistant"), *argv], cwd=work, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "85 sections" in run("index", "--quiet")
    assert "Lei Jun" in run("ask", "Who founded Xiaomi?")
    assert "does not say" in run("ask", "What was Xiaomi's revenue in 2023?")  # prompts/abstain.txt
    assert (work / ".data").is_dir()
