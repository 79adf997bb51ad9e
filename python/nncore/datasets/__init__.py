"""Datasets as ``keras.datasets`` returns them: ``mnist``, ``fashion_mnist``, ``cifar10``.

Each module has ``load_data(data_dir=None)``. Files are looked for in ``data_dir``,
``$NNCORE_DATA_DIR``, the user cache, and otherwise downloaded with SHA-256 verification
(``pip install 'nncore[data]'``). Parsers for the formats: ``idx.read_idx`` and
``cifar_binary.read_cifar10_binary``.
"""

from . import cifar10, cifar_binary, fashion_mnist, idx, mnist
from ._locate import cache_root
from .errors import DatasetChecksumError, DatasetFormatError, DatasetIntegrityWarning, DatasetNotFoundError

__all__ = [
    "DatasetChecksumError",
    "DatasetFormatError",
    "DatasetIntegrityWarning",
    "DatasetNotFoundError",
    "cache_root",
    "cifar10",
    "cifar_binary",
    "fashion_mnist",
    "idx",
    "mnist",
]
