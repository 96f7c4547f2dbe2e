"""The one kind of error the user is told about plainly: input the tool refuses.

Every refusal (a scenario, an option, a file, a results folder) is a ``InputError``; the command line
prints its message and exits with code 2. Anything else that escapes is a bug.
"""

from __future__ import annotations


class InputError(Exception):
    """Input the tool refuses, with a message that says where and why; the CLI exits with code 2."""


class FileError(InputError):
    """A file that cannot be read or written as asked: ``path`` and the ``reason`` in words."""

    def __init__(self, path: object, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")
