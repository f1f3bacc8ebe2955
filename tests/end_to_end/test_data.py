"""Datasets: official formats, checksums, downloads from a local server, clear errors."""

import dataclasses
import gzip
import io
import tarfile
import zipfile

import numpy as np
import pytest
import torch

from bidir.data import datasets as D
from bidir.data.download import RemoteFile, download, file_digest
from bidir.data.formats import read_cifar_batch, read_idx, write_cifar_batch, write_idx
from bidir.errors import ChecksumError, DatasetError, InvalidInputError


def images_labels(n=12, seed=0, classes=10, offset=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), (rng.integers(0, classes, n) + offset).astype(np.uint8)


# ------------------------------------------------------------------ formats
@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(2 * 3 * 4) - 7).astype(dtype).reshape(2, 3, 4)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = read_idx(write_idx(tmp_path / f"a.idx{suffix}", array))
    assert out.shape == (2, 3, 4) and np.array_equal(out.numpy(), array)


def test_idx_header_is_the_official_layout(tmp_path):
    raw = write_idx(tmp_path / "labels-idx1-ubyte", np.array([3, 1, 4], dtype=np.uint8)).read_bytes()
    assert raw == bytes([0, 0, 8, 1, 0, 0, 0, 3, 3, 1, 4])  # magic 0x00000801, count 3, data


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"", "not an IDX file"),
        (b"\x01\x02\x08\x01\x00\x00\x00\x03abc", "not an IDX file"),
        (bytes([0, 0, 8, 3, 0, 0, 0, 2]), "truncated"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), r"header says shape \(5,\).*a changed header or a truncated file"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), r"header says shape \(1,\).*a changed header or data appended"),
    ],
)
def test_idx_malformed_files_raise_clear_errors(tmp_path, payload, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(payload)
    with pytest.raises(DatasetError, match=message):
        read_idx(path)


def test_truncated_gzip_raises_clear_error(tmp_path):
    good = write_idx(tmp_path / "x.gz", np.zeros((50, 28, 28), np.uint8)).read_bytes()
    bad = tmp_path / "bad.gz"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        read_idx(bad)
    with pytest.raises(DatasetError, match="missing"):
        read_idx(tmp_path / "nope.gz")


def test_cifar_binary_round_trip_and_errors(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 3, 32, 32), dtype=np.uint8)
    labels = np.array([0, 9, 3, 3, 1])
    x, y = read_cifar_batch(write_cifar_batch(tmp_path / "b.bin", images, labels))
    assert np.array_equal(x.numpy(), images) and y.tolist() == labels.tolist()
    (tmp_path / "short.bin").write_bytes((tmp_path / "b.bin").read_bytes()[:-5])
    with pytest.raises(DatasetError, match="truncated"):
        read_cifar_batch(tmp_path / "short.bin")
    bad = bytearray((tmp_path / "b.bin").read_bytes())
    bad[0] = 200
    (tmp_path / "label.bin").write_bytes(bytes(bad))
    with pytest.raises(DatasetError, match="label 200"):
        read_cifar_batch(tmp_path / "label.bin")


# ------------------------------------------------------------------ checksums and download
def test_download_verifies_and_writes_atomically(http_server, tmp_path):
    served, url = http_server
    (served / "f.bin").write_bytes(b"bidir" * 1000)
    good = RemoteFile("f.bin", (url + "missing.bin", url + "f.bin"), sha256=file_digest(served / "f.bin"), size=5000)
    path = download(good, tmp_path / "dl", progress=False)  # first URL 404s, second works
    assert path.read_bytes() == b"bidir" * 1000
    bad = RemoteFile("g.bin", (url + "f.bin",), sha256="0" * 64)
    with pytest.raises(DatasetError, match="sha256"):
        download(bad, tmp_path / "dl", progress=False)
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["f.bin"]  # nothing half-written


def test_download_reports_every_failed_source(tmp_path):
    remote = RemoteFile("x", ("http://127.0.0.1:9/x", "http://127.0.0.1:9/y"), sha256="0" * 64)
    with pytest.raises(DatasetError, match="could not download x from any of its"):
        download(remote, tmp_path, progress=False, timeout=2)


def _tiny_mnist_spec(url, folder):
    splits = {}
    files = {}
    for split, n in (("train", 20), ("test", 8)):
        x, y = images_labels(n, seed=n)
        names = (f"{split}-images-idx3-ubyte.gz", f"{split}-labels-idx1-ubyte.gz")
        for name, array in zip(names, (x, y), strict=True):
            p = write_idx(folder / name, array)
            files[name] = RemoteFile(name, (url + name,), sha256=file_digest(p), size=p.stat().st_size)
        splits[split] = names
    return dataclasses.replace(
        D.DATASETS["mnist"], name="tiny-mnist", splits=splits, files=files, folders=("tiny-mnist",)
    )


def test_load_dataset_downloads_into_the_cache_then_reuses_it(http_server, tmp_path, monkeypatch):
    served, url = http_server
    spec = D.register_dataset(_tiny_mnist_spec(url, served))
    try:
        ds = D.load_dataset("tiny-mnist", "train", progress=False)
        assert ds.images.shape == (20, 1, 28, 28) and ds.images.dtype == torch.uint8
        assert (D.cache_dir() / "tiny-mnist" / "train-images-idx3-ubyte.gz").is_file()
        for f in served.iterdir():
            f.unlink()  # the server is gone: the cached copy must serve
        again = D.load_dataset("tiny-mnist", "train", progress=False)
        assert torch.equal(again.images, ds.images)
        # A corrupted cached file is caught by its checksum.
        cached = D.cache_dir() / "tiny-mnist" / "train-labels-idx1-ubyte.gz"
        raw = bytearray(cached.read_bytes())
        raw[-6] ^= 0xFF  # same size, one byte flipped (inside the gzip CRC)
        cached.write_bytes(bytes(raw))
        with pytest.raises(ChecksumError, match="corrupt or not the official"):
            D.load_dataset("tiny-mnist", "train", progress=False)
        with pytest.raises(DatasetError, match="truncated or corrupt"):
            D.load_dataset("tiny-mnist", "train", verify=False)
        cached.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x14" + bytes(20)))
        with pytest.raises(ChecksumError, match="truncated"):
            D.load_dataset("tiny-mnist", "train", progress=False)
    finally:
        D.DATASETS.pop(spec.name)


