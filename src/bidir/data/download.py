"""Checksums, downloads with progress, atomic writes and safe archive extraction."""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import ChecksumError, DatasetError

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
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_file(path, remote: RemoteFile) -> None:
    """Raise a clear error when ``path`` is missing, has the wrong size or the wrong checksum."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"missing dataset file: {path}")
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        kind = "truncated" if size < remote.size else "too large"
        raise ChecksumError(f"{path} is {kind}: {size} bytes, the official file has {remote.size}. Delete it to fetch it again.")
    for algorithm in ("sha256", "md5"):
        expected = getattr(remote, algorithm)
        if expected:
            actual = file_digest(path, algorithm)
            if actual != expected:
                raise ChecksumError(
                    f"{path} has {algorithm} {actual}, expected {expected}: the file is corrupt or not the official release. "
                    "Delete it to fetch it again, or skip the check with verify=False (--no-verify)."
                )
            return


def download(remote: RemoteFile, folder, progress: bool = True, timeout: float = 60.0) -> Path:
    """Fetch ``remote`` into ``folder``, trying each URL in turn; verify before it appears.

    The bytes go to a temporary file beside the target, are checked, then renamed into
    place, so an interrupted or corrupt download never leaves a file under the real name.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / remote.name
    errors = []
    for url in remote.urls:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{remote.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                total = int(response.headers.get("Content-Length") or 0) or remote.size
                with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {remote.name}", disable=None if progress else True) as bar:
                    while block := response.read(1 << 16):
                        out.write(block)
                        bar.update(len(block))
            verify_file(tmp, remote)
            os.replace(tmp, target)
            return target
        except ChecksumError as exc:
            errors.append(f"{url}: {exc}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            errors.append(f"{url}: {exc}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise DatasetError(f"could not download {remote.name} from any source:\n  " + "\n  ".join(errors))


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
                    out.append(_write_atomic(z.open(member), folder / name))
        else:
            with tarfile.open(archive) as t:
                for member, name in members.items():
                    try:
                        info = t.getmember(member)
                    except KeyError:
                        raise DatasetError(f"{archive} lacks {member}") from None
                    if not info.isfile():
                        raise DatasetError(f"{archive}: {member} is not a regular file")
                    out.append(_write_atomic(t.extractfile(info), folder / name))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise DatasetError(f"cannot extract {archive}: {exc} (truncated or corrupt archive; delete it to fetch it again)") from None
    return out


def _write_atomic(stream, target: Path) -> Path:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f, stream:
            shutil.copyfileobj(stream, f)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
