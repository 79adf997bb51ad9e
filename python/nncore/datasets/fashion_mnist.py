"""Fashion-MNIST: Zalando article images, 60,000 + 10,000, 28x28 grayscale, 10 classes."""

from __future__ import annotations

from . import _idx_dataset
from ._sources import FASHION_MNIST, MNIST

__all__ = ["CLASS_NAMES", "load_data"]

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")

# Both datasets use the same file names: refuse MNIST's files if they turn up here.
_MNIST_CONTENT = {spec.content_sha256: f"MNIST {spec.stem}" for spec in MNIST.files}


def load_data(data_dir=None, *, download: bool = True):
    """Loads Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``, like
    ``keras.datasets.fashion_mnist``: uint8, (60000, 28, 28) / (60000,) and (10000, 28, 28) /
    (10000,); class names in ``CLASS_NAMES``.

    The files have the same names as MNIST's (``train-images-idx3-ubyte.gz``, ...). They are
    looked for in ``data_dir`` (its ``fashion_mnist/`` subfolder first), ``$NNCORE_DATA_DIR``
    (likewise), the user cache (``~/.cache/nncore/fashion_mnist``), then downloaded with SHA-256
    verification (pooch; ``download=False`` or ``NNCORE_OFFLINE=1`` turns that off). Files are
    checked for structure; MNIST's files found in their place are refused.
    """
    return _idx_dataset.load(FASHION_MNIST, data_dir, download, foreign=_MNIST_CONTENT)
