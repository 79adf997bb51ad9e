"""The classic image filters of the lecture, applied with ``nncore.ops.conv2d``.

Identity, three edge detectors, sharpen, box blur and Gaussian blur: seven 3x3 kernels stacked
into one HWIO weight of shape (3, 3, 1, 7), so a single convolution call filters a grayscale image
with all of them. The images are a CIFAR-10 test image and an MNIST digit when those datasets are
at hand, and always a synthetic test pattern. The result of conv2d is checked against a direct
NumPy loop. All seven kernels are symmetric under a half turn, so the cross-correlation that
conv2d computes (as Keras and PyTorch do) equals the convolution of the lecture.
"""

import contextlib
import os
import warnings

import _common
import numpy as np
from nncore import ops, plot_filters, plot_image_grid

NAME = "06_image_filters"

FILTERS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "edges (diagonal)": [[1, 0, -1], [0, 0, 0], [-1, 0, 1]],
    "edges (4-neighbour)": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "edges (8-neighbour)": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "box blur": np.ones((3, 3)) / 9,
    "gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
}
EDGE_DETECTORS = {"edges (diagonal)", "edges (4-neighbour)", "edges (8-neighbour)"}


def kernel_stack() -> np.ndarray:
    """(3, 3, 1, 7) float32: filter k is ``w[:, :, 0, k]``."""
    return np.stack([np.asarray(f, np.float32) for f in FILTERS.values()], axis=-1)[:, :, None, :]


def test_pattern(size=96) -> np.ndarray:
    """A ring, a filled square, stripes and a smooth ramp: edges of every direction and some
    flat areas, in [0, 1]."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    img = 0.15 + 0.35 * xx                                        # ramp
    r = np.hypot(yy - 0.32, xx - 0.32)
    img[(r > 0.17) & (r < 0.25)] = 0.95                           # ring
    img[(yy > 0.58) & (yy < 0.88) & (xx > 0.12) & (xx < 0.42)] = 0.8  # square
    stripes = (np.floor(xx * 24) % 2 == 0) & (yy > 0.55) & (xx > 0.55)
    img[stripes] = 0.05                                           # vertical stripes
    img[(yy > 0.08) & (yy < 0.45) & (xx > 0.6) & (xx < 0.92) & (np.floor(yy * 20) % 2 == 0)] = 1.0
    return img


@contextlib.contextmanager
def no_downloads():
    """A dataset that is not on disk is skipped here rather than downloaded (CIFAR-10 is 160 MB)."""
    old = os.environ.get("NNCORE_OFFLINE")
    os.environ["NNCORE_OFFLINE"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["NNCORE_OFFLINE"]
        else:
            os.environ["NNCORE_OFFLINE"] = old


def gray_images(args) -> dict:
    from nncore.datasets import DatasetChecksumError, DatasetNotFoundError, cifar10, mnist

    images = {"test pattern": test_pattern()}
    for label, load in (("CIFAR-10 test image 0 (cat)", cifar10.load_data),
                        ("MNIST test image 0 (a 7)", mnist.load_data)):
        try:
            with no_downloads(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the shared CIFAR-10 copy's integrity note
                (_, _), (x_test, _) = load(data_dir=args.data_dir)
        except (DatasetNotFoundError, DatasetChecksumError):
            print(f"{label}: dataset not available, skipped")
            continue
        img = x_test[0].astype(np.float32) / 255
        if img.ndim == 3:  # RGB -> luminance (ITU-R BT.601 weights)
            img = img @ np.array([0.299, 0.587, 0.114], np.float32)
        images[label] = img
    return images


def reference_filter(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The obvious loop: zero padding of one pixel ('same'), cross-correlation."""
    p = np.pad(img.astype(np.float64), 1)
    out = np.zeros(img.shape)
    for a in range(3):
        for b in range(3):
            out += k[a, b] * p[a:a + img.shape[0], b:b + img.shape[1]]
    return out


def for_display(name: str, y: np.ndarray) -> np.ndarray:
    """Edge responses are signed: show their magnitude. Others: clip to the image range."""
    return np.clip(np.abs(y) if name in EDGE_DETECTORS else y, 0.0, 1.0)


def main(argv=None):
    args = _common.parse_args(NAME, __doc__.splitlines()[0], default_epochs=1, argv=argv)
    w = kernel_stack()
    names = list(FILTERS)
    images = gray_images(args)

    tiles, titles, worst = [], [], 0.0
    for label, img in images.items():
        y = ops.conv2d(img[None, :, :, None], w, padding="same")[0]  # (H, W, 7): all filters at once
        for k, name in enumerate(names):
            ref = reference_filter(img, np.asarray(FILTERS[name], np.float64))
            worst = max(worst, float(np.max(np.abs(y[:, :, k] - ref))))
            tiles.append(for_display(name, y[:, :, k]))
            titles.append(name if len(titles) < len(names) else "")
        print(f"{label}: {img.shape[0]}x{img.shape[1]} filtered with {len(names)} kernels in one conv2d call")
    print(f"largest difference from the NumPy loop: {worst:.2e}")
    if worst > 1e-5:
        raise SystemExit(f"conv2d disagrees with the reference loop by {worst}")

    fig = plot_image_grid(tiles, titles=titles, ncols=len(names), rescale=False,
                          title="Classic filters with nncore.ops.conv2d (rows: " + "; ".join(images) + ")",
                          figsize=(2.2 * len(names), 2.4 * len(images)))
    _common.save_figure(fig, args.out / "filters_applied.png")
    fig = plot_filters(np.transpose(w[:, :, 0, :], (2, 0, 1)), titles=names, ncols=len(names),
                       title="The kernels", figsize=(2.2 * len(names), 2.6))
    _common.save_figure(fig, args.out / "kernels.png")
    _common.save_json({"filters": {n: np.asarray(f, float).tolist() for n, f in FILTERS.items()},
                       "images": list(images), "max_abs_difference_from_reference": worst},
                      args.out / "results.json")


if __name__ == "__main__":
    main()
