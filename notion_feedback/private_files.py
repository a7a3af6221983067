"""Files that hold data or secrets (the state store, the spool, its lock, a written .env) are the user's alone:
0600, in folders made 0700, whatever the umask. Questions, answers, comments and tokens live in them.

A folder the user already had keeps its mode (it may be their home); ``doctor`` warns when one of these files or
the product's own folder is readable by others.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; an existing folder is left as it is."""
    missing = [p for p in [path, *path.parents] if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is cut by the umask
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists and is 0600 before anything writes into it (SQLite's -wal and -shm files then take
    the same mode)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text``; the file is 0600 from its first byte (written aside, then renamed)."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def too_open(path: Path) -> str | None:
    """Why ``path`` is readable or writable by others than its owner, or None."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if mode & 0o077:
        wanted = DIR_MODE if path.is_dir() else FILE_MODE
        return f"{path} is {mode:04o} (others can read it); chmod {wanted:04o} {path}"
    return None
