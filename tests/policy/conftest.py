"""Helpers for policy-authoring tests: copies of bundles that tests may edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import POLICIES, ROOT

MINI = ROOT / "tests" / "bundles" / "mini"


class BundleCopy:
    def __init__(self, path: Path):
        self.path = path

    def append(self, name: str, text: str) -> BundleCopy:
        with open(self.path / name, "a", encoding="utf-8") as f:
            f.write("\n" + text.strip("\n") + "\n")
        return self

    def replace(self, name: str, old: str, new: str) -> BundleCopy:
        text = (self.path / name).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        (self.path / name).write_text(text.replace(old, new, 1), encoding="utf-8")
        return self

    def write(self, name: str, text: str) -> BundleCopy:
        (self.path / name).parent.mkdir(parents=True, exist_ok=True)
        (self.path / name).write_text(text, encoding="utf-8")
        return self


@pytest.fixture()
def mini(tmp_path) -> BundleCopy:
    dest = tmp_path / "mini"
    shutil.copytree(MINI, dest)
    return BundleCopy(dest)


@pytest.fixture()
def demo_bundle(tmp_path) -> BundleCopy:
    dest = tmp_path / "policies"
    shutil.copytree(POLICIES, dest, ignore=shutil.ignore_patterns("tests"))
    return BundleCopy(dest)
