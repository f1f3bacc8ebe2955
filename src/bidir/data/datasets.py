"""Image datasets: MNIST, Fashion-MNIST, EMNIST letters, CIFAR-10 and the embedded MNIST subset.

``load_dataset(name, split)`` finds the official files in, in order: ``data_dir``, the
folder named by $BIDIR_DATA_DIR, and the cache ($BIDIR_CACHE_DIR, else the user cache
folder). Each folder may hold the files directly or in a sub-folder named after the
dataset. Files are checked against the published sha256 (or md5 for the CIFAR-10
archive). When nothing is found and ``download`` is on, the official files are fetched
with a progress bar, verified, and stored atomically.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import platformdirs
import torch

from ..errors import DatasetError, InvalidInputError
from ..io import write_json_atomic
from ..seeds import derive_seed
from ..validation import check_fits
from .download import RemoteFile, download, extract_members, file_digest, verify_file
from .formats import CIFAR_RECORD, read_cifar_batch, read_idx

__all__ = ["DatasetSpec", "ImageDataset", "DATASETS", "load_dataset", "register_dataset", "cache_dir", "EMBEDDED"]

MANIFEST = "bidir-sha256.json"  # written beside files that bidir extracted from a verified archive


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset's files come from and how to read them."""

    name: str
    description: str
    classes: tuple[str, ...]
    splits: dict  # split -> tuple of file names (IDX: images, labels; CIFAR: batches)
    files: dict  # file name -> RemoteFile (checksums; URLs when fetched one by one)
    format: str = "idx"  # "idx" or "cifar"
    folders: tuple[str, ...] = ()  # sub-folder names to look in
    archive: RemoteFile | None = None  # fetched and unpacked when the files come in one archive
    members: dict = field(default_factory=dict)  # archive member -> file name
    transpose: bool = False  # EMNIST stores images transposed relative to MNIST
    label_offset: int = 0  # EMNIST letters are labelled 1..26
    source: Path | None = None  # a fixed folder (embedded data): no search, no download
    attribution: str = ""


