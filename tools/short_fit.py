"""A short, seeded training run whose printed fingerprint depends on every bit of the result.

Run on one ISA path natively (NNCORE_ISA=...) and under an emulated CPU model, the two prints must
be identical: the same kernels, the same arithmetic. Used by tools/check_cpu_models.sh.
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np

import nncore
from nncore.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, Input, MaxPool2D


def main() -> int:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 12, 12, 3)).astype(np.float32)
    y = nncore.to_categorical((x[:, :6, :6, 0].mean(axis=(1, 2)) > 0).astype(np.int64)
                              + 2 * (x[:, 6:, 6:, 1].mean(axis=(1, 2)) > 0), 4)
    nncore.random.set_seed(1)
    model = nncore.Sequential([
        Input((12, 12, 3)),
        Conv2D(8, 3, padding="same", activation="relu"),
        BatchNormalization(),
        MaxPool2D(2),
        Conv2D(16, 3, activation="relu"),
        MaxPool2D(2),
        Flatten(),
        Dropout(0.25),
        Dense(16, activation="relu"),
        Dense(4, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=True)
    losses = hist.history["loss"]
    if not all(np.isfinite(losses)) or not losses[-1] < losses[0]:
        print(f"short_fit: training did not progress: losses {losses}", file=sys.stderr)
        return 1
    digest = hashlib.sha256()
    for w in model.get_weights():
        digest.update(np.ascontiguousarray(w).tobytes())
    digest.update(np.asarray(losses, np.float64).tobytes())
    print(f"isa={nncore.info()['isa']} loss={losses[0]:.6f}->{losses[-1]:.6f} "
          f"weights+losses sha256={digest.hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
