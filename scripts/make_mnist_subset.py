"""Regenerate the embedded MNIST subset (src/bidir/data/embedded) from the official files.

    python scripts/make_mnist_subset.py --data-dir ../shared/data

The subset is the first 5000 training and first 1000 test images of MNIST
(Y. LeCun, C. Cortes, C. J. C. Burges; CC BY-SA 3.0), in the official IDX format.
"""

import argparse
from pathlib import Path

from bidir.data.datasets import load_dataset
from bidir.data.download import file_digest
from bidir.data.formats import write_idx

OUT = Path(__file__).resolve().parents[1] / "src/bidir/data/embedded"
SIZES = {"train": 5000, "test": 1000}
PREFIX = {"train": "train", "test": "t10k"}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    lines = []
    for split, n in SIZES.items():
        ds = load_dataset("mnist", split, data_dir=args.data_dir, download=False).subset(n)
        for kind, array in (
            ("images-idx3", ds.images[:, 0].numpy()),
            ("labels-idx1", ds.labels.to(dtype=__import__("torch").uint8).numpy()),
        ):
            path = write_idx(OUT / f"mnist-subset-{PREFIX[split]}-{kind}-ubyte.gz", array)
            lines.append(f"{file_digest(path)}  {path.name}")
    (OUT / "SHA256SUMS.txt").write_text("\n".join(lines) + "\n")
    (OUT / "README.txt").write_text(__doc__)
    print("\n".join(lines))