@dataclass
class ImageDataset:
    """Images (N, C, H, W) uint8 and labels (N,) int64, with class names."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return self.labels.shape[0]

    def features(self, flatten: bool = True, dtype=torch.float32) -> torch.Tensor:
        """Pixels scaled to [0, 1], flattened to (N, C*H*W) unless ``flatten`` is False."""
        x = self.images.to(dtype) / 255.0
        return x.flatten(1) if flatten else x

    def subset(self, n: int, seed: int | None = None) -> ImageDataset:
        """The first n samples, or n random ones when ``seed`` is given."""
        if not 0 < n <= len(self):
            raise InvalidInputError(f"subset size must be in 1..{len(self)}, got {n}")
        idx = (
            torch.arange(n)
            if seed is None
            else torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
        )
        return ImageDataset(self.name, self.split, self.images[idx], self.labels[idx], self.classes)


def _idx_files(base_urls, names_sha_size):
    return {
        name: RemoteFile(name, tuple(u + name for u in base_urls), sha256=sha, size=size)
        for name, sha, size in names_sha_size
    }


_MNIST_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_EMNIST_SPLITS = {
    "train": ("emnist-letters-train-images-idx3-ubyte.gz", "emnist-letters-train-labels-idx1-ubyte.gz"),
    "test": ("emnist-letters-test-images-idx3-ubyte.gz", "emnist-letters-test-labels-idx1-ubyte.gz"),
}
_CIFAR_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))

DATASETS: dict[str, DatasetSpec] = {}


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    """Add (or replace) a dataset in the registry that :func:`load_dataset` reads."""
    DATASETS[spec.name] = spec
    return spec


register_dataset(
    DatasetSpec(
        name="mnist",
        description="MNIST handwritten digits, 28x28 grey, 60k train / 10k test",
        classes=tuple("0123456789"),
        splits=_MNIST_SPLITS,
        files=_idx_files(
            ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
            [
                (
                    "train-images-idx3-ubyte.gz",
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                    9912422,
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    28881,
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    1648877,
                ),
                ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
            ],
        ),
        folders=("mnist", "MNIST"),
        attribution="MNIST: Y. LeCun, C. Cortes, C. J. C. Burges; CC BY-SA 3.0",
    )
)
register_dataset(
    DatasetSpec(
        name="fashion-mnist",
        description="Fashion-MNIST (Zalando), 28x28 grey, 60k train / 10k test",
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        splits=_MNIST_SPLITS,
        files=_idx_files(
            ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
            [
                (
                    "train-images-idx3-ubyte.gz",
                    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                    26421880,
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                    29515,
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                    4422102,
                ),
                ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
            ],
        ),
        folders=("fashion-mnist", "fashion_mnist", "FashionMNIST"),
        attribution="Fashion-MNIST: Zalando Research; MIT licence",
    )
)
register_dataset(
    DatasetSpec(
        name="emnist-letters",
        description="EMNIST letters (NIST), 28x28 grey, 26 classes, 124.8k train / 20.8k test",
        classes=tuple("abcdefghijklmnopqrstuvwxyz"),
        splits=_EMNIST_SPLITS,
        files={
            name: RemoteFile(name, (), sha256=sha, size=size)
            for name, sha, size in [
                (
                    "emnist-letters-train-images-idx3-ubyte.gz",
                    "6288f418a917e007bf5fddb823a2dc7a5c6a35031401b93292a539cb12bd881f",
                    30804864,
                ),
                (
                    "emnist-letters-test-images-idx3-ubyte.gz",
                    "50f0e93d75b99b463e9760b8345866f22587fa2c2fba472730a5ba09c693412d",
                    5039157,
                ),
                (
                    "emnist-letters-train-labels-idx1-ubyte.gz",
                    "9759af91ea6bccdf07a6040fd085861f2ec88e37f7c3f5760f6feb57106fbe5c",
                    79283,
                ),
                (
                    "emnist-letters-test-labels-idx1-ubyte.gz",
                    "924955c31fe7fd809b7303b5c0141282955f4b8390c74cdfd5d80435e0f4b4cb",
                    144,
                ),
            ]
        },
        folders=("emnist-letters", "emnist", "EMNIST", "gzip"),
        archive=RemoteFile("gzip.zip", ("https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",)),
        members={f"gzip/{name}": name for split in _EMNIST_SPLITS.values() for name in split},
        transpose=True,
        label_offset=1,
        attribution="EMNIST: Cohen, Afshar, Tapson, van Schaik (2017), NIST Special Database 19",
    )
)
register_dataset(
    DatasetSpec(
        name="cifar10",
        description="CIFAR-10 (binary version), 32x32 colour, 50k train / 10k test",
        classes=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        splits={"train": _CIFAR_BATCHES, "test": ("test_batch.bin",)},
        files={name: RemoteFile(name, (), size=10000 * CIFAR_RECORD) for name in _CIFAR_BATCHES + ("test_batch.bin",)},
        format="cifar",
        folders=("cifar-10-batches-bin", "cifar10/cifar-10-batches-bin", "cifar10", "cifar-10"),
        archive=RemoteFile(
            "cifar-10-binary.tar.gz",
            ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
            md5="c32a1d4ab5d03f1284b67883e8d87530",
            size=170052171,
        ),
        members={f"cifar-10-batches-bin/{name}": name for name in _CIFAR_BATCHES + ("test_batch.bin",)},
        attribution="CIFAR-10: A. Krizhevsky (2009)",
    )
)

EMBEDDED = resources.files("bidir.data") / "embedded"


def _embedded_spec() -> DatasetSpec:
    sums = {}
    sums_file = EMBEDDED / "SHA256SUMS.txt"
    if sums_file.is_file():
        for line in sums_file.read_text().splitlines():
            sha, name = line.split()
            sums[name] = RemoteFile(name, (), sha256=sha)
    return DatasetSpec(
        name="mnist-subset",
        description="embedded MNIST subset shipped in the package: first 5000 train / 1000 test images",
        classes=tuple("0123456789"),
        splits={s: tuple(f"mnist-subset-{n}" for n in f) for s, f in _MNIST_SPLITS.items()},
        files=sums,
        source=Path(str(EMBEDDED)),
        attribution="MNIST: Y. LeCun, C. Cortes, C. J. C. Burges; CC BY-SA 3.0",
    )


register_dataset(_embedded_spec())


def cache_dir() -> Path:
    """The download cache: $BIDIR_CACHE_DIR, else the platform's user cache folder."""
    return Path(os.environ.get("BIDIR_CACHE_DIR") or platformdirs.user_cache_dir("bidir"))


