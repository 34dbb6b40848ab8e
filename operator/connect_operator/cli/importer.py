"""`kco import`: read files of other operators' resources or Connect REST bodies, write kco.dev manifests.

The conversion is pure (connect_operator.importing); this module reads the files and writes the streams.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import yaml

from connect_operator.importing import documents
from connect_operator.importing.report import Converted, NotUnderstood

EXIT_ALL_CARRIED, EXIT_DROPPED, EXIT_NOT_UNDERSTOOD = 0, 1, 2


def _documents(path: Path) -> list[Any]:
    text = path.read_text()
    if path.suffix == ".json":
        return [json.loads(text)]
    return [d for d in yaml.safe_load_all(text) if d is not None]


def _files(paths: list[str]) -> list[Path]:
    """The files named, a folder's .yaml, .yml and .json files in name order (as `kco apply -f` reads)."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml", ".json"}))
        else:
            found.append(path)
    return found


def run(paths: list[str], cluster: str | None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    # Looked up at the call, not bound at import: tests and callers may have replaced the streams.
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    result, understood = Converted(), True
    for path in _files(paths):
        name = str(path)
        try:
            parsed = _documents(path)
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
            print(f"error: {name}: cannot read: {exc}", file=stderr)
            understood = False
            continue
        for document in parsed:
            try:
                result.extend(documents.convert(document, path.stem, cluster))
            except NotUnderstood as exc:
                print(f"error: {name}: {exc}", file=stderr)
                understood = False
    if result.manifests:
        stdout.write(yaml.safe_dump_all(result.manifests, sort_keys=False))
    for finding in result.findings:
        print(finding.line(), file=stderr)
    if not understood:
        return EXIT_NOT_UNDERSTOOD
    return EXIT_DROPPED if result.anything_dropped else EXIT_ALL_CARRIED
