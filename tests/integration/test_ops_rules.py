"""The alerting configuration holds together: every alert is routed, documented and shown to fire by a
rule test, and Prometheus's and Alertmanager's own tools accept the files (when installed: Debian's
``prometheus`` and ``prometheus-alertmanager`` packages)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.kafka import REPO_ROOT

PROMETHEUS = REPO_ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
ALERT_TESTS = (PROMETHEUS / "alerts_test.yml", PROMETHEUS / "alerts_lag_test.yml")
ALERTMANAGER = REPO_ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
RUNBOOKS = REPO_ROOT / "docs" / "runbooks"


def _alert_blocks() -> dict[str, str]:
    """Each alert's rule text, from its `- alert:` line to the next rule or group."""
    text = ALERTS.read_text()
    starts = [(match.start(), match.group(1)) for match in re.finditer(r"- alert: (\w+)", text)]
    ends = [start for start, _ in starts[1:]] + [len(text)]
    return {name: text[start:end] for (start, name), end in zip(starts, ends, strict=True)}


def _fired_in_tests() -> set[str]:
    """Alerts some rule test expects to fire (an `exp_alerts` that is not empty)."""
    text = "\n".join(path.read_text() for path in ALERT_TESTS)
    return set(re.findall(r"alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels", text))


def test_every_alert_has_severity_summary_runbook_and_dashboard() -> None:
    blocks = _alert_blocks()
    assert len(blocks) >= 19
    for name, block in blocks.items():
        assert re.search(r"severity: (critical|warning)\n", block), name
        for annotation in ("summary", "description", "runbook_url", "dashboard"):
            assert re.search(rf"\n\s+{annotation}: \S", block), (name, annotation)
        runbook = re.search(r'runbook_url: "docs/runbooks/(\w+)\.md"', block)
        assert runbook is not None and runbook.group(1) == name, name
        page = (RUNBOOKS / f"{name}.md").read_text()
        for section in ("## What it means", "## What to look at", "## What to do"):
            assert section in page, (name, section)


def test_every_alert_is_shown_to_fire_by_a_rule_test() -> None:
    assert set(_alert_blocks()) - _fired_in_tests() == set()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: apt-get install prometheus prometheus-alertmanager)")
    return path


def _passes(*command: str, cwd: Path = REPO_ROOT) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_accepts_the_rules_their_tests_and_both_configurations() -> None:
    promtool = _tool("promtool")
    _passes(promtool, "check", "rules", str(ALERTS))
    _passes(promtool, "test", "rules", *(path.name for path in ALERT_TESTS), cwd=PROMETHEUS)
    # From a checkout, not only inside the container layout (the rule file path is relative).
    _passes(promtool, "check", "config", "deploy/prometheus/prometheus.yml")
    _passes(promtool, "check", "config", "deploy/prometheus/prometheus.local.yml")


def test_amtool_accepts_the_alertmanager_configuration_and_routes_by_severity() -> None:
    amtool = _tool("amtool")
    _passes(amtool, "check-config", str(ALERTMANAGER))
    for labels, receiver in (
        (["severity=critical", "alertname=MentoringConsumerStalled"], "on-call"),
        (["severity=warning", "alertname=MentoringDlqGrowing"], "platform-team"),
        (["alertname=Unlabelled"], "platform-team"),
    ):
        done = subprocess.run(
            [amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER}", *labels],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stdout.strip() == receiver, (labels, done.stdout, done.stderr)
