"""Where each dataset comes from: file names, download mirrors and published SHA-256 values.

Provenance of the hashes (all cross-checked between independent public sources):

- MNIST, ``sha256`` of the ``.gz`` files served by the PyTorch S3 mirror and the CVDF bucket
  (both serve the original 1998 gzip files: 9,912,422 / 28,881 / 1,648,877 / 4,542 bytes, the
  MD5s torchvision lists); ``content_sha256`` of the decompressed IDX files, which also equals
  the hash of the byte-exact copies we checked (their MD5s are the widely published
  6bbc9ace..., a25bea73..., 2646ac64..., 27ae3e4e...). Mirrors re-wrap gzip, so a user's file
  is compared by content.
- Fashion-MNIST, ``sha256`` of the ``.gz`` files of the Zalando Research release (MD5s in the
  project README: 8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd...). No decompressed-content
  hash is published, so user files are checked for structure only (and must not be MNIST).
- CIFAR-10, ``sha256`` of ``cifar-10-binary.tar.gz`` (170,052,171 bytes, MD5 c32a1d4a...) and
  ``content_sha256`` of the six batch files inside it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset.

    ``stem`` is the uncompressed name; a folder may hold it as ``stem`` or ``stem + '.gz'``
    (or under one of ``aliases``). ``download`` is the name on the mirrors, ``sha256`` the hash
    of the downloaded bytes, ``content_sha256`` the hash after decompression (None: unknown).
    """

    stem: str
    download: str | None = None
    sha256: str | None = None
    content_sha256: str | None = None
    aliases: tuple = ()

    def names(self) -> tuple:
        out = []
        for base in (self.stem, *self.aliases):
            out += [base, base + ".gz"]
        return tuple(out)


@dataclass(frozen=True)
class IdxDataset:
    """An MNIST-like dataset: four IDX files, downloadable one by one from any mirror."""

    name: str
    title: str
    train_images: FileSpec
    train_labels: FileSpec
    test_images: FileSpec
    test_labels: FileSpec
    mirrors: tuple

    @property
    def files(self) -> tuple:
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


@dataclass(frozen=True)
class ArchiveDataset:
    """A dataset shipped as one archive whose members are the files we read (CIFAR-10)."""

    name: str
    title: str
    archive: FileSpec
    member_dir: str
    train: tuple
    test: tuple
    urls: tuple

    @property
    def files(self) -> tuple:
        return self.train + self.test


def _idx(stem: str, sha256: str, content_sha256: str | None) -> FileSpec:
    # 'train-images.idx3-ubyte' is how some distributions (and Windows downloads) spell it.
    dotted = stem.replace("-idx", ".idx", 1)
    return FileSpec(stem=stem, download=stem + ".gz", sha256=sha256,
                    content_sha256=content_sha256, aliases=(dotted,))


MNIST = IdxDataset(
    name="mnist",
    title="MNIST",
    train_images=_idx("train-images-idx3-ubyte",
                      "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                      "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    train_labels=_idx("train-labels-idx1-ubyte",
                      "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                      "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    test_images=_idx("t10k-images-idx3-ubyte",
                     "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                     "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    test_labels=_idx("t10k-labels-idx1-ubyte",
                     "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                     "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
)

FASHION_MNIST = IdxDataset(
    name="fashion_mnist",
    title="Fashion-MNIST",
    train_images=_idx("train-images-idx3-ubyte",
                      "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", None),
    train_labels=_idx("train-labels-idx1-ubyte",
                      "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", None),
    test_images=_idx("t10k-images-idx3-ubyte",
                     "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", None),
    test_labels=_idx("t10k-labels-idx1-ubyte",
                     "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", None),
    mirrors=(
        # The S3 website endpoint speaks plain HTTP only; the SHA-256 check makes that safe.
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
)


def _bin(stem: str, content_sha256: str) -> FileSpec:
    return FileSpec(stem=stem, content_sha256=content_sha256)


CIFAR10 = ArchiveDataset(
    name="cifar10",
    title="CIFAR-10",
    archive=FileSpec(stem="cifar-10-binary.tar.gz", download="cifar-10-binary.tar.gz",
                     sha256="c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),
    member_dir="cifar-10-batches-bin",
    train=(
        _bin("data_batch_1.bin", "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5"),
        _bin("data_batch_2.bin", "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed"),
        _bin("data_batch_3.bin", "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67"),
        _bin("data_batch_4.bin", "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48"),
        _bin("data_batch_5.bin", "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add"),
    ),
    test=(
        _bin("test_batch.bin", "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b"),
    ),
    urls=("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
)
