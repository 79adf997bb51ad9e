"""Cases ported from Keras 3's optimizer tests (keras/src/optimizers/*_test.py): same inputs,
expected values and tolerances. Keras' ``backend.Variable`` is float32 (floatx) there."""

import pickle
import warnings

import numpy as np
import pytest

from nncore import backend, optimizers
from nncore.optimizers import schedules
from nncore.variables import Variable


def V(value, name="variable"):
    return Variable(np.asarray(value, dtype=np.float32), name=name)


GRADS = np.arange(0.1, 1.1, 0.1, dtype=np.float32)[:10]
FIRST_GRADS = np.full((10,), 0.01, dtype=np.float32)

# name -> (class, test_config kwargs, single-step kwargs, single-step result, golden kwargs, golden)
CASES = {
    # keras/src/optimizers/adam_test.py::AdamTest
    "adam": (optimizers.Adam,
             dict(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5, amsgrad=True),
             dict(learning_rate=0.5), [0.5, 1.5, 2.5, 3.5],
             dict(amsgrad=True),
             np.tile([[0.999], [0.9982], [0.9974], [0.9965], [0.9955]], (1, 10))),
    # keras/src/optimizers/adamw_test.py::AdamWTest
    "adamw": (optimizers.AdamW,
              dict(learning_rate=0.5, weight_decay=0.008, beta_1=0.5, beta_2=0.67, epsilon=1e-5,
                   amsgrad=True),
              dict(learning_rate=0.5), [0.4980, 1.4960, 2.494, 3.492],
              dict(learning_rate=1.0, weight_decay=0.5, epsilon=2),
              np.array([
                  [0.4998] * 10,
                  [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
                  [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
                  [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
                  [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113,
                   -0.0159]])),
    # keras/src/optimizers/sgd_test.py::SGDTest
    "sgd": (optimizers.SGD,
            dict(learning_rate=0.5, momentum=0.06, nesterov=True, weight_decay=0.004),
            dict(learning_rate=0.5), [0.5, -1.0, -0.5, 3.0],
            dict(nesterov=True),
            np.array([
                [0.9999] * 10,
                [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
                [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
                [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
                [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639,
                 0.9599]])),
    # keras/src/optimizers/rmsprop_test.py::RMSpropTest
    "rmsprop": (optimizers.RMSprop,
                dict(learning_rate=0.5, rho=0.8, momentum=0.05, epsilon=1e-6, centered=True),
                dict(learning_rate=0.5), [-0.5811, 0.4189, 1.4189, 2.4189],
                dict(centered=True),
                np.tile([[0.9967], [0.9933], [0.9908], [0.9885], [0.9864]], (1, 10))),
    # keras/src/optimizers/adagrad_test.py::AdagradTest
    "adagrad": (optimizers.Adagrad,
                dict(learning_rate=0.5, initial_accumulator_value=0.2, epsilon=1e-5),
                dict(learning_rate=0.5), [0.5233, 1.5007, 2.5005, 3.5061],
                dict(learning_rate=0.2, initial_accumulator_value=0.3, epsilon=1e-6),
                np.array([
                    [0.9963] * 10,
                    [0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209],
                    [0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891],
                    [0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579],
                    [0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491,
                     0.4825]])),
    # keras/src/optimizers/adadelta_test.py::AdadeltaTest
    "adadelta": (optimizers.Adadelta,
                 dict(learning_rate=0.5, rho=0.9, epsilon=1e-5),
                 dict(learning_rate=0.5), [0.9993, 1.9993, 2.9993, 3.9993],
                 dict(learning_rate=1.0, rho=0.8, epsilon=1e-6),
                 np.tile([[0.9978], [0.9947], [0.9915], [0.9882], [0.9849]], (1, 10))),
    # keras/src/optimizers/adamax_test.py::AdamaxTest
    "adamax": (optimizers.Adamax,
               dict(learning_rate=0.5, beta_1=0.8, beta_2=0.95, epsilon=1e-5),
               dict(learning_rate=0.5), [0.5, 1.5, 2.5, 3.5],
               dict(learning_rate=0.2, beta_1=0.85, beta_2=0.95, epsilon=1e-6),
               np.array([
                   [0.8] * 10,
                   [0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691],
                   [0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466],
                   [0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848],
                   [0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124,
                    0.2126]])),
    # keras/src/optimizers/nadam_test.py::NadamTest
    "nadam": (optimizers.Nadam,
              dict(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5),
              dict(learning_rate=0.5), [0.4686, 1.4686, 2.4686, 3.4686],
              dict(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5),
              np.array([
                  [0.4281] * 10,
                  [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718,
                   -0.1717],
                  [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085,
                   -0.7084],
                  [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23,
                   -1.2299],
                  [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455,
                   -1.7454]])),
}
NAMES = sorted(CASES)


@pytest.mark.parametrize("name", NAMES)
def test_config(name):
    # keras/src/optimizers/<name>_test.py::*Test::test_config
    cls, kwargs = CASES[name][:2]
    opt = cls(**kwargs)
    config = opt.get_config()
    again = cls.from_config(config)
    assert type(again) is cls and again.get_config() == config
    for key, value in kwargs.items():
        assert config[key] == pytest.approx(value)


@pytest.mark.parametrize("name", NAMES)
def test_single_step(name):
    # keras/src/optimizers/<name>_test.py::*Test::test_single_step
    cls, _, kwargs, expected = CASES[name][:4]
    opt = cls(**kwargs)
    var = V([1.0, 2.0, 3.0, 4.0])
    opt.apply_gradients(zip([np.array([1.0, 6.0, 7.0, 2.0], np.float32)], [var]))
    np.testing.assert_allclose(var.value, expected, rtol=1e-4, atol=1e-4)


def test_sgd_single_step_variables():
    # keras/src/optimizers/sgd_test.py::SGDTest::test_single_step
    opt = optimizers.SGD(learning_rate=0.5)
    assert len(opt.variables) == 2
    var = V([1.0, 2.0, 3.0, 4.0])
    opt.build([var])
    opt.apply_gradients(zip([np.array([1.0, 6.0, 7.0, 2.0], np.float32)], [var]))
    np.testing.assert_allclose(var.value, [0.5, -1.0, -0.5, 3.0], rtol=1e-4, atol=1e-4)
    assert len(opt.variables) == 2
    assert opt.variables[0] == 1
    assert opt.variables[1] == 0.5


def test_sgd_invalid_momentum():
    # keras/src/optimizers/sgd_test.py::SGDTest::test_invalid_momentum
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=-1.0)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=2.0)


def test_adamw_weight_decay_is_none():
    # keras/src/optimizers/adamw_test.py::AdamWTest::test_weight_decay_is_none
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(learning_rate=1.0, weight_decay=None)


@pytest.mark.parametrize("name", NAMES)
def test_weight_decay(name):
    # keras/src/optimizers/<name>_test.py::*Test::test_weight_decay (0-d variables and gradients)
    cls = CASES[name][0]
    grads = np.zeros((), np.float32)
    var1, var2, var3 = V(2.0), V(2.0, name="exclude"), V(2.0)
    assert var1.shape == ()
    opt1 = cls(learning_rate=1.0, weight_decay=0.004)
    opt1.apply_gradients(zip([grads], [var1]))
    opt2 = cls(learning_rate=1.0, weight_decay=0.004)
    opt2.exclude_from_weight_decay(var_names=["exclude"])
    opt2.apply_gradients(zip([grads, grads], [var1, var2]))
    opt3 = cls(learning_rate=1.0, weight_decay=0.004)
    opt3.exclude_from_weight_decay(var_list=[var3])
    opt3.apply_gradients(zip([grads, grads], [var1, var3]))
    assert var1.numpy() == pytest.approx(1.9760959, abs=1.5e-6)
    assert var2.numpy() == pytest.approx(2.0, abs=1.5e-6)
    assert var3.numpy() == pytest.approx(2.0, abs=1.5e-6)
    assert var1.shape == var2.shape == var3.shape == ()


@pytest.mark.parametrize("name", NAMES)
def test_correctness_with_golden(name):
    # keras/src/optimizers/<name>_test.py::*Test::test_correctness_with_golden
    cls, kwargs, golden = CASES[name][0], CASES[name][4], CASES[name][5]
    opt = cls(**kwargs)
    x = V(np.ones([10]))
    opt.apply_gradients(zip([FIRST_GRADS], [x]))
    for i in range(5):
        np.testing.assert_allclose(x.value, golden[i], rtol=5e-4, atol=5e-4)
        opt.apply_gradients(zip([GRADS], [x]))


@pytest.mark.parametrize("name", NAMES)
def test_clip_norm_and_value(name):
    # keras/src/optimizers/<name>_test.py::*Test::test_clip_norm, ::test_clip_value
    cls = CASES[name][0]
    clipped = cls(clipnorm=1)._clip_gradients([np.array([100.0, 100.0])])
    np.testing.assert_allclose(clipped[0], [2**0.5 / 2, 2**0.5 / 2])
    clipped = cls(clipvalue=1)._clip_gradients([np.array([100.0, 100.0])])
    np.testing.assert_allclose(clipped[0], [1.0, 1.0])


def test_iterations_counter():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_iterations_counter
    v = V([[1.0, 2.0], [3.0, 4.0]])
    grads = np.ones((2, 2), np.float32)
    opt = optimizers.Adam(learning_rate=1.0)
    assert opt.iterations == 0
    opt.apply_gradients([(grads, v)])
    assert opt.iterations == 1
    opt.apply_gradients([(grads, v)])
    assert opt.iterations == 2


def test_empty_gradients():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_empty_gradients
    v = V([[3.0, 4.0], [5.0, 6.0]])
    opt = optimizers.SGD(learning_rate=1.0)
    with pytest.raises(ValueError, match="No gradients provided for any variable."):
        opt.apply_gradients([(None, v)])
    v2 = V([[3.0, 4.0], [5.0, 6.0]])
    opt = optimizers.SGD(learning_rate=1.0)
    with pytest.warns(Warning):
        opt.apply_gradients([(None, v), (np.ones((2, 2), np.float32), v2)])
    np.testing.assert_allclose(v.value, [[3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(v2.value, [[2.0, 3.0], [4.0, 5.0]])


def test_clip_args():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_clip_args
    assert optimizers.SGD(learning_rate=1.0, clipnorm=0.1).clipnorm == 0.1
    assert optimizers.SGD(learning_rate=1.0, clipvalue=0.1).clipvalue == 0.1
    assert optimizers.SGD(learning_rate=1.0, global_clipnorm=0.1).global_clipnorm == 0.1
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.SGD(learning_rate=1.0, clipnorm=0.1, clipvalue=0.1)
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.SGD(learning_rate=1.0, clipnorm=0.1, global_clipnorm=0.1)


def test_clip_norm_value_and_global_norm():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_clip_norm, ::test_clip_value,
    # ::test_global_clip_norm
    clipped = optimizers.SGD(clipnorm=1)._clip_gradients([np.array([100.0, 100.0])])
    np.testing.assert_allclose(clipped[0], [2**0.5 / 2, 2**0.5 / 2])
    clipped = optimizers.SGD(clipvalue=1)._clip_gradients([np.array([100.0, 100.0])])
    np.testing.assert_allclose(clipped[0], [1.0, 1.0])
    grad = np.array([50.0, 100.0], dtype="float32")
    clipped = optimizers.SGD(global_clipnorm=1)._clip_gradients([grad])
    np.testing.assert_allclose(clipped[0], grad / np.linalg.norm(grad))


def test_constraints_are_applied():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_constraints_are_applied
    # (keras.constraints.NonNeg as the function it computes)
    v = V(np.random.default_rng(0).random((2, 2)) - 1.0)
    v.constraint = lambda w: w * (w >= 0)
    opt = optimizers.SGD(learning_rate=0.0001)
    opt.apply_gradients([(np.zeros((2, 2), np.float32), v)])
    assert np.min(v.value) == pytest.approx(0.0)


def test_get_method():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_get_method
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    assert isinstance(optimizers.get("adamw"), optimizers.AdamW)
    assert optimizers.get(None) is None
    with pytest.raises(ValueError):
        optimizers.get("typo")


def test_set_weights():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_set_weights
    x = V([[1.0, 2.0], [3.0, 4.0]])
    opt1 = optimizers.Adam()
    opt1.apply_gradients(zip([np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)], [x]))
    opt2 = optimizers.Adam()
    with pytest.raises(ValueError, match="You are calling"):
        opt2.set_weights(opt1.variables)
    opt2.build([x])
    opt2.set_weights(opt1.variables)
    assert len(opt1.variables) == len(opt2.variables) == 4
    for a, b in zip(opt1.variables, opt2.variables):
        np.testing.assert_allclose(a, b)
    assert opt2.iterations == 1


def test_callable_learning_rate():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_callable_learning_rate
    v = V([[1.0, 2.0], [3.0, 4.0]])
    opt = optimizers.SGD(learning_rate=lambda: 0.1)
    assert opt.iterations == 0
    opt.apply_gradients([(np.ones((2, 2), np.float32), v)])
    np.testing.assert_allclose(v.value, [[0.9, 1.9], [2.9, 3.9]], rtol=1e-6)
    assert opt.iterations == 1


def test_setting_lr_to_callable_untracks_lr_var():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_setting_lr_to_callable_untracks_lr_var
    adam = optimizers.Adam(learning_rate=0.001)
    assert len(adam.variables) == 2
    adam.learning_rate = schedules.PolynomialDecay(adam.learning_rate, 4)
    assert len(adam.variables) == 1


@pytest.mark.parametrize("name", ["adam", "sgd", "adamw", "adagrad", "rmsprop", "adadelta",
                                  "adamax", "nadam"])
def test_pickleable_optimizers(name):
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_pickleable_optimizers
    # (lion, ftrl and adafactor are not in nncore)
    opt = optimizers.get(name)
    reloaded = pickle.loads(pickle.dumps(opt))
    assert opt.get_config() == reloaded.get_config()


def test_optimizer_auto_naming():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_optimizer_auto_naming
    backend.clear_session()
    adam_1, adam_2 = optimizers.Adam(), optimizers.Adam()
    sgd_1, sgd_2 = optimizers.SGD(), optimizers.SGD()
    adamw_1, adamw_2 = optimizers.AdamW(), optimizers.AdamW()
    assert (adam_1.name, adam_2.name) == ("adam", "adam_1")
    assert (sgd_1.name, sgd_2.name) == ("sgd", "sgd_1")
    assert (adamw_1.name, adamw_2.name) == ("adam_w", "adam_w_1")
    custom = optimizers.Adam(name="my_adam")
    assert custom.name == "my_adam"
    assert optimizers.deserialize(optimizers.serialize(adam_2)).name == "adam_1"
    assert optimizers.deserialize(optimizers.serialize(custom)).name == "my_adam"


def test_save_and_load_own_variables():
    # Keras BaseOptimizer.save_own_variables / load_own_variables: keys "0", "1", ...; a store
    # with another number of variables is skipped with a warning.
    x = V([[1.0, 2.0], [3.0, 4.0]])
    g = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    opt1 = optimizers.Adam(learning_rate=0.01)
    opt1.apply_gradients([(g, x)])
    opt1.apply_gradients([(g, x)])
    store = {}
    opt1.save_own_variables(store)
    assert sorted(store) == ["0", "1", "2", "3"]
    y = V([[1.0, 2.0], [3.0, 4.0]])
    opt2 = optimizers.Adam(learning_rate=0.5)
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        opt2.load_own_variables(store)
    assert opt2.iterations == 0
    opt2.build([y])
    opt2.load_own_variables(store)
    assert opt2.iterations == 2 and opt2.learning_rate == pytest.approx(0.01)
    for a, b in zip(opt1.variables, opt2.variables):
        np.testing.assert_array_equal(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt1.apply_gradients([(g, x)])
        opt2.apply_gradients([(g, y)])
    np.testing.assert_array_equal(opt1.variables[2], opt2.variables[2])


def test_variables_follow_keras_slot_order():
    # Keras' Adam(amsgrad=True) creates momentum/velocity per variable, then the velocity_hats;
    # RMSprop the velocities, then the momentums, then the average gradients.
    a, b = V([1.0, 2.0]), V([[1.0], [2.0], [3.0]])
    adam = optimizers.Adam(amsgrad=True)
    adam.build([a, b])
    shapes = [v.shape for v in adam.variables]
    assert shapes == [(), (), (2,), (2,), (3, 1), (3, 1), (2,), (3, 1)]
    rms = optimizers.RMSprop(momentum=0.5, centered=True)
    rms.build([a, b])
    assert [v.shape for v in rms.variables] == [(), (), (2,), (3, 1), (2,), (3, 1), (2,), (3, 1)]
    with pytest.raises(ValueError, match="has 8 variables, got 7"):
        rms.set_weights(rms.variables[:-1])
    bad = rms.variables
    bad[2] = np.zeros(3)
    with pytest.raises(ValueError, match="shape"):
        rms.set_weights(bad)


def test_exclude_from_weight_decay_after_build_raises():
    # Keras: exclude_from_weight_decay() can only be configured before the optimizer is built.
    opt = optimizers.AdamW()
    opt.build([V([1.0])])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["bias"])


# ----------------------------------------------------------------------------- EMA
def test_ema():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_ema
    v = V([[3.0, 4.0], [5.0, 6.0]])
    grads = np.ones((2, 2), np.float32)
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.9,
                         ema_overwrite_frequency=3)
    opt.apply_gradients([(grads, v)])
    np.testing.assert_allclose(v.value, [[2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_allclose(opt._model_variables_moving_average[0], [[2.0, 3.0], [4.0, 5.0]])
    opt.apply_gradients([(grads, v)])
    np.testing.assert_allclose(v.value, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(opt._model_variables_moving_average[0], [[1.9, 2.9], [3.9, 4.9]],
                               rtol=1e-6)
    opt.apply_gradients([(grads, v)])
    np.testing.assert_allclose(v.value, [[1.71, 2.71], [3.71, 4.71]], rtol=1e-6)
    np.testing.assert_allclose(opt._model_variables_moving_average[0],
                               [[1.71, 2.71], [3.71, 4.71]], rtol=1e-6)


def test_adam_ema():
    # keras/src/optimizers/adam_test.py::AdamTest::test_ema (the optimizer part)
    opt = optimizers.Adam(learning_rate=1.0, use_ema=True, ema_momentum=0.9)
    var = V([1.0, 2.0])
    grads = np.array([0.1, 0.2], np.float32)
    opt.apply_gradients([(grads, var)])
    v1 = var.numpy()
    np.testing.assert_allclose(opt._model_variables_moving_average[0], v1)
    opt.apply_gradients([(grads, var)])
    v2 = var.numpy()
    expected = 0.9 * v1 + 0.1 * v2
    np.testing.assert_allclose(opt._model_variables_moving_average[0], expected, rtol=1e-6)
    opt.finalize_variable_values([var])
    np.testing.assert_allclose(var.value, expected, rtol=1e-6)


def test_adam_ema_overwrite_frequency():
    # keras/src/optimizers/adam_test.py::AdamTest::test_ema_overwrite_frequency
    opt = optimizers.Adam(learning_rate=1.0, use_ema=True, ema_momentum=0.9,
                          ema_overwrite_frequency=2)
    plain = optimizers.Adam(learning_rate=1.0)
    var, var_plain = V([1.0, 2.0]), V([1.0, 2.0])
    grads = np.array([0.1, 0.2], np.float32)
    opt.apply_gradients([(grads, var)])
    plain.apply_gradients([(grads, var_plain)])
    v1 = var_plain.numpy()
    np.testing.assert_allclose(var.value, v1)
    opt.apply_gradients([(grads, var)])
    plain.apply_gradients([(grads, var_plain)])
    expected = 0.9 * v1 + 0.1 * var_plain.numpy()
    np.testing.assert_allclose(var.value, expected, rtol=1e-6)
    np.testing.assert_allclose(opt._model_variables_moving_average[0], expected, rtol=1e-6)


def test_ema_state_matches_a_numpy_reference_and_resumes():
    # The average is a state like any slot: checked against NumPy after each step, first in
    # Keras' variables order, and restored by get_state/set_state.
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(3, 2))
    grads = [rng.normal(size=(3, 2)) for _ in range(6)]
    v = Variable(w0.copy(), name="w")
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.5, use_ema=True, ema_momentum=0.8)
    w, m, avg = w0.copy(), np.zeros_like(w0), None
    for t, g in enumerate(grads[:4]):
        opt.apply_gradients([(g, v)])
        m = 0.5 * m - 0.1 * g
        w = w + m
        avg = w.copy() if t == 0 else 0.8 * avg + 0.2 * w
        np.testing.assert_allclose(v.value, w, rtol=1e-12)
        np.testing.assert_allclose(opt.slot(v, "average"), avg, rtol=1e-12)
        np.testing.assert_allclose(opt.slot(v, "momentum"), m, rtol=1e-12)
    assert [a.shape for a in opt.variables] == [(), (), (3, 2), (3, 2)]
    np.testing.assert_array_equal(opt.variables[2], opt.slot(v, "average"))
    state, saved = opt.get_state(), v.numpy()
    assert "slot/0/average" in state
    for g in grads[4:]:
        opt.apply_gradients([(g, v)])
    v2 = Variable(saved, name="w")
    opt2 = optimizers.SGD(learning_rate=0.1, momentum=0.5, use_ema=True, ema_momentum=0.8)
    opt2.set_state(state)
    for g in grads[4:]:
        opt2.apply_gradients([(g, v2)])
    np.testing.assert_array_equal(v2.value, v.value)
    np.testing.assert_array_equal(opt2.slot(v2, "average"), opt.slot(v, "average"))
    config = opt.get_config()
    assert (config["use_ema"], config["ema_momentum"]) == (True, 0.8)
    assert optimizers.SGD.from_config(config).use_ema


def test_ema_finalize_on_packed_weights():
    # A model's weights packed into one buffer: finalize_variable_values on the weights
    # themselves writes each one's part of the buffer's average.
    a = Variable(np.ones((2, 2)), name="a")
    b = Variable(np.full(3, 2.0), name="b")
    flat = Variable(np.concatenate([a.value.ravel(), b.value]), name="flat")
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    opt.set_variable_segments(flat, [a, b])
    opt.apply_gradients([(np.ones(7), flat)])
    opt.apply_gradients([(np.ones(7), flat)])
    avg = opt.slot(flat, "average")
    np.testing.assert_allclose(avg, 0.5 * (np.r_[np.ones(4), np.full(3, 2.0)] - 1)
                               + 0.5 * (np.r_[np.ones(4), np.full(3, 2.0)] - 2))
    opt.finalize_variable_values([a, b])
    np.testing.assert_array_equal(a.value, avg[:4].reshape(2, 2))
    np.testing.assert_array_equal(b.value, avg[4:])
    with pytest.raises(ValueError, match="not one this optimizer updates"):
        opt.finalize_variable_values([Variable(np.zeros(1), name="stranger")])


def test_ema_arguments_are_checked():
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.SGD(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        optimizers.SGD(use_ema=True, ema_overwrite_frequency=0)
