"""Datasets: the official files (IDX, CIFAR binary) found, downloaded and verified; the embedded MNIST subset.

from bidir.data import load_dataset
train = load_dataset("mnist-subset", "train")  # shipped in the package: 5,000 train / 1,000 test images
x, labels = train.features(), train.labels     # (N, 784) in [0, 1], (N,)
"""

from .datasets import DATASETS, ImageDataset, load_dataset, train_test

__all__ = ["DATASETS", "ImageDataset", "load_dataset", "train_test"]
