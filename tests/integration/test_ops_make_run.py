"""`make run` and Ctrl-C: the broker and Keycloak it started are stopped with the services; the ones that
were already up stay up. The real recipe runs, with stand-ins for kafka.sh, keycloak.sh and the Python
of the venv that record what they are asked (the real ones are shared by every test run here)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.kafka import REPO_ROOT

pytestmark = pytest.mark.integration

# A stand-in for kafka.sh / keycloak.sh: `status` answers from a state file, `up` / `down` change it,
# every call is logged.
STAND_IN = """#!/bin/bash
echo "$NAME $1" >> "$LOG"
case "$1" in
  status) [[ -f "$STATE" ]] ;;
  up) touch "$STATE" ;;
  down) rm -f "$STATE" ;;
esac
"""
# The venv's python: platform_cli run until SIGINT, which it handles (as the real one does) and exits 0.
PYTHON = """#!/bin/bash
echo "platform $*" >> "$LOG"
trap 'echo "platform stopped" >> "$LOG"; exit 0' INT TERM
while true; do sleep 0.1; done
"""


def _script(path: Path, text: str, **env: str) -> Path:
    exports = "".join(f'export {name}="{value}"\n' for name, value in env.items())
    path.write_text(text.replace("#!/bin/bash\n", "#!/bin/bash\n" + exports, 1))
    path.chmod(0o755)
    return path


def _make_run_then_ctrl_c(tmp_path: Path, kafka_up: bool, idp_up: bool) -> list[str]:
    log = tmp_path / "calls.log"
    log.touch()
    kafka_state, idp_state = tmp_path / "kafka.up", tmp_path / "idp.up"
    if kafka_up:
        kafka_state.touch()
    if idp_up:
        idp_state.touch()
    kafka = _script(tmp_path / "kafka.sh", STAND_IN, NAME="kafka", LOG=str(log), STATE=str(kafka_state))
    idp = _script(tmp_path / "keycloak.sh", STAND_IN, NAME="idp", LOG=str(log), STATE=str(idp_state))
    python = _script(tmp_path / "python", PYTHON, LOG=str(log))
    make = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "run",
            f"KAFKA={kafka}",
            f"IDP={idp}",
            f"PY={python}",
            "BUF=/bin/true",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    deadline = time.monotonic() + 60
    while "platform -m services.platform_cli run --demo" not in log.read_text():
        assert make.poll() is None, make.communicate()[0].decode()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    os.killpg(make.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group gets SIGINT
    make.communicate(timeout=60)
    return [line for line in log.read_text().splitlines() if not line.endswith(" fetch")]


def test_ctrl_c_stops_the_broker_and_keycloak_that_make_run_started(tmp_path: Path) -> None:
    calls = _make_run_then_ctrl_c(tmp_path, kafka_up=False, idp_up=False)
    assert calls[-3:] == ["platform stopped", "idp down", "kafka down"], calls


def test_ctrl_c_leaves_running_what_was_up_before_make_run(tmp_path: Path) -> None:
    calls = _make_run_then_ctrl_c(tmp_path, kafka_up=True, idp_up=True)
    assert "platform stopped" in calls
    assert "kafka down" not in calls and "idp down" not in calls, calls


def test_only_what_make_run_started_is_stopped(tmp_path: Path) -> None:
    calls = _make_run_then_ctrl_c(tmp_path, kafka_up=True, idp_up=False)
    assert calls[-2:] == ["platform stopped", "idp down"], calls
    assert "kafka down" not in calls