def test_missing_dataset_without_download_names_where_it_looked(tmp_path):
    with pytest.raises(DatasetError, match="not found; looked in"):
        D.load_dataset("mnist", "train", data_dir=tmp_path, download=False)


def test_truncated_official_file_is_reported(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in D.DATASETS["mnist"].splits["test"]:
        (folder / name).write_bytes(b"\x1f\x8b" + bytes(100))
    with pytest.raises(ChecksumError, match="truncated: 102 bytes, the official file has"):
        D.load_dataset("mnist", "test", data_dir=tmp_path, download=False)


def test_unknown_dataset_and_split():
    with pytest.raises(InvalidInputError, match="unknown dataset"):
        D.load_dataset("imagenet")
    with pytest.raises(InvalidInputError, match="no split"):
        D.load_dataset("mnist", "validation")


def test_emnist_letters_from_the_official_zip_layout(http_server, tmp_path):
    """EMNIST: images stored transposed, labels 1..26; fetched as gzip.zip and unpacked."""
    served, url = http_server
    spec = D.DATASETS["emnist-letters"]
    buf, files, truth = io.BytesIO(), {}, {}
    with zipfile.ZipFile(buf, "w") as z:
        for split, (img_name, lab_name) in spec.splits.items():
            x, y = images_labels(10, seed=len(split), classes=26, offset=1)
            truth[split] = (x, y)
            for name, array in ((img_name, np.ascontiguousarray(x.transpose(0, 2, 1))), (lab_name, y)):
                p = write_idx(tmp_path / name, array)
                z.write(p, f"gzip/{name}")
                files[name] = RemoteFile(name, (), sha256=file_digest(p))
    (served / "gzip.zip").write_bytes(buf.getvalue())
    test_spec = D.register_dataset(
        dataclasses.replace(
            spec,
            name="emnist-test",
            files=files,
            folders=("emnist-test",),
            archive=RemoteFile("gzip.zip", (url + "gzip.zip",)),
        )
    )
    try:
        ds = D.load_dataset("emnist-test", "train", progress=False)
        x, y = truth["train"]
        assert np.array_equal(ds.images[:, 0].numpy(), x)  # upright again
        assert ds.labels.tolist() == (y.astype(int) - 1).tolist()  # 0..25
        assert len(ds.classes) == 26 and ds.classes[0] == "a"
    finally:
        D.DATASETS.pop(test_spec.name)


def test_cifar10_archive_is_checked_with_md5_and_unpacked(http_server, tmp_path):
    served, url = http_server
    spec = D.DATASETS["cifar10"]
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for member in spec.members:
            data = write_cifar_batch(
                tmp_path / "b", rng.integers(0, 256, (4, 3, 32, 32)), rng.integers(0, 10, 4)
            ).read_bytes()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    (served / "cifar.tar.gz").write_bytes(buf.getvalue())
    archive = RemoteFile("cifar.tar.gz", (url + "cifar.tar.gz",), md5=file_digest(served / "cifar.tar.gz", "md5"))
    small = {n: dataclasses.replace(f, size=4 * 3073) for n, f in spec.files.items()}
    test_spec = D.register_dataset(
        dataclasses.replace(spec, name="cifar-test", files=small, folders=("cifar-test",), archive=archive)
    )
    try:
        ds = D.load_dataset("cifar-test", "train", progress=False)
        assert ds.images.shape == (20, 3, 32, 32)
        assert (D.cache_dir() / "cifar-test" / D.MANIFEST).is_file()  # extracted files now have checksums
        bad_md5 = dataclasses.replace(
            test_spec, name="cifar-bad", folders=("cifar-bad",), archive=dataclasses.replace(archive, md5="0" * 32)
        )
        D.register_dataset(bad_md5)
        with pytest.raises(DatasetError, match="md5"):
            D.load_dataset("cifar-bad", "test", progress=False)
    finally:
        D.DATASETS.pop("cifar-test")
        D.DATASETS.pop("cifar-bad", None)


# ------------------------------------------------------------------ shipped and real data
def test_embedded_mnist_subset():
    train, test = D.load_dataset("mnist-subset", "train"), D.load_dataset("mnist-subset", "test")
    assert train.images.shape == (5000, 1, 28, 28) and test.images.shape == (1000, 1, 28, 28)
    assert set(train.labels.tolist()) == set(range(10))
    assert 0.05 < train.features().mean() < 0.25  # mostly dark digits on black


def test_real_mnist_matches_the_embedded_subset(shared_data):
    mnist = D.load_dataset("mnist", "test", data_dir=shared_data, download=False)
    assert len(mnist) == 10000
    assert torch.equal(mnist.images[:1000], D.load_dataset("mnist-subset", "test").images)


@pytest.mark.parametrize("name, n_train", [("fashion-mnist", 60000), ("cifar10", 50000)])
def test_real_datasets_load(shared_data, name, n_train):
    with pytest.warns(UserWarning) if name == "cifar10" else _nothing():
        ds = D.load_dataset(name, "train", data_dir=shared_data, download=False)
    assert len(ds) == n_train and ds.labels.bincount().tolist() == [n_train // 10] * 10


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
