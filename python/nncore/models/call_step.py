"""CallStep: a subclassed model's ``call`` as the one step of the graph the trainer runs."""

from __future__ import annotations

from ..layers.base import Layer


class CallStep(Layer):
    """Runs ``model.call`` recorded (forward) and back-propagates through it (backward); its
    weights are the model's."""

    _track_attributes = False

    def __init__(self, model):
        super().__init__(name=f"{model.name}_call", dtype=model.dtype)
        self._model = model

    def _sublayers(self):
        return [self._model]

    @property
    def trainable(self):
        return self._model.trainable

    @trainable.setter
    def trainable(self, value):
        pass    # the model's flag rules

    def compute_output_shape(self, input_shape):
        raise NotImplementedError   # replaced by probing the model's call

    def _call_symbolic(self, inputs):
        from ..layers.base import Node, SymbolicTensor

        multi = isinstance(inputs, (list, tuple))
        tensors = list(inputs) if multi else [inputs]
        out_shape = self._model._probe_output_shape(tensors, multi)
        self.built = True
        node = Node(self, tensors, None, multi)
        out = SymbolicTensor(out_shape, self.dtype, node)
        node.output = out
        self._inbound_nodes.append(node)
        return out

    def forward(self, x, training=False):
        from ..autodiff.layer_call import call_forward

        return call_forward(self._model, x, training)

    def backward(self, grad_out):
        from ..autodiff.layer_call import call_backward

        self._model.needs_input_grad = self.needs_input_grad
        return call_backward(self._model, grad_out)
