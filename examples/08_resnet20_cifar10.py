"""ResNet-20 (He et al. 2016, section 4.2) trained on CIFAR-10 with the paper's augmentation.

``nncore.applications.ResNet20`` (0.27 M parameters, option-A shortcuts) learns the 50,000
training images; the 10,000 test images are the validation data. Recipe: per-channel
standardization (the training set's mean and standard deviation), random horizontal flips and
random 32x32 crops of the image zero-padded by 4 pixels on each side (the paper's augmentation,
as layers in front of the network that only act while training), SGD with momentum 0.9, batch
128, learning rate 0.1 decayed to 0 by a cosine over the whole run
(``nncore.optimizers.schedules.CosineDecay``, stepped per batch) instead of the paper's steps at
32k and 48k iterations, and weight decay.

Weight decay: the optimizer's decoupled ``weight_decay`` (Keras 3's form,
``w -= learning_rate * weight_decay * w`` before each step, on every weight including the
normalizations'), set to 1e-3. The paper's L2 penalty of 1e-4 enters the gradient and is
accumulated by the momentum, which multiplies its steady-state effect by 1 / (1 - 0.9) = 10;
1e-3 decoupled is the same shrinkage per step.

Default 40 epochs (15,640 steps, a quarter of the paper's 64k; the paper reports 91.25 % test
accuracy after 64k). ``--train-images N`` trains on the first N training images only; ``--quick``
uses 256 training and 256 test images for 2 epochs.
"""

import _common
import numpy as np
from nncore import Input, plot_history
from nncore.applications import ResNet20
from nncore.layers import RandomCrop, RandomFlip
from nncore.optimizers import SGD
from nncore.optimizers.schedules import CosineDecay

NAME = "08_resnet20_cifar10"
BATCH = 128
LEARNING_RATE = 0.1
WEIGHT_DECAY = 1e-3


def extra(p):
    p.add_argument("--train-images", type=int, default=None,
                   help="train on the first N training images (default: all 50,000)")


def build(seed):
    inp = Input((32, 32, 3))
    x = RandomFlip("horizontal", seed=seed)(inp)
    x = RandomCrop(32, 32, padding=4, fill_mode="constant", seed=seed + 1)(x)
    return ResNet20(input_tensor=x, classes=10)


def standardize(x_train, x_test):
    """Per-channel mean and standard deviation of the training images; zero padding in the crop
    then means padding with the average colour."""
    x_train = x_train.astype(np.float32) / np.float32(255.0)
    x_test = x_test.astype(np.float32) / np.float32(255.0)
    mean = x_train.mean(axis=(0, 1, 2), dtype=np.float64).astype(np.float32)
    std = x_train.std(axis=(0, 1, 2), dtype=np.float64).astype(np.float32)
    return (x_train - mean) / std, (x_test - mean) / std


def main(argv=None):
    args = _common.parse_args(NAME, __doc__.splitlines()[0], default_epochs=40, argv=argv, extra=extra)
    n_train, n_test = (256, 256) if args.quick else (args.train_images, None)
    (x_train, y_train), (x_test, y_test) = _common.load_cifar10(args, n_train, n_test)
    x_train, x_test = standardize(x_train, x_test)
    y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    n_epochs = _common.epochs(args, full=40, quick=2)
    steps = -(-len(x_train) // BATCH) * n_epochs

    model = build(args.seed)
    model.summary()
    schedule = CosineDecay(LEARNING_RATE, decay_steps=steps)
    model.compile(optimizer=SGD(schedule, momentum=0.9, weight_decay=WEIGHT_DECAY),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    print(f"CIFAR-10: {len(x_train)} training images, {len(x_test)} test images as validation, "
          f"{n_epochs} epochs of batch {BATCH} ({steps} steps), SGD momentum 0.9, cosine from "
          f"{LEARNING_RATE}, weight decay {WEIGHT_DECAY} (decoupled)")
    timer = _common.EpochTimer()
    history = model.fit(x_train, y_train, validation_data=(x_test, y_test), batch_size=BATCH,
                        epochs=n_epochs, callbacks=[timer], verbose=2)

    s = _common.history_summary(history, timer)
    print(f"\ntest accuracy after {n_epochs} epochs: {s['final']['val_accuracy']:.4f} "
          f"(best {s['best_val_accuracy']:.4f} at epoch {s['best_epoch']}; the paper: 0.9125 after 64k steps)")
    print(f"time per epoch (training and validation): median {s['median_seconds_per_epoch']:.1f} s")
    fig = plot_history(history, title=f"ResNet-20 on CIFAR-10 ({len(x_train)} training images)")
    _common.save_figure(fig, args.out / "history.png")
    _common.save_json({"run": _common.run_info(), "epochs": n_epochs, "n_train": len(x_train),
                       "n_validation": len(x_test), "batch_size": BATCH, "steps": steps,
                       "learning_rate": LEARNING_RATE, "weight_decay": WEIGHT_DECAY,
                       "parameters": model.count_params(), "results": s}, args.out / "results.json")


if __name__ == "__main__":
    main()
