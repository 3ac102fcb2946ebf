"""The README tells the truth: every setting is documented, every make target it names exists."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    for name in Settings.model_fields:
        assert f"`ASSISTANT_{name.upper()}`" in README, f"ASSISTANT_{name.upper()} missing from README"


def test_every_documented_variable_is_a_real_setting() -> None:
    documented = set(re.findall(r"`ASSISTANT_([A-Z_]+)`", README))
    assert documented <= {n.upper() for n in Settings.model_fields}


def test_make_targets_named_in_the_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.M))
    for target in set(re.findall(r"\bmake ([a-z-]+)", README)):
        assert target in targets, f"make {target} is in the README but not in the Makefile"


def test_assistant_subcommands_named_in_the_readme_exist() -> None:
    from assistant.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for command in set(re.findall(r"assistant (index|ask|serve|eval|bench|feedback)\b", README)):
        assert command in sub.choices  # type: ignore[operator]
