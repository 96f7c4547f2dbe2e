"""Every file the tool reads or writes goes through this module (folders are still made with
``Path.mkdir`` and listed with ``iterdir``, which read or overwrite nothing).

**Reading.** ``read_bounded`` opens a path without blocking (a FIFO never hangs), refuses anything but a
regular file (folders, devices, pipes, sockets) and reads at most ``limit`` bytes, so ``/dev/zero`` or a
huge file is refused at once instead of filling memory.

**Writing.** A ``Folder`` is a directory opened once. Every name under it is opened relative to that
handle with ``O_NOFOLLOW``, so a symbolic link planted inside a results folder is never followed, and a
sub-folder that is a link is refused. ``Folder.create`` writes a new file under a temporary name of
its own and links it into place, which fails when the name is taken: nothing is ever overwritten. (On a
file system without hard links it renames with the kernel's no-replace flag, or, where even that is
missing, checks the name just before renaming: only a writer racing for the same name in that instant
could then be overwritten.) ``Folder.replace`` (for a folder's own manifest) renames over the old file,
which replaces a link rather than following it. ``write_new`` writes one new file anywhere (a page, an
image, an imported scenario) the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from sim.errors import FileError

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_LINK_UNSUPPORTED = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}

Writer = Callable[[BinaryIO], None]


class FolderExistsError(FileError):
    """A new folder was asked for where something already is."""


def _kind_of(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


def _refusal(kind: str) -> str:
    return {
        "folder": "is a folder, not a file",
        "link": "is a symbolic link; results folders never follow links",
        "other": "not a regular file (a device, a pipe or a socket?)",
    }[kind]


def _reason(exc: OSError | ValueError) -> str:
    if isinstance(exc, ValueError):  # a NUL character in the path
        return "the path holds a character no file name can (NUL)"
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno == errno.ELOOP:
        return _refusal("link")
    if exc.errno in (errno.ENXIO, errno.ENODEV):
        return _refusal("other")
    return f"cannot read it: {exc.strerror or exc}"


def _open_regular(name: str | Path, dir_fd: int | None, follow: bool, shown: object) -> int:
    """A descriptor of a regular file opened for reading, never blocking on a pipe."""
    flags = os.O_RDONLY | os.O_NONBLOCK | _CLOEXEC | (0 if follow else _NOFOLLOW)
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if follow and exc.errno == errno.ELOOP:
            raise FileError(shown, "a loop of symbolic links") from None
        raise FileError(shown, _reason(exc)) from None
    except ValueError as exc:
        raise FileError(shown, _reason(exc)) from None
    try:
        kind = _kind_of(os.fstat(fd).st_mode)
    except OSError as exc:
        os.close(fd)
        raise FileError(shown, _reason(exc)) from None
    if kind != "file":
        os.close(fd)
        raise FileError(shown, _refusal(kind))
    return fd


def _read_fd(fd: int, limit: int, shown: object) -> bytes:
    """At most ``limit`` bytes; more is refused (with the limit in the message)."""
    chunks, total = [], 0
    try:
        while total <= limit:
            block = os.read(fd, min(1 << 20, limit + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
    except OSError as exc:
        raise FileError(shown, _reason(exc)) from None
    finally:
        os.close(fd)
    if total > limit:
        raise FileError(shown, f"file is larger than the limit of {limit:,} bytes (see Limits in the README)")
    return b"".join(chunks)


def read_bounded(path: str | Path, limit: int, shown: object | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else raises FileError.
    ``shown`` is how the path is named in the message (default: as given)."""
    shown = path if shown is None else shown
    return _read_fd(_open_regular(path, None, True, shown), limit, shown)


def file_kind(path: str | Path, follow: bool = False) -> str | None:
    """'file', 'folder', 'link', 'other' or None (nothing there, or no usable name), of the final link
    itself or (``follow``) of what it leads to."""
    try:
        return _kind_of((os.stat if follow else os.lstat)(path).st_mode)
    except (OSError, ValueError):
        return None


def native(handle: BinaryIO) -> str | BinaryIO:
    """What to give a native library (pyarrow) for an open file: the kernel's name for its descriptor
    (``/proc/self/fd/N``, the very file opened, never a path looked up again), or the handle itself
    where there is no such name. Python file objects handed to pyarrow can abort the interpreter at
    exit (pyarrow 26), so native code reads and writes by descriptor."""
    name = f"/proc/self/fd/{handle.fileno()}"
    return name if os.path.exists(name) else handle


def digest(handle: BinaryIO) -> tuple[str, int]:
    """The SHA-256 (hex) and size of what is left to read in ``handle``."""
    sha, size = hashlib.sha256(), 0
    for block in iter(lambda: handle.read(1 << 20), b""):
        sha.update(block)
        size += len(block)
    return sha.hexdigest(), size


