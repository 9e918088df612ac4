"""``diffusion schema``: a JSON Schema of scenario files, for editors."""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["schema"]


@click.command()
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the schema to this file  [default: standard output]")
def schema(out: Path | None) -> None:
    """Write a JSON Schema of scenario files, generated from the code.

    Editors with TOML support (for example Taplo, or VS Code's Even Better TOML)
    use it to complete keys and flag wrong values: put `#:schema ./scenario.schema.json`
    on the first line of a scenario, or map `scenarios/*.toml` to it in the editor.
    """
    from ..outputs import write_text
    from ..reference import json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        write_text(out, text)
        click.echo(f"wrote {out}", err=True)
