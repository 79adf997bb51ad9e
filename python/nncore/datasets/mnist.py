"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grayscale, labels 0-9."""

from __future__ import annotations

from . import _idx_dataset
from ._sources import MNIST

__all__ = ["load_data"]


def load_data(data_dir=None, *, download: bool = True):
    """Loads MNIST as ``((x_train, y_train), (x_test, y_test))``, exactly as ``keras.datasets.mnist``.

    ``x_train`` is uint8 of shape (60000, 28, 28), ``y_train`` uint8 of shape (60000,); the test
    split has 10,000 images. Looks for the four IDX files (gzipped or not:
    ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
    ``t10k-labels-idx1-ubyte.gz``) in ``data_dir`` (or its ``mnist/`` subfolder), then in
    ``$NNCORE_DATA_DIR`` (likewise), then in the user cache (``$XDG_CACHE_HOME/nncore/mnist`` or
    ``~/.cache/nncore/mnist``). When they are in none of these, they are downloaded into the cache
    with pooch (``pip install 'nncore[data]'``) and kept only if their SHA-256 matches the published
    one; ``download=False`` or ``NNCORE_OFFLINE=1`` turns downloading off.

    Raises ``DatasetNotFoundError`` (saying where to put the files) when nothing is found and
    nothing can be downloaded, and ``DatasetFormatError`` naming the file when one is corrupt or
    truncated. Files whose content differs from the published MNIST give a
    ``DatasetIntegrityWarning`` and are still used.
    """
    return _idx_dataset.load(MNIST, data_dir, download)
