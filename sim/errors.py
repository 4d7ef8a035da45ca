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


class WriteFailed(Exception):
    """Writing a result failed (disk full, ...): the CLI prints one line and exits 1; the earlier
    file is left as it was and no temporary file stays behind (sim/output.py)."""

    def __init__(self, file: object, message: str):
        self.file = str(file)
        self.message = message
        super().__init__(f"{self.file}: {message}")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C: finished work is saved, temporary files removed (exit 143)."""

    exit_status = 128 + 15


def read_toml(path, error: type[InputError] = InputError, kind: str = "scenario") -> dict:
    """A user's TOML file as a dict; anything wrong (missing, a directory or device, not text,
    malformed) raises `error` naming the file."""
    import tomllib
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        raise error(path, None, f"no such {kind} file")
    if path.is_dir():
        raise error(path, None, f"is a directory, expected a {kind} .toml file")
    if not path.is_file():  # a device or a pipe could be read forever
        raise error(path, None, f"is not a regular file, expected a {kind} .toml file")
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except UnicodeDecodeError:
        raise error(path, None, "is not a text TOML file") from None
    except tomllib.TOMLDecodeError as parse_error:
        raise error(path, None, f"malformed TOML: {parse_error}") from None
    except OSError as os_error:
        raise error(path, None, f"cannot be read: {os_error.strerror}") from None


class ModelDivergence(RuntimeError):
    """A parameter set drove the model outside any meaningful range (e.g. firm numbers exploding)."""
