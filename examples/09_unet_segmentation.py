"""A U-Net segments circles, rectangles and triangles on noisy backgrounds, with Dice +
cross-entropy.

The data are generated on the fly from ``--seed``: 32x32 grayscale images, each with one to
three filled shapes (circle, axis-aligned rectangle or triangle, random size, position and
brightness, later shapes covering earlier ones) on a background of a random brightness gradient
plus Gaussian noise. Brightness says nothing about the class: only the outline does. The mask
has four classes per pixel (background, circle, rectangle, triangle), one-hot.

``nncore.applications.UNet`` (``filters=16``, ``depth=3``, softmax over the four classes) is
trained with Adam on the sum of two terms per image: the pixel-averaged categorical
cross-entropy and the soft Dice loss averaged over the four classes,
``1 - mean_c (2 sum(t_c p_c) + 1) / (sum(t_c) + sum(p_c) + 1)``. The loss is a plain function of
``(y_true, y_pred)`` written with ``nncore.ops``, so its gradient comes from autodiff.
(``nncore.losses.Dice`` is Keras' Dice: one ratio over all the sums given by ``axis``, so over
the class axis too; with one-hot masks the background then dominates. Averaging one ratio per
class, as here, weighs a small triangle like the background.)

After training, a held-out generated set is segmented (argmax over the classes) and the
intersection over union and the Dice coefficient of each shape class are reported, with their
means over the three shape classes. Default: 2,000 training and 400 held-out images, 12 epochs,
batch 32; ``--quick``: 96 and 32 images, 2 epochs.
"""

import _common
import nncore
import numpy as np
from nncore import ops, plot_history
from nncore.applications import UNet

NAME = "09_unet_segmentation"
SIZE = 32
CLASSES = ["background", "circle", "rectangle", "triangle"]
SMOOTH = 1.0


def _triangle(yy, xx, pts):
    """Pixels inside the triangle ``pts`` (three (y, x) corners): same side of all three edges."""
    signs = []
    for (y0, x0), (y1, x1) in zip(pts, np.roll(pts, -1, axis=0)):
        signs.append((x1 - x0) * (yy - y0) - (y1 - y0) * (xx - x0))
    signs = np.stack(signs)
    return np.all(signs >= 0, axis=0) | np.all(signs <= 0, axis=0)


