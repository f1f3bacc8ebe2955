"""Checksums, downloads with progress, atomic writes and safe archive extraction."""

from __future__ import annotations

import hashlib
import tarfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import ChecksumError, DatasetError
from ..io import atomic_write, copy_atomic

__all__ = ["RemoteFile", "file_digest", "verify_file", "download", "extract_members"]


@dataclass(frozen=True)
class RemoteFile:
    """A published file: where to get it and how to check it (sha256 and/or md5, size)."""

    name: str
    urls: tuple[str, ...]
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None


def file_digest(path, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """The hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _check(where, size: int, digest, remote: RemoteFile) -> None:
    """Compare a file's size and checksum (``digest(algorithm) -> hex``) with the published ones."""
    if remote.size is not None and size != remote.size:
        kind = "truncated" if size < remote.size else "too large"
        raise ChecksumError(
            f"{where} is {kind}: {size} bytes, the official file has {remote.size}{_looks_like_a_page(where)}. "
            "Delete it to fetch it again."
        )
    for algorithm in ("sha256", "md5"):
        expected = getattr(remote, algorithm)
        if expected:
            actual = digest(algorithm)
            if actual != expected:
                raise ChecksumError(
                    f"{where} has {algorithm} {actual}, expected {expected}: the file is corrupt or not the official "
                    f"release{_looks_like_a_page(where)}. Delete it to fetch it again; for files you supplied "
                    "yourself, `bidir fetch NAME --no-verify` (or verify=False) skips the checksum."
                )
            return


def _looks_like_a_page(where) -> str:
    """' (it is an HTML page, not the dataset file)' when the file at ``where`` starts like one."""
    try:
        start = Path(where).read_bytes()[:512].lstrip().lower()
    except OSError:
        return ""
    return " (it is an HTML page, not the dataset file)" if start.startswith((b"<!doctype html", b"<html")) else ""


def verify_file(path, remote: RemoteFile) -> None:
    """Raise a clear error when ``path`` is missing, has the wrong size or the wrong checksum."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"missing dataset file: {path}")
    _check(path, path.stat().st_size, lambda algorithm: file_digest(path, algorithm), remote)


def _stream_verified(f, url: str, remote: RemoteFile, progress: bool, timeout: float) -> None:
    """Copy ``url`` into the open file ``f``, hashing as it goes; raise before the file is renamed into place."""
    hashes = {a: hashlib.new(a) for a in ("sha256", "md5") if getattr(remote, a)}
    size = 0
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or remote.size
        desc = f"download {remote.name}"
        with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=None if progress else True) as bar:
            while block := response.read(1 << 16):
                f.write(block)
                size += len(block)
                for h in hashes.values():
                    h.update(block)
                bar.update(len(block))
    _check(f"the download of {remote.name} from {url}", size, lambda a: hashes[a].hexdigest(), remote)


def download(remote: RemoteFile, folder, progress: bool = True, timeout: float = 60.0) -> Path:
    """Fetch ``remote`` into ``folder``, trying each URL in turn; verify before it appears.

    The bytes go to a temporary file beside the target, are checked while they arrive, then
    renamed into place, so an interrupted or corrupt download never leaves a file under the real name.
    """
    folder = Path(folder)
    made = [p for p in (folder, *folder.parents) if not p.exists()]  # what a failed download must not leave
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / remote.name
    errors = []
    for url in remote.urls:
        try:
            atomic_write(target, lambda f, url=url: _stream_verified(f, url, remote, progress, timeout), binary=True)
            return target
        except (urllib.error.URLError, OSError, ValueError) as exc:  # ChecksumError is an OSError
            errors.append(f"{url}: {exc}")
    for p in made:  # innermost first: the folders this call made, if they stayed empty
        if p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    raise DatasetError(f"could not download {remote.name} from any of its {len(errors)} sources: " + "; ".join(errors))


def extract_members(archive, members: dict[str, str], folder) -> list[Path]:
    """Extract the named archive members ({member path: file name}) flat into ``folder``.

    Works for .zip and .tar(.gz); only the listed regular files are read, so a malicious
    archive cannot write outside ``folder``. Each file is written atomically.
    """
    archive, folder = Path(archive), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                names = set(z.namelist())
                for member, name in members.items():
                    if member not in names:
                        raise DatasetError(f"{archive} lacks {member}")
                    with z.open(member) as stream:
                        out.append(copy_atomic(stream, folder / name))
        else:
            with tarfile.open(archive) as t:
                for member, name in members.items():
                    try:
                        info = t.getmember(member)
                    except KeyError:
                        raise DatasetError(f"{archive} lacks {member}") from None
                    if not info.isfile():
                        raise DatasetError(f"{archive}: {member} is not a regular file")
                    with t.extractfile(info) as stream:
                        out.append(copy_atomic(stream, folder / name))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(
            f"cannot extract {archive}: {exc} (truncated or corrupt archive; delete it to fetch it again)"
        ) from None
    return out