def _roots(data_dir) -> list[Path]:
    if data_dir is not None:
        return [Path(data_dir)]
    roots = [Path(os.environ["BIDIR_DATA_DIR"])] if os.environ.get("BIDIR_DATA_DIR") else []
    return roots + [cache_dir()]


def _candidates(root: Path, spec: DatasetSpec) -> list[Path]:
    found = [root / f for f in spec.folders] + [root]
    found += sorted(d for f in spec.folders for d in root.glob(f"*/{f}"))
    return found


def _locate(spec: DatasetSpec, names, data_dir) -> Path | None:
    if spec.source is not None:
        return spec.source
    for root in _roots(data_dir):
        for folder in _candidates(root, spec):
            if all((folder / n).is_file() for n in names):
                return folder
    return None


def _partial(spec: DatasetSpec, names, data_dir) -> str | None:
    """Where a split's files are only partly present (an incomplete copy), which are missing, else None."""
    for root in _roots(data_dir):
        for folder in _candidates(root, spec):
            missing = [n for n in names if not (folder / n).is_file()]
            if 0 < len(missing) < len(names):
                return f"{folder} holds part of {spec.name} but not {', '.join(missing)}"
    return None


def _fetch(spec: DatasetSpec, names, data_dir, progress: bool) -> Path:
    target = _roots(data_dir)[0] / spec.folders[0]
    if spec.archive is None:
        for name in names:
            download(spec.files[name], target, progress=progress)
        return target
    if not spec.archive.urls:
        raise DatasetError(f"no download source is known for {spec.name}")
    archive = download(spec.archive, target, progress=progress)
    extracted = extract_members(archive, spec.members, target)
    # Files from a verified archive get a manifest, so later loads can check them too.
    write_json_atomic(target / MANIFEST, {p.name: file_digest(p) for p in extracted})
    return target


_verified: dict = {}


def _verify(spec: DatasetSpec, folder: Path, name: str) -> None:
    path = folder / name
    key = (str(path.resolve()), path.stat().st_mtime_ns, path.stat().st_size)
    if key in _verified:
        return
    remote = spec.files.get(name, RemoteFile(name, ()))
    if remote.sha256 is None and remote.md5 is None and (folder / MANIFEST).is_file():
        remote = RemoteFile(name, (), sha256=json.loads((folder / MANIFEST).read_text()).get(name), size=remote.size)
    if remote.sha256 is None and remote.md5 is None:
        if (spec.name, str(folder)) not in _verified:
            _verified[(spec.name, str(folder))] = True
            warnings.warn(
                f"{spec.name}: {folder} holds extracted files with no published checksum (user-supplied data): "
                "checked their sizes only. Downloads of the official archive are verified.",
                stacklevel=3,
            )
        if remote.size is not None and path.stat().st_size != remote.size:
            raise DatasetError(
                f"{path} has {path.stat().st_size} bytes, expected {remote.size}: truncated or not an official file"
            )
    else:
        verify_file(path, remote)
    _verified[key] = True


def check_data_dir(data_dir) -> None:
    """A data folder the user named (``--data-dir``, or ``$BIDIR_DATA_DIR`` without one) must exist: a mistyped one
    is an error, not a new folder to download into."""
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DatasetError(f"--data-dir {data_dir}: no such folder")
    env = os.environ.get("BIDIR_DATA_DIR")
    if data_dir is None and env and not Path(env).is_dir():
        raise DatasetError(f"$BIDIR_DATA_DIR {env}: no such folder")


_digests: dict = {}


