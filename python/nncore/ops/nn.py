"""Neural-network ops of ``keras.ops`` (activations, softmax, convolution, pooling, batch
normalization, moments, one-hot, cross-entropies) with their vector-Jacobian products on the C++
kernels. ``nncore.ops`` imports these after the kernel modules, so the names shared with a kernel
function (``relu``, ``softmax``, ...) are these differentiable versions, same signatures."""

from __future__ import annotations

from .nn_activations import *  # noqa: F401,F403
from .nn_activations import __all__ as _activation_names
from .nn_conv_pool import *  # noqa: F401,F403
from .nn_conv_pool import __all__ as _conv_pool_names
from .nn_losses import *  # noqa: F401,F403
from .nn_losses import __all__ as _loss_names
from .nn_normalization import *  # noqa: F401,F403
from .nn_normalization import __all__ as _normalization_names

__all__: list[str] = [*_activation_names, *_conv_pool_names, *_normalization_names, *_loss_names]
