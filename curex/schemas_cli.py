"""``curex schemas``: write the generated JSON Schema and AsyncAPI files, or check them."""

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

import schemas
from schemas.export import export_files

DEFAULT_EXPORT_DIR = Path(schemas.__file__).parent / "export"

schemas_app = typer.Typer(
    help="JSON Schema and AsyncAPI documents generated from the message models.",
    no_args_is_help=True,
)


def export_drift(out_dir: Path, expected: Mapping[str, str]) -> list[str]:
    """One line per file of ``out_dir`` that differs from ``expected``: stale, missing, extra."""
    present: set[str] = set()
    if out_dir.is_dir():
        present = {path.name for path in out_dir.iterdir() if path.is_file()}
    drift = [f"missing: {name}" for name in sorted(expected.keys() - present)]
    drift += [
        f"stale: {name}"
        for name in sorted(expected.keys() & present)
        if (out_dir / name).read_text(encoding="utf-8") != expected[name]
    ]
    drift += [f"extra: {name}" for name in sorted(present - expected.keys())]
    return drift


@schemas_app.command("export")
def export(
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write to.", file_okay=False)
    ] = DEFAULT_EXPORT_DIR,
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 if the files are not up to date."),
    ] = False,
) -> None:
    """Write one JSON Schema per message or union, and asyncapi.json."""
    expected = export_files()
    if check:
        drift = export_drift(out, expected)
        if drift:
            for line in drift:
                typer.echo(line, err=True)
            fix = "curex schemas export" + ("" if out == DEFAULT_EXPORT_DIR else f" --out {out}")
            typer.echo(f"{out} is out of date: run `{fix}`", err=True)
            raise typer.Exit(code=1)
        typer.echo(f"{out}: {len(expected)} files up to date")
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, text in expected.items():
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="\n")
            typer.echo(f"wrote {path}")
    for line in export_drift(out, expected):
        # Only extra files can remain; they are left alone, as the directory may be the user's.
        typer.echo(f"{line} (not generated: delete it if it is a leftover)", err=True)
