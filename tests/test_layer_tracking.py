"""Sublayers and variables assigned as attributes of a layer are tracked (Keras 3): weights,
parameter counts, saving and the trainable flag reach them."""

import numpy as np
import pytest

import nncore
from nncore import layers as L
from nncore.saving.weight_keys import structural_slots
from nncore.variables import Variable


def dense_params(n_in, units):
    return n_in * units + units


class Block(L.Layer):
    """The custom layer users write: sublayers, a list of them, a dict, and a raw Variable."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.d1 = L.Dense(6, activation="relu", kernel_regularizer="l2")
        self.d2 = L.Dense(4)
        self.blocks = [L.Dense(3) for _ in range(2)]
        self.heads = {"a": L.Dense(2)}
        self.scale = Variable(np.full(3, 2.0, "float32"), name="scale")

    def build(self, input_shape):
        self.d1.build(input_shape)
        self.d2.build((None, 6))
        self.blocks[0].build((None, 4))
        self.blocks[1].build((None, 3))
        self.heads["a"].build((None, 3))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2)


def block_param_count(n_in):
    return (3 + dense_params(n_in, 6) + dense_params(6, 4) + dense_params(4, 3)
            + dense_params(3, 3) + dense_params(3, 2))


def test_custom_layer_counts_and_lists_its_sublayers_weights():
    block = Block()
    block.build((None, 5))
    assert block.count_params() == block_param_count(5)
    # Own variables first, then each sublayer's in attribute order (Keras order).
    expected = [block.scale, block.d1.kernel, block.d1.bias, block.d2.kernel, block.d2.bias,
                block.blocks[0].kernel, block.blocks[0].bias, block.blocks[1].kernel,
                block.blocks[1].bias, block.heads["a"].kernel, block.heads["a"].bias]
    assert [id(v) for v in block.weights] == [id(v) for v in expected]
    assert [id(v) for v in block.trainable_weights] == [id(v) for v in expected]
    assert block.non_trainable_weights == []
    assert block.variables == block.weights
    assert block._sublayers() == [block.d1, block.d2, *block.blocks, block.heads["a"]]


# keras/src/layers/layer_test.py::LayerTest::test_layer_tracking
def test_nested_layer_tracking_with_items_appended_later():
    class LayerWithDenseLayers(L.Layer):
        def __init__(self, units):
            super().__init__()
            self.dense1 = L.Dense(units)
            self.layer_dict = {"dense2": L.Dense(units)}
            self.layer_list = [L.Dense(units)]
            self.units = units

        def build(self, input_shape):
            self.layer_list.append(L.Dense(self.units))  # appended after assignment
            for layer in (self.dense1, self.layer_dict["dense2"], *self.layer_list):
                layer.build(input_shape)
            super().build(input_shape)

    class ParentLayer(L.Layer):
        def __init__(self, inner_layer):
            super().__init__()
            self.inner_layer = inner_layer

        def build(self, input_shape):
            self.inner_layer.build(input_shape)
            super().build(input_shape)

    layer = LayerWithDenseLayers(3)
    layer.build((None, 3))
    assert len(layer._sublayers()) == 4
    assert len(layer.weights) == 8
    assert len(layer.variables) == 8

    layer = ParentLayer(LayerWithDenseLayers(3))
    assert len(layer._sublayers()) == 1
    layer.build((None, 3))
    assert len(layer.weights) == 8

    layer = ParentLayer(ParentLayer(LayerWithDenseLayers(3)))
    assert len(layer._sublayers()) == 1
    layer.build((None, 3))
    assert len(layer.weights) == 8
    assert len(layer._flatten_layers()) == 7  # itself, two parents' worth, the layer, 4 Dense
    assert layer.count_params() == 4 * dense_params(3, 3)


def test_variables_in_containers_and_appended_later_are_tracked():
    class Holder(L.Layer):
        def __init__(self):
            super().__init__()
            self.vs = [Variable(np.zeros(2, "float32"), name="a")]

    layer = Holder()
    layer.vs.append(Variable(np.ones(3, "float32"), name="b"))
    assert [v.name for v in layer.weights] == ["a", "b"]
    layer.built = True
    assert layer.count_params() == 5


# keras/src/layers/layer_test.py::LayerTest::test_init_after_state_tracking
def test_variable_assigned_before_super_init_is_tracked():
    class MyLayer(L.Layer):
        def __init__(self):
            self.some_attr = True
            self.w = Variable(np.random.random((2,)).astype("float32"), name="w")
            super().__init__()

    layer = MyLayer()
    assert len(layer.weights) == 1


# keras/src/layers/layer_test.py::LayerTest::test_remove_weight
def test_untracking_a_weight():
    class MyLayer(L.Layer):
        def __init__(self):
            super().__init__()
            self.w = self.add_weight(shape=(), name="w")

        def custom_remove_w(self):
            self.w = self._untrack_variable(self.w)

    layer = MyLayer()
    assert len(layer.weights) == 1
    layer.custom_remove_w()
    assert len(layer.weights) == 0
    assert layer.w is None


def test_shared_sublayer_and_tied_variable_are_listed_once():
    class Tied(L.Layer):
        def __init__(self):
            super().__init__()
            self.inner = L.Dense(3)
            self.again = [self.inner]
            self.inner.build((None, 3))
            self.tied = self.inner.kernel  # a weight of the sublayer used as the layer's own

    layer = Tied()
    layer.built = True
    ids = [id(v) for v in layer.weights]
    assert len(ids) == len(set(ids)) == 2
    assert layer.count_params() == dense_params(3, 3)


def test_a_sublayer_referring_to_its_parent_does_not_loop():
    class Child(L.Layer):
        pass

    class Parent(L.Layer):
        def __init__(self):
            super().__init__()
            self.child = Child()
            self.child.parent = self
            self.child.w = self.child.add_weight(shape=(2,), name="w")

    parent = Parent()
    assert [id(v) for v in parent.weights] == [id(parent.child.w)]
    parent.trainable = False
    assert not parent.child.trainable and parent.trainable_weights == []
    parent.trainable = True
    assert parent.child.trainable and len(parent.trainable_weights) == 1


def test_get_set_weights_zero_grads_and_regularization_reach_sublayers():
    block = Block()
    block.build((None, 5))
    rng = np.random.default_rng(0)
    new = [rng.standard_normal(w.shape).astype("float32") for w in block.get_weights()]
    block.set_weights(new)
    for got, want in zip(block.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(block.d1.kernel.value, new[1])
    # d1's kernel carries the only regularizer: Keras' default l2 factor 0.01.
    k = block.d1.kernel.value.astype(np.float64)
    assert block.regularization_loss() == pytest.approx(0.01 * np.sum(k * k), rel=1e-5)
    for v in block.weights:
        v.grad[...] = 1.0
    block.add_regularization_grads()
    np.testing.assert_allclose(block.d1.kernel.grad, 1.0 + 0.02 * block.d1.kernel.value, rtol=1e-5)
    block.zero_grads()
    assert all(not v.grad.any() for v in block.weights)
    with pytest.raises(ValueError, match="11 weight"):
        block.set_weights(new[:-1])


def test_model_with_custom_layer_counts_and_summarizes_its_parameters():
    inp = nncore.Input(shape=(5,))
    block = Block()
    model = nncore.Model(inp, block(inp))
    assert model.count_params() == block_param_count(5)
    assert len(model.weights) == 11
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f"Total params: {block_param_count(5):,}" in text
    assert f"Trainable params: {block_param_count(5):,}" in text
    row = next(line for line in text.splitlines() if "(Block)" in line)
    assert f"{block_param_count(5):,}" in row


def test_nested_custom_layers_and_attribute_variable_save_and_load(tmp_path):
    class Outer(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = Block()
            self.offset = Variable(np.zeros(2, "float32"), name="offset")

        def build(self, input_shape):
            self.inner.build(input_shape)
            super().build(input_shape)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], 2)

    def build():
        inp = nncore.Input(shape=(5,))
        return nncore.Model(inp, Outer()(inp))

    a, b = build(), build()
    rng = np.random.default_rng(1)
    for v in a.weights:
        v.assign(rng.standard_normal(v.shape))
    keys = list(structural_slots(a))
    assert "layers/outer/vars/0" in keys           # the Variable assigned as an attribute
    assert "layers/outer/inner/vars/0" in keys     # the nested layer's own Variable
    assert "layers/outer/inner/d1/vars/0" in keys  # a sublayer of the nested layer
    assert len(keys) == 12
    path = tmp_path / "w.weights.npz"
    a.save_weights(path)
    b.load_weights(path)
    for va, vb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(va.value, vb.value)
    assert np.any(b.layers[1].offset.value != 0)


class WeightsMadeOutOfOrder(L.Layer):
    def build(self, input_shape):
        self.count = self.add_weight(shape=(1,), initializer="zeros", trainable=False, name="count")
        self.w = self.add_weight(shape=(2,), initializer="ones", name="w")
        super().build(input_shape)


def test_weights_order_does_not_depend_on_the_trainable_flag():
    layer = WeightsMadeOutOfOrder()
    layer.build((None, 2))
    # Keras: variables made trainable first, then the others, frozen or not.
    assert [v.name.split("/")[-1] for v in layer.weights] == ["w", "count"]
    layer.trainable = False
    assert [v.name.split("/")[-1] for v in layer.weights] == ["w", "count"]
    assert [v.name.split("/")[-1] for v in layer.non_trainable_weights] == ["w", "count"]


# keras/src/layers/layer_test.py::LayerTest::test_trainable_setting
def test_trainable_setting_propagates_to_sublayers_and_variables():
    class NonTrainableWeightsLayer(L.Layer):
        def build(self, _):
            self.w1 = self.add_weight(shape=(), initializer="ones", trainable=True)
            self.w2 = self.add_weight(shape=(), initializer="ones", trainable=False)
            super().build(_)

    class NestedNonTrainableWeightsLayer(L.Layer):
        def build(self, _):
            self.w1 = self.add_weight(shape=(), initializer="ones", trainable=True)
            self.w2 = self.add_weight(shape=(), initializer="ones", trainable=False)
            self.nested = NonTrainableWeightsLayer()
            self.nested.build(None)
            super().build(_)

    layer = NestedNonTrainableWeightsLayer()
    layer.build(None)
    assert len(layer.trainable_weights) == 2
    assert len(layer.trainable_variables) == 2
    assert len(layer.non_trainable_weights) == 2
    assert len(layer.non_trainable_variables) == 2

    layer.trainable = False
    assert len(layer.trainable_weights) == 0
    assert len(layer.trainable_variables) == 0
    assert len(layer.non_trainable_weights) == 4
    assert not layer.w1.trainable
    assert not layer.nested.w1.trainable
    assert not layer.nested.trainable

    layer.trainable = True
    assert len(layer.trainable_weights) == 2
    assert len(layer.non_trainable_weights) == 2
    assert layer.w1.trainable and layer.nested.w1.trainable
    assert not layer.w2.trainable  # made non-trainable: stays so

    layer = NestedNonTrainableWeightsLayer(trainable=False)
    layer.build(None)
    assert len(layer.trainable_weights) == 0
    assert len(layer.non_trainable_weights) == 4

    layer.trainable = True
    assert len(layer.trainable_weights) == 2
    assert len(layer.non_trainable_weights) == 2


# keras/src/layers/layer_test.py::LayerTest::test_trainable_init_arg
def test_trainable_init_arg():
    inputs = nncore.Input(shape=(1,))
    layer = L.Dense(2, trainable=False)
    model = nncore.Model(inputs, layer(inputs))
    assert not layer.trainable
    assert len(layer._trainable_variables) == 2
    assert len(layer._non_trainable_variables) == 0
    assert len(layer.trainable_weights) == 0
    assert len(model.trainable_weights) == 0
    assert len(model.non_trainable_weights) == 2

    layer.trainable = True
    assert layer.trainable
    assert len(layer._trainable_variables) == 2
    assert len(layer.trainable_weights) == 2
    assert len(model.trainable_weights) == 2
    assert len(model.non_trainable_weights) == 0


# keras/src/layers/layer_test.py::LayerTest::test_trainable_init_arg_validation
@pytest.mark.parametrize("value", ["yes", 1, None])
def test_trainable_init_arg_validation(value):
    with pytest.raises(ValueError, match="to be a boolean"):
        L.Dense(2, trainable=value)


def test_model_trainable_reaches_layers_of_nested_models():
    inner = nncore.Sequential([nncore.Input(shape=(3,)), L.Dense(4), L.BatchNormalization()])
    outer = nncore.Sequential([nncore.Input(shape=(3,)), inner, L.Dense(1)])
    outer.trainable = False
    assert all(not l.trainable for l in outer._flatten_layers())
    assert outer.trainable_weights == []
    assert len(outer.non_trainable_weights) == 2 + 4 + 2
    outer.trainable = True
    assert all(l.trainable for l in outer._flatten_layers())
    assert len(outer.trainable_weights) == 2 + 2 + 2


def test_from_config_keeps_a_frozen_layer_frozen():
    inp = nncore.Input(shape=(3,))
    h = L.Dense(4, trainable=False, name="frozen")(inp)
    model = nncore.Model(inp, L.Dense(1, name="head")(h))
    clone = nncore.Model.from_config(model.get_config())
    assert not clone.get_layer("frozen").trainable
    assert clone.get_layer("head").trainable
    assert len(clone.trainable_weights) == 2


def transfer_model():
    """The transfer-learning recipe: a functional convolutional base nested in a Sequential."""
    inp = nncore.Input(shape=(6, 6, 2))
    h = L.Conv2D(4, 3, name="conv")(inp)
    h = L.BatchNormalization(name="bn")(h)
    base = nncore.Model(inp, L.ReLU()(h), name="base")
    model = nncore.Sequential([nncore.Input(shape=(6, 6, 2)), base, L.GlobalAveragePooling2D(),
                               L.Dense(1, name="head")])
    return base, model


def test_frozen_base_keeps_its_weights_and_batchnorm_statistics_in_fit():
    base, model = transfer_model()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6, 6, 2)).astype("float32") * 3 + 1
    y = rng.standard_normal((32, 1)).astype("float32")
    bn = base.get_layer("bn")
    # Moving statistics away from their initial values, so that batch statistics would differ.
    bn.moving_mean.assign(np.full(4, 0.5))
    bn.moving_variance.assign(np.full(4, 2.0))

    base.trainable = False
    assert all(not l.trainable for l in base.layers)
    assert not bn.trainable
    head = model.layers[-1]
    assert [id(v) for v in model.trainable_weights] == [id(head.kernel), id(head.bias)]
    before_base = [v.numpy() for v in base.weights]
    before_head = [v.numpy() for v in head.weights]
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for v, old in zip(base.weights, before_base):
        np.testing.assert_array_equal(v.value, old, err_msg=v.name)
    assert any(np.any(v.value != old) for v, old in zip(head.weights, before_head))
    # A frozen BatchNormalization normalizes with its moving statistics, in training too.
    np.testing.assert_allclose(base(x[:4], training=True), base(x[:4], training=False),
                               rtol=1e-6, atol=1e-6)

    base.trainable = True
    assert all(l.trainable for l in base.layers)
    assert all(v.trainable for v in (base.get_layer("conv").kernel, bn.gamma, bn.beta))
    assert not bn.moving_mean.trainable
    assert len(model.trainable_weights) == 2 + 2 + 2
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    after = {v.name: v.value for v in base.weights}
    for name in (base.get_layer("conv").kernel.name, bn.moving_mean.name, bn.moving_variance.name):
        old = before_base[[v.name for v in base.weights].index(name)]
        assert np.any(after[name] != old), name


def test_built_in_layers_have_no_sublayers():
    for layer in (L.Dense(2), L.Conv2D(2, 3), L.BatchNormalization(), L.Dropout(0.5),
                  L.Flatten(), L.PReLU(), L.Maxout(2)):
        assert layer._sublayers() == []
    bn = L.BatchNormalization()
    bn.build((None, 3))
    assert [v.name.split("/")[-1] for v in bn.weights] == ["gamma", "beta", "moving_mean",
                                                             "moving_variance"]