def dataset_identity(name: str, data_dir=None) -> dict:
    """What a run's data are: the dataset, and each file it reads with its size and sha256 (None while the files
    are still to be downloaded). Digests are remembered per file, size and modification time."""
    spec = DATASETS.get(name)
    if spec is None:
        return {"name": name, "files": None}
    names = [n for split in spec.splits.values() for n in split]
    folder = _locate(spec, names, data_dir)
    if folder is None:
        return {"name": name, "files": None}
    files = {}
    for n in names:
        path = folder / n
        key = (str(path.resolve()), path.stat().st_mtime_ns, path.stat().st_size)
        if key not in _digests:
            _digests[key] = file_digest(path)
        files[n] = {"bytes": key[2], "sha256": _digests[key]}
    return {"name": name, "files": files}


def load_dataset(
    name: str, split: str = "train", data_dir=None, download: bool = True, verify: bool = True, progress: bool = True
) -> ImageDataset:
    """Load one split of a registered dataset as an :class:`ImageDataset`.

    name: one of ``DATASETS`` (mnist, fashion-mnist, emnist-letters, cifar10, mnist-subset).
    data_dir: a folder with the official files (directly or in a sub-folder named after
    the dataset); default: $BIDIR_DATA_DIR, then the cache. download: fetch the official
    files into the first of those folders when they are missing. verify: check checksums.
    """
    if name not in DATASETS:
        raise InvalidInputError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    check_data_dir(data_dir)
    spec = DATASETS[name]
    if split not in spec.splits:
        raise InvalidInputError(f"{name} has no split {split!r}; choose one of {sorted(spec.splits)}")
    names = spec.splits[split]
    folder = _locate(spec, names, data_dir)
    partial = _partial(spec, names, data_dir) if folder is None else None
    if partial and (spec.archive is not None or not download):  # a download would not complete an extracted copy
        raise DatasetError(f"{partial}: add the missing files, or remove the folder to download {spec.name} again")
    if folder is None:
        if not download:
            looked = ", ".join(str(p) for r in _roots(data_dir) for p in _candidates(r, spec)[: len(spec.folders) + 1])
            raise DatasetError(
                f"{name} ({split}) not found; looked in: {looked}. Pass data_dir (--data-dir) or allow download."
            )
        folder = _fetch(spec, names, data_dir, progress)
    if verify:
        for n in names:
            _verify(spec, folder, n)
    if spec.format == "cifar":
        for n in names:  # no header: the size is the structure, checked with or without verify
            size, expected = (folder / n).stat().st_size, spec.files.get(n, RemoteFile(n, ())).size
            if expected is not None and size != expected:
                raise DatasetError(
                    f"{folder / n} holds {size / CIFAR_RECORD:g} records; "
                    f"a CIFAR-10 batch holds {expected // CIFAR_RECORD}"
                )
        parts = [read_cifar_batch(folder / n) for n in names]
        images, labels = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
    else:
        images, labels = read_idx(folder / names[0]), read_idx(folder / names[1]).long()
        if images.dim() != 3 or labels.dim() != 1 or images.shape[0] != labels.shape[0]:
            raise DatasetError(f"{folder}: images {tuple(images.shape)} and labels {tuple(labels.shape)} do not match")
        if spec.transpose:
            images = images.transpose(1, 2)
        images = images.unsqueeze(1).contiguous()
        labels = labels - spec.label_offset
    if labels.min() < 0 or labels.max() >= len(spec.classes):
        raise DatasetError(f"{folder}: labels outside 0..{len(spec.classes) - 1} for {name} (corrupt file?)")
    return ImageDataset(name, split, images.to(torch.uint8), labels, spec.classes)


def train_test(
    name: str, data_dir=None, train_size: int = 0, test_size: int = 0, seed: int = 0, progress: bool = True
) -> tuple[ImageDataset, ImageDataset]:
    """Both splits of a dataset; a size > 0 keeps that many random samples (seeded), and one larger than the split
    is an error (the run would otherwise record a size it did not use)."""
    train = load_dataset(name, "train", data_dir=data_dir, progress=progress)
    test = load_dataset(name, "test", data_dir=data_dir, progress=progress)
    if train_size:
        check_fits(train_size, "train_size", len(train), f"images of {name}'s training split")
        train = train.subset(train_size, seed=derive_seed(seed, "train-subset"))
    if test_size:
        check_fits(test_size, "test_size", len(test), f"images of {name}'s test split")
        test = test.subset(test_size, seed=derive_seed(seed, "test-subset"))
    return train, test
