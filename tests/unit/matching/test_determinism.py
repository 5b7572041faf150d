"""Every format gives the same report for the same audit file: each runs twice, in two processes with
different hash seeds (Python's set order changes with them), and the reports must be byte-identical
apart from the measured ``solve_seconds``."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from benchmarks.matching_engine import make_pool as make_org
from benchmarks.matching_engine import make_settings as make_org_settings
from services.matching.domain import Pool, ProgramFormat, ProgramSettings, Role
from services.matching.domain.audit import load_program
from services.matching.domain.audit_export import export_program

ROOT = Path(__file__).parents[3]
_RUNNER = """
import json, sys
from services.matching.domain.audit import run_audit
reports = []
for path in sys.argv[1:]:
    report = run_audit(json.load(open(path, encoding="utf-8")))
    report["quality"].pop("solve_seconds")
    reports.append(report)
sys.stdout.write(json.dumps(reports, sort_keys=True))
"""


def _peers(count: int) -> Pool:
    base = make_org(count, 0, seed=11)
    return Pool(tuple(dataclasses.replace(p, role=Role.PEER) for p in base.participants))


def _programs() -> dict[str, tuple[Pool, ProgramSettings]]:
    org = make_org(300, 300, seed=7)
    small = make_org(120, 40, seed=3)
    return {
        "one_on_one": (small, make_org_settings()),
        "reverse": (
            small,
            make_org_settings(format=ProgramFormat.REVERSE, reverse_skills=frozenset({"skill 000"})),
        ),
        "group": (org, make_org_settings(format=ProgramFormat.GROUP)),
        "peer_blossom": (_peers(300), make_org_settings(format=ProgramFormat.PEER)),
        "peer_cover": (_peers(1200), make_org_settings(format=ProgramFormat.PEER)),
        "speed": (small, make_org_settings(format=ProgramFormat.SPEED)),
        "multi_mentor": (small, make_org_settings(multi_mentor_per_skill=True)),
        "mentee_choice": (small, make_org_settings(mentee_choice=True, choice_fallback_to_scores=True)),
    }


def _run(paths: list[Path], seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, *map(str, paths)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return done.stdout


@pytest.fixture(scope="module")
def audit_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audits")
    files = {}
    for name, (pool, settings) in _programs().items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(export_program(pool, settings)), encoding="utf-8")
        files[name] = path
    return files


def test_every_format_gives_byte_identical_reports_twice(audit_files: dict[str, Path]):
    names = sorted(audit_files)
    first = _run([audit_files[name] for name in names], "1")
    second = _run([audit_files[name] for name in names], "2")
    for name, one, other in zip(names, json.loads(first), json.loads(second), strict=True):
        assert json.dumps(one["matches"]) == json.dumps(other["matches"]), name
        assert one == other, name
        assert one["matches"], name
    assert first == second


def test_the_audit_command_repeats_itself(audit_files: dict[str, Path], tmp_path: Path):
    outputs = []
    for run in ("1", "2"):
        target = tmp_path / f"report-{run}.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "services.matching.entrypoints.audit",
                str(audit_files["group"]),
                "-o",
                target,
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": run},
            capture_output=True,
            check=True,
            timeout=600,
        )
        report: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
        report["quality"].pop("solve_seconds")
        outputs.append(json.dumps(report, sort_keys=True))
    assert outputs[0] == outputs[1]


def test_the_export_reads_back_to_the_same_program():
    pool, settings = make_org(30, 10, seed=5), make_org_settings(reference_date=date(2025, 3, 3))
    loaded_pool, loaded_settings = load_program(export_program(pool, settings))
    assert loaded_pool == pool
    assert loaded_settings == settings
