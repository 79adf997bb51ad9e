"""Neural-network ops of ``keras.ops`` (activations, softmax, convolution, pooling, batch
normalization, one-hot) with their vector-Jacobian products on the C++ kernels."""

from __future__ import annotations

__all__: list[str] = []