class Folder:
    """A directory opened once; every name in it is reached from this handle, never through a link."""

    def __init__(self, fd: int, path: Path):
        self.fd, self.path = fd, path

    @classmethod
    def open(cls, path: str | Path, follow: bool = False) -> Folder:
        """An existing directory. With ``follow=False`` the last part of ``path`` must not be a link."""
        path = Path(path)
        flags = os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC | (0 if follow else _NOFOLLOW)
        try:
            return cls(os.open(path, flags), path)
        except OSError as exc:
            if follow and exc.errno == errno.ELOOP:
                raise FileError(path, "a loop of symbolic links") from None
            raise FileError(path, _folder_reason(exc, file_kind(path))) from None
        except ValueError as exc:
            raise FileError(path, _reason(exc)) from None

    @classmethod
    def make(cls, path: str | Path) -> Folder:
        """A new, empty directory (its parents are made as needed); an existing one is refused with a
        FolderExistsError. ``..`` is resolved in the name first (``a/../b`` is ``b``), so no folder is
        made on the way to it."""
        path = Path(os.path.normpath(path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir()
        except FileExistsError:
            message = "already exists; results are never overwritten (choose another --out)"
            raise FolderExistsError(path, message) from None
        except (OSError, ValueError) as exc:
            raise FileError(path, f"cannot create the folder: {getattr(exc, 'strerror', None) or exc}") from None
        return cls.open(path)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self.close()

    def discard(self) -> None:
        """Remove this folder if it is empty (one this process has just made, say), and close it."""
        self.close()
        with contextlib.suppress(OSError):
            os.rmdir(self.path)

    def kind(self, name: str) -> str | None:
        """What ``name`` is: 'file', 'folder', 'link', 'other', or None."""
        try:
            return _kind_of(os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_mode)
        except OSError:
            return None

    def names(self) -> list[str]:
        """The names in this folder, sorted."""
        return sorted(os.listdir(self.fd))

    def sub(self, name: str, create: bool = False) -> Folder:
        """A sub-folder (made first with ``create``); a link or a file in its place is refused."""
        if create:
            try:
                os.mkdir(name, dir_fd=self.fd)
            except FileExistsError:
                pass
            except OSError as exc:
                raise FileError(self.path / name, f"cannot create the folder: {exc.strerror or exc}") from None
        flags = os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC | _NOFOLLOW
        try:
            return Folder(os.open(name, flags, dir_fd=self.fd), self.path / name)
        except OSError as exc:
            raise FileError(self.path / name, _folder_reason(exc, self.kind(name))) from None

    def walk(self, prefix: str = "") -> Iterator[tuple[str, str]]:
        """(relative name, kind) of everything below this folder, never entering a link."""
        for name in self.names():
            kind = self.kind(name)
            yield prefix + name, kind or "other"
            if kind == "folder":
                inner = self.sub(name)
                try:
                    yield from inner.walk(f"{prefix}{name}/")
                finally:
                    inner.close()

    def open_binary(self, name: str) -> BinaryIO:
        """A regular file of this folder opened for reading (never through a link)."""
        return os.fdopen(_open_regular(name, self.fd, False, self.path / name), "rb")

    def read_bytes(self, name: str, limit: int) -> bytes:
        """A regular file of this folder of at most ``limit`` bytes (never through a link)."""
        shown = self.path / name
        return _read_fd(_open_regular(name, self.fd, False, shown), limit, shown)

    def open_lock(self, name: str) -> int:
        """A descriptor of the lock file ``name``, made if missing; a link or a pipe is refused."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | _CLOEXEC | _NOFOLLOW
        shown = self.path / name
        try:
            fd = os.open(name, flags, 0o644, dir_fd=self.fd)
        except OSError as exc:
            raise FileError(shown, _write_reason(exc)) from None
        info = os.fstat(fd)
        kind = _kind_of(info.st_mode)
        if kind != "file" or info.st_nlink != 1:
            os.close(fd)
            raise FileError(shown, _refusal(kind) if kind != "file" else "has other names (a hard link): it would "
                            "write to a file outside the folder; remove it")  # fmt: skip
        return fd

    def _write_temporary(self, name: str, write: Writer) -> str:
        """Write a new temporary file of a name no other writer uses, and return its name."""
        temporary = f".{name}.{os.getpid()}-{secrets.token_hex(4)}.partial"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC | _NOFOLLOW
        try:
            fd = os.open(temporary, flags, 0o644, dir_fd=self.fd)
            with os.fdopen(fd, "wb") as handle:
                write(handle)
        except OSError as exc:
            self.remove(temporary)
            raise FileError(self.path / name, _write_reason(exc)) from None
        except BaseException:
            self.remove(temporary)
            raise
        return temporary

    def create(self, name: str, write: Writer, check: Callable[[Path], None] | None = None) -> None:
        """Write the new file ``name`` with ``write(handle)``, atomically; if ``name`` exists (as
        anything, a link included) it is left alone and the write is refused. ``check(path)``, if given,
        sees the finished file under its temporary name first: if it raises, nothing is written."""
        if self.kind(name) is not None:
            raise FileError(self.path / name, "already exists; results are never overwritten")
        temporary = self._write_temporary(name, write)
        try:
            if check is not None:
                check(self.path / temporary)
            os.link(temporary, name, src_dir_fd=self.fd, dst_dir_fd=self.fd, follow_symlinks=False)
        except FileExistsError:
            raise FileError(self.path / name, "already exists; results are never overwritten") from None
        except OSError as exc:
            if exc.errno not in _LINK_UNSUPPORTED:
                raise FileError(self.path / name, _write_reason(exc)) from None
            self._rename_if_free(temporary, name)  # a file system without hard links
        finally:
            self.remove(temporary)

    def _rename_if_free(self, temporary: str, name: str) -> None:
        """Rename without replacing: the kernel's RENAME_NOREPLACE where there is one (Linux), else a
        check of the name just before the rename."""
        try:
            if _rename_noreplace(self.fd, temporary, name):
                return
        except FileExistsError:
            raise FileError(self.path / name, "already exists; results are never overwritten") from None
        if self.kind(name) is not None:
            raise FileError(self.path / name, "already exists; results are never overwritten")
        try:
            os.rename(temporary, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except OSError as exc:
            raise FileError(self.path / name, _write_reason(exc)) from None

    def replace(self, name: str, write: Writer) -> None:
        """Write ``name`` anew, atomically, replacing the old file (a link in its place is replaced,
        never followed). Only for a folder's own bookkeeping: its manifest."""
        temporary = self._write_temporary(name, write)
        try:
            os.rename(temporary, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except OSError as exc:
            self.remove(temporary)
            raise FileError(self.path / name, _write_reason(exc)) from None

    def remove(self, name: str) -> None:
        """Remove a file or a link (never what it points to); nothing there is fine."""
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            raise FileError(self.path / name, "is a folder where a file was expected") from None
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise FileError(self.path / name, _write_reason(exc)) from None

    def remove_folder(self, name: str) -> None:
        """Remove the sub-folder ``name`` and everything in it, folders within it included (a link is
        removed, never followed). What cannot be removed stays in place."""
        kind = self.kind(name)
        if kind != "folder":
            if kind is not None:
                self.remove(name)
            return
        inner = self.sub(name)
        try:
            for entry in inner.names():
                if inner.kind(entry) == "folder":
                    inner.remove_folder(entry)
                else:
                    inner.remove(entry)
        finally:
            inner.close()
        with contextlib.suppress(OSError):
            os.rmdir(name, dir_fd=self.fd)


_RENAME_NOREPLACE = 1


def _rename_noreplace(fd: int, source: str, target: str) -> bool:
    """renameat2(..., RENAME_NOREPLACE) in ``fd``: True if renamed; FileExistsError if ``target``
    exists; False where the call is missing (not Linux, an old kernel, a file system without it)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return False
    if call(fd, os.fsencode(source), fd, os.fsencode(target), _RENAME_NOREPLACE) == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        raise FileExistsError(code, os.strerror(code), target)
    return False


def _folder_reason(exc: OSError, kind: str | None) -> str:
    if kind == "link":
        return _refusal("link")
    if kind is None:
        return "no such folder"
    if kind != "folder":
        return "not a folder"
    return f"cannot open the folder: {exc.strerror or exc}"


def _write_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return _refusal("link")
    return f"cannot write: {exc.strerror or exc}"


def write_new(path: str | Path, write: Writer, check: Callable[[Path], None] | None = None) -> None:
    """Write the new file ``path`` (a page, an image, a scenario) atomically; an existing file, link,
    device or folder of that name is refused and left alone. The folder must exist. ``check`` as for
    ``Folder.create``."""
    path = Path(os.path.normpath(path))
    folder = Folder.open(path.parent, follow=True)
    try:
        folder.create(path.name, write, check)
    finally:
        folder.close()


def text_writer(text: str) -> Writer:
    """A writer of UTF-8 text."""
    data = text.encode("utf-8")
    return lambda handle: handle.write(data)
