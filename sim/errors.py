"""Named exceptions. Bad user input raises `InputError` (the CLI prints one line, exits 2)."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a user file or option: names the file, the key and what is allowed."""

    def __init__(self, file: object, key: str | None, message: str):
        self.file = str(file) if file is not None else None
        self.key = key
        self.message = message
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [p for p in (self.file, self.key) if p]
        prefix = ": ".join(parts)
        text = f"{prefix}: {self.message}" if prefix else self.message
        return " ".join(text.split())  # one line, whatever a parser's message held


class ScenarioError(InputError):
    """A scenario file is missing, malformed or violates the parameter declaration."""


class OutputError(InputError):
    """An output path cannot be written (missing directory, existing file without --overwrite)."""


class ModelDivergence(RuntimeError):
    """A parameter set drove the model outside any meaningful range (e.g. firm numbers exploding)."""
