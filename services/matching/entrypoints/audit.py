"""Audit command: solve a program described in a JSON file with the service's own engine and write the
matches (each with its score breakdown), the unmatched with reasons and the quality report.

    python -m services.matching.entrypoints.audit PROGRAM.json [--output report.json]

Nothing is read from or written to a service: the run is repeatable by anyone holding the file, for
audits and what-if analysis (change a weight or a rule input, run again, compare). The file format is
described in services/matching/AUDIT_FORMAT.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from services.matching.domain import audit
from services.shared.errors import InvalidArgument

app = typer.Typer(add_completion=False, help=__doc__)

EXIT_INVALID_INPUT = 2


def _summary(report: dict[str, Any]) -> str:
    quality = report["quality"]
    share = quality.get("share_of_optimum")
    share_text = f"{share:.4f}" if isinstance(share, int | float) else "n/a"
    return (
        f"program {report['program_id']} ({report['format']}, solver {report['solver']}): "
        f"{quality['matched']} matched of at most {quality.get('max_matchable', 'n/a')}, "
        f"{len(report['unmatched'])} unmatched, total score {quality['total_score']:.3f}, "
        f"share of optimum {share_text}, blocking pairs {quality.get('blocking_pairs', 'n/a')}"
    )


@app.command()
def main(
    program_file: Annotated[Path, typer.Argument(help="The program and its participants, as JSON.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here (default: stdout).")
    ] = None,
    indent: Annotated[int, typer.Option(help="JSON indentation of the report (0: one line).")] = 2,
) -> None:
    """Solve the program in PROGRAM_FILE and write the audit report as JSON."""
    try:
        document = json.loads(program_file.read_text(encoding="utf-8"))
    except OSError as error:
        typer.echo(f"cannot read {program_file}: {error.strerror}", err=True)
        raise typer.Exit(EXIT_INVALID_INPUT) from error
    except json.JSONDecodeError as error:
        typer.echo(f"{program_file} is not JSON: {error}", err=True)
        raise typer.Exit(EXIT_INVALID_INPUT) from error
    try:
        report = audit.run_audit(document)
    except InvalidArgument as error:
        typer.echo(f"invalid program file: {error.message}", err=True)
        raise typer.Exit(EXIT_INVALID_INPUT) from error
    text = json.dumps(report, indent=indent or None, sort_keys=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    typer.echo(_summary(report), err=True)


if __name__ == "__main__":
    app()
