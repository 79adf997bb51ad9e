"""NumPy cross-entropy kernels fused with their activation, with the signatures of the C++ ops
``nncore.ops.softmax_cross_entropy / sparse_softmax_cross_entropy / sigmoid_binary_cross_entropy``
so that a loss switches to the compiled kernel by changing one import.

Each returns ``(mean_loss, probs, grad_logits)``: the loss averaged over all rows (over all
elements for the sigmoid), the activation's output, and the gradient of that mean with respect
to the logits. They check nothing: the losses validate shapes and labels before calling.
"""

from __future__ import annotations

import numpy as np


def softmax_cross_entropy(logits: np.ndarray, y_true: np.ndarray):
    """Softmax over the last axis and ``-sum(y * log softmax(z))`` per row, in one pass.

    With ``m = max z``, ``s = sum exp(z - m)``: ``log softmax = z - m - log s``, so the row loss
    is ``sum(y) * log s - sum(y * (z - m))`` (no log of a probability, hence no clipping), and its
    gradient ``softmax * sum(y) - y`` (``= p - y`` for one-hot rows).
    """
    c = logits.shape[-1]
    rows = logits.size // c if c else 0
    if rows == 0:
        return 0.0, np.zeros_like(logits), np.zeros_like(logits)
    z = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(z)
    s = probs.sum(axis=-1, keepdims=True)
    probs /= s
    ysum = y_true.sum(axis=-1)
    yz = np.einsum("...j,...j->...", y_true, z)
    loss = float(np.sum(ysum * np.log(s[..., 0]) - yz, dtype=np.float64)) / rows
    grad = np.multiply(probs, ysum[..., None], out=z)
    grad -= y_true
    grad *= 1.0 / rows
    return loss, probs, grad


def sparse_softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray):
    """As ``softmax_cross_entropy`` with integer labels (shape ``logits.shape[:-1]``, in range)."""
    c = logits.shape[-1]
    rows = logits.size // c if c else 0
    if rows == 0:
        return 0.0, np.zeros_like(logits), np.zeros_like(logits)
    z2 = logits.reshape(rows, c)
    idx = labels.reshape(rows).astype(np.intp, copy=False)
    z = z2 - z2.max(axis=1, keepdims=True)
    probs = np.exp(z)
    s = probs.sum(axis=1)
    probs /= s[:, None]
    r = np.arange(rows)
    loss = float(np.sum(np.log(s) - z[r, idx], dtype=np.float64)) / rows
    grad = z
    np.copyto(grad, probs)
    grad[r, idx] -= 1.0
    grad *= 1.0 / rows
    return loss, probs.reshape(logits.shape), grad.reshape(logits.shape)


def sigmoid_binary_cross_entropy(logits: np.ndarray, y_true: np.ndarray):
    """Elementwise ``-(y log σ(z) + (1-y) log(1-σ(z)))`` = ``max(z,0) - z y + log1p(exp(-|z|))``,
    averaged over all elements, with gradient ``σ(z) - y``."""
    n = logits.size
    if n == 0:
        return 0.0, np.zeros_like(logits), np.zeros_like(logits)
    e = np.exp(-np.abs(logits))
    d = 1.0 + e
    probs = np.divide(1.0, d, dtype=logits.dtype)
    # For z < 0 use e / (1 + e): 1 - 1/(1+e) would round tiny probabilities to zero.
    np.divide(e, d, out=probs, where=logits < 0)
    np.log1p(e, out=e)
    e += np.maximum(logits, 0)
    e -= logits * y_true
    loss = float(e.sum(dtype=np.float64)) / n
    grad = np.subtract(probs, y_true, out=d)
    grad *= 1.0 / n
    return loss, probs, grad
