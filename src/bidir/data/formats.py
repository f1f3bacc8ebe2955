"""Readers (and writers, for tests and subsets) of the official dataset file formats.

* IDX (MNIST, Fashion-MNIST, EMNIST): magic 0x0000 + dtype byte + rank byte, then one
  big-endian uint32 per dimension, then the data, optionally gzip-compressed.
* CIFAR-10 binary version: records of 1 label byte + 3072 pixel bytes (1024 R, G, B,
  row-major). Never the pickled Python version: bidir never unpickles data.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from ..errors import DatasetError

__all__ = ["read_idx", "write_idx", "read_cifar_batch", "write_cifar_batch", "CIFAR_RECORD"]

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_CODES = {
    np.dtype("uint8"): 0x08,
    np.dtype("int8"): 0x09,
    np.dtype("int16"): 0x0B,
    np.dtype("int32"): 0x0C,
    np.dtype("float32"): 0x0D,
    np.dtype("float64"): 0x0E,
}
CIFAR_RECORD = 1 + 3 * 32 * 32


def _read_bytes(path: Path) -> bytes:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"missing dataset file: {path}")
    try:
        if path.suffix == ".gz":
            head = path.read_bytes()[:512]
            if not head.startswith(b"\x1f\x8b"):
                page = head.lstrip().lower().startswith((b"<!doctype html", b"<html"))
                what = "an HTML page" if page else "not gzip-compressed"
                raise DatasetError(f"{path} is {what}, not a .gz dataset file; delete it and fetch it again")
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(
            f"cannot read {path}: {exc} (the file is truncated or corrupt; delete it and fetch it again)"
        ) from None


def read_idx(path) -> torch.Tensor:
    """Read an IDX file (.gz or raw) into a tensor of its stored shape and dtype."""
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DatasetError(f"{path} is not an IDX file (bad magic number {data[:4].hex() or 'empty'})")
    rank = data[3]
    header = 4 + 4 * rank
    if len(data) < header:
        raise DatasetError(f"{path} is truncated: its IDX header needs {header} bytes, the file has {len(data)}")
    dims = struct.unpack(f">{rank}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        kind = "a truncated file" if len(data) < expected else "data appended"
        raise DatasetError(
            f"{path}: its IDX header says shape {dims}, {expected} bytes, but the file has {len(data)}: a changed "
            f"header or {kind}; delete it and fetch it again"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=True))


def write_idx(path, array) -> Path:
    """Write an array as an IDX file (gzip-compressed when the name ends in .gz)."""
    array = np.asarray(array)
    header = bytes([0, 0, _IDX_CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path


def read_cifar_batch(path) -> tuple[torch.Tensor, torch.Tensor]:
    """Read one CIFAR-10 binary batch: images uint8 (N, 3, 32, 32) and labels int64 (N,)."""
    data = _read_bytes(path)
    if len(data) == 0 or len(data) % CIFAR_RECORD:
        raise DatasetError(
            f"{path} is truncated or not a CIFAR-10 binary batch: {len(data)} bytes is not a multiple of the "
            f"{CIFAR_RECORD}-byte record"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
    labels = torch.from_numpy(records[:, 0].astype(np.int64))
    if int(labels.max()) > 9:
        raise DatasetError(f"{path} has label {int(labels.max())}; CIFAR-10 labels are 0-9 (corrupt file?)")
    images = torch.from_numpy(records[:, 1:].reshape(-1, 3, 32, 32).copy())
    return images, labels


def write_cifar_batch(path, images, labels) -> Path:
    """Write images (N, 3, 32, 32) uint8 and labels (N,) as a CIFAR-10 binary batch."""
    images = np.asarray(images, dtype=np.uint8).reshape(len(labels), -1)
    records = np.concatenate([np.asarray(labels, dtype=np.uint8)[:, None], images], axis=1)
    Path(path).write_bytes(records.tobytes())
    return Path(path)