def generate(n, rng, size=SIZE):
    """``n`` images ``(n, size, size, 1)`` in [0, 1] (float32) and their class maps ``(n, size, size)``."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    images = np.empty((n, size, size, 1), np.float32)
    labels = np.zeros((n, size, size), np.int64)
    for i in range(n):
        gy, gx = rng.uniform(-0.3, 0.3, 2)
        img = rng.uniform(0.2, 0.5) + (gy * (yy - size / 2) + gx * (xx - size / 2)) / size
        lab = labels[i]
        for _ in range(rng.integers(1, 4)):
            kind = rng.integers(1, 4)
            cy, cx = rng.uniform(5, size - 5, 2)
            r = rng.uniform(3.5, size / 4)
            if kind == 1:
                inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            elif kind == 2:
                hy, hx = r * rng.uniform(0.6, 1.0, 2)
                inside = (np.abs(yy - cy) <= hy) & (np.abs(xx - cx) <= hx)
            else:
                angle = rng.uniform(0, 2 * np.pi) + np.array([0, 2, 4]) * np.pi / 3
                pts = np.stack([cy + 1.3 * r * np.sin(angle), cx + 1.3 * r * np.cos(angle)], axis=1)
                inside = _triangle(yy, xx, pts)
            # Shapes are brighter or darker than the background: contrast, not level, marks them.
            img = np.where(inside, img + rng.choice([-1, 1]) * rng.uniform(0.25, 0.45), img)
            lab[inside] = kind
        images[i, ..., 0] = img + rng.normal(0, 0.08, img.shape)
    return np.clip(images, 0, 1), labels


def dice_cross_entropy(y_true, y_pred):
    """Per image: mean cross-entropy over the pixels + (1 - mean soft Dice over the classes)."""
    p = ops.clip(y_pred, 1e-7, 1 - 1e-7)
    cross_entropy = ops.mean(-ops.sum(y_true * ops.log(p), axis=-1), axis=(1, 2))
    inter = ops.sum(y_true * y_pred, axis=(1, 2))
    total = ops.sum(y_true, axis=(1, 2)) + ops.sum(y_pred, axis=(1, 2))
    dice = ops.mean((2.0 * inter + SMOOTH) / (total + SMOOTH), axis=-1)
    return cross_entropy + (1.0 - dice)


def scores(labels, predicted, n_classes=len(CLASSES)):
    """IoU and Dice per class over the whole held-out set (pixels pooled)."""
    iou, dice = [], []
    for c in range(n_classes):
        t, p = labels == c, predicted == c
        inter, tp = np.sum(t & p), np.sum(t) + np.sum(p)
        union = tp - inter
        iou.append(float(inter / union) if union else 1.0)
        dice.append(float(2 * inter / tp) if tp else 1.0)
    return iou, dice


def show_masks(x, labels, predicted, path):
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(["black", "tab:red", "tab:green", "tab:blue"])
    n = len(x)
    fig, axes = plt.subplots(3, n, figsize=(1.6 * n, 5.2), squeeze=False)
    for j in range(n):
        for row, (img, kw) in enumerate(((x[j, ..., 0], dict(cmap="gray", vmin=0, vmax=1)),
                                         (labels[j], dict(cmap=cmap, vmin=0, vmax=3)),
                                         (predicted[j], dict(cmap=cmap, vmin=0, vmax=3)))):
            axes[row, j].imshow(img, interpolation="nearest", **kw)
            axes[row, j].set_xticks([])
            axes[row, j].set_yticks([])
    for row, title in enumerate(("input", "true mask", "predicted")):
        axes[row, 0].set_ylabel(title)
    fig.suptitle("held-out images; red circle, green rectangle, blue triangle")
    _common.save_figure(fig, path)


def main(argv=None):
    args = _common.parse_args(NAME, __doc__.splitlines()[0], default_epochs=12, argv=argv)
    n_train, n_test = (96, 32) if args.quick else (2000, 400)
    rng = np.random.default_rng(args.seed)
    x_train, l_train = generate(n_train, rng)
    x_test, l_test = generate(n_test, rng)
    eye = np.eye(len(CLASSES), dtype=np.float32)
    y_train, y_test = eye[l_train], eye[l_test]
    print(f"generated {n_train} training and {n_test} held-out {SIZE}x{SIZE} images; pixels per class "
          f"(training): {dict(zip(CLASSES, np.bincount(l_train.ravel(), minlength=4).tolist()))}")

    model = UNet(input_shape=(SIZE, SIZE, 1), classes=len(CLASSES), filters=16, depth=3)
    print(f"UNet: {model.count_params():,} parameters")
    # Mean IoU of the three shape classes, pixels pooled over each epoch (Keras' OneHotIoU).
    shape_iou = nncore.metrics.OneHotIoU(num_classes=len(CLASSES), target_class_ids=[1, 2, 3],
                                         name="mean_iou")
    model.compile(optimizer=nncore.optimizers.Adam(1e-3), loss=dice_cross_entropy,
                  metrics=["accuracy", shape_iou])
    n_epochs = _common.epochs(args, full=12, quick=2)
    timer = _common.EpochTimer()
    history = model.fit(x_train, y_train, validation_data=(x_test, y_test), batch_size=32,
                        epochs=n_epochs, callbacks=[timer], verbose=2)

    predicted = np.argmax(model.predict(x_test, batch_size=64, verbose=0), axis=-1)
    iou, dice = scores(l_test, predicted)
    mean_iou, mean_dice = float(np.mean(iou[1:])), float(np.mean(dice[1:]))
    print("\nheld-out set, per class:")
    for name, i, d in zip(CLASSES, iou, dice):
        print(f"  {name:<10}  IoU {i:.4f}  Dice {d:.4f}")
    print(f"mean over the shape classes: IoU {mean_iou:.4f}, Dice {mean_dice:.4f}; "
          f"pixel accuracy {float(np.mean(predicted == l_test)):.4f}")
    s = _common.history_summary(history, timer)
    s["val_mean_iou"] = history.history["val_mean_iou"]
    print(f"time per epoch (training and validation): median {s['median_seconds_per_epoch']:.1f} s")

    fig = plot_history(history.history, metrics=("loss", "accuracy", "mean_iou"), title="U-Net, Dice + cross-entropy")
    _common.save_figure(fig, args.out / "history.png")
    show_masks(x_test[:8], l_test[:8], predicted[:8], args.out / "masks.png")
    _common.save_json({"run": _common.run_info(), "epochs": n_epochs, "n_train": n_train,
                       "n_validation": n_test, "image_size": SIZE, "parameters": model.count_params(),
                       "classes": CLASSES, "iou": dict(zip(CLASSES, iou)), "dice": dict(zip(CLASSES, dice)),
                       "mean_iou": mean_iou, "mean_dice": mean_dice,
                       "pixel_accuracy": float(np.mean(predicted == l_test)), "results": s},
                      args.out / "results.json")


if __name__ == "__main__":
    main()
