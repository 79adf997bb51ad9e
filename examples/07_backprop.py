"""The lecture's hand-worked backpropagation examples, recomputed and checked with gradcheck.

1. ``f(x, w) = 1 + e^(w1*x + w0)`` at x = 1, w1 = 2, w0 = 1, split into the nodes of the slide:
   a = x*w1, b = a + w0, c = e^b, f = c + 1. Backward from df = 1 by the chain rule, node by node:
   dc = 1, db = e^b * dc = e^3 ~ 20, dw0 = db ~ 20, da = db ~ 20, dw1 = x*da ~ 20, dx = w1*da ~ 40.
2. ``f = 1/2 ||X W||^2`` with a = X W, b = sum(a^2), f = b / 2: db = 1/2, da = 2a * db = a, so
   grad_W f = X^T a = X^T (X W) (and grad_X f = a W^T). The slide's matrices are only in its
   pictures; small fixed ones are used here.

Both hand-written backward passes are checked against central finite differences in float64 by
``nncore.gradcheck``; then the same two functions are written with ``nncore.ops`` inside an
``nncore.GradientTape``, which records every node and gives the gradient of f at each of them
(the intermediate nodes a, b, c too): the library's reverse-mode differentiation reproduces the
slide with no hand-written backward at all.
"""

import math

import _common
import numpy as np
import nncore

NAME = "07_backprop"

X0, W1, W0 = 1.0, 2.0, 1.0


def scalar_forward(x, w1, w0):
    a = x * w1
    b = a + w0
    c = math.exp(b)
    f = c + 1
    return {"a": a, "b": b, "c": c, "f": f}


def scalar_backward(x, w1, w0, nodes, df=1.0):
    """The slide's steps, each local derivative times the gradient arriving from above."""
    dc = 1.0 * df                    # (c + 1)'_c
    db = math.exp(nodes["b"]) * dc   # (e^b)'_b
    dw0 = 1.0 * db                   # (a + w0)'_w0
    da = 1.0 * db                    # (a + w0)'_a
    dw1 = x * da                     # (x * w1)'_w1
    dx = w1 * da                     # (x * w1)'_x
    return {"dc": dc, "db": db, "dw0": dw0, "da": da, "dw1": dw1, "dx": dx}


def scalar_fn(x, w1, w0):
    """For gradcheck: ``(value, grads)`` with inputs as float64 arrays of shape (1,)."""
    nodes = scalar_forward(float(x[0]), float(w1[0]), float(w0[0]))
    g = scalar_backward(float(x[0]), float(w1[0]), float(w0[0]), nodes)
    return nodes["f"], [np.array([g["dx"]]), np.array([g["dw1"]]), np.array([g["dw0"]])]


def matrix_fn(X, W):
    a = X @ W
    b = np.sum(a * a)
    f = 0.5 * b
    db = 0.5
    da = 2 * a * db      # = a
    dW = X.T @ da        # grad_W f = X^T (X W)
    dX = da @ W.T
    return f, [dX, dW]


def scalar_by_tape(x0, w1_0, w0_0):
    """The slide's graph through the tape: node values and the gradient of f at every node."""
    from nncore import ops

    with nncore.GradientTape() as tape:
        # watch returns the inputs as recorded Tensors, so that operators are recorded too.
        x, w1, w0 = tape.watch([np.array(x0), np.array(w1_0), np.array(w0_0)])
        a = x * w1
        b = a + w0
        c = ops.exp(b)
        f = c + 1
    names = ["dc", "db", "da", "dw0", "dw1", "dx"]
    grads = tape.gradient(f, [c, b, a, w0, w1, x])
    values = {"a": a, "b": b, "c": c, "f": f}
    return ({k: float(v) for k, v in values.items()},
            {k: float(g) for k, g in zip(names, grads)})


def matrix_by_tape(X, W):
    from nncore import ops

    X, W = X.copy(), W.copy()
    with nncore.GradientTape() as tape:
        tape.watch([X, W])
        a = ops.matmul(X, W)
        f = 0.5 * ops.sum(ops.square(a))
    dX, dW = tape.gradient(f, [X, W])
    return float(f), dX, dW


def draw_graph(nodes, grads, path):
    """The slide's computational graph: forward values above each edge (black), gradients below (red)."""
    from nncore.plotting import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.set_xlim(-0.5, 10.5)
    ax.set_ylim(-0.3, 3.3)
    ax.axis("off")
    box = dict(boxstyle="circle,pad=0.35", fc="#eef3fb", ec="#335")
    ops = {"*": (3, 2), "+": (5.2, 1.5), "exp": (7.2, 1.5), "+1": (9.2, 1.5)}
    for label, (x, y) in ops.items():
        ax.text(x, y, label, ha="center", va="center", fontsize=13, bbox=box)
    leaves = {"x": (0.3, 2.7, X0, grads["dx"], ops["*"]), "w1": (0.3, 1.3, W1, grads["dw1"], ops["*"]),
              "w0": (2.6, 0.2, W0, grads["dw0"], ops["+"])}
    edges = [(ops["*"], ops["+"], nodes["a"], grads["da"]), (ops["+"], ops["exp"], nodes["b"], grads["db"]),
             (ops["exp"], ops["+1"], nodes["c"], grads["dc"]),
             (ops["+1"], (10.4, 1.5), nodes["f"], 1.0)]
    for name, (x, y, v, g, dst) in leaves.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=13)
        edges.append(((x + 0.2, y), dst, v, g, 0.3))  # labels near the leaf: the two into '*' converge
    for (x0, y0), (x1, y1), v, g, *t in edges:
        t = t[0] if t else 0.5
        ax.annotate("", xy=(x1 - 0.35, y1), xytext=(x0 + 0.35, y0),
                    arrowprops=dict(arrowstyle="->", color="#335"))
        xm, ym = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        ax.text(xm, ym + 0.2, f"{v:.4g}", ha="center", fontsize=11)
        ax.text(xm, ym - 0.35, f"{g:.4g}", ha="center", fontsize=11, color="#c0392b")
    ax.set_title("f(x, w) = 1 + exp(w1*x + w0): forward values (black), gradients of f (red)")
    _common.save_figure(fig, path)


def main(argv=None):
    args = _common.parse_args(NAME, __doc__.splitlines()[0], default_epochs=1, argv=argv)

    print(f"f(x, w) = 1 + e^(w1*x + w0) at x = {X0:g}, w1 = {W1:g}, w0 = {W0:g}")
    nodes = scalar_forward(X0, W1, W0)
    print("forward:  a = x*w1 = {a:g}, b = a + w0 = {b:g}, c = e^b = {c:.4f}, f = c + 1 = {f:.4f}".format(**nodes))
    grads = scalar_backward(X0, W1, W0, nodes)
    print("backward from df = 1:")
    slide = {"dc": "1", "db": "e^3 = 20", "dw0": "20", "da": "20", "dw1": "x*20 = 20", "dx": "w1*20 = 40"}
    for k, v in grads.items():
        print(f"  {k:<3} = {v:8.4f}   (slide: {slide[k]})")
    nncore.gradcheck(scalar_fn, [np.array([X0]), np.array([W1]), np.array([W0])])
    print("gradcheck: the hand-written backward matches central finite differences")
    draw_graph(nodes, grads, args.out / "graph.png")

    tape_nodes, tape_grads = scalar_by_tape(X0, W1, W0)
    print("the same graph recorded by nncore.GradientTape (no hand-written backward):")
    print("  forward:  " + ", ".join(f"{k} = {v:.4f}" for k, v in tape_nodes.items()))
    print("  backward: " + ", ".join(f"{k} = {v:.4f}" for k, v in tape_grads.items()))
    for k, v in grads.items():
        if not math.isclose(tape_grads[k], v, rel_tol=1e-12):
            raise SystemExit(f"tape gradient {k} = {tape_grads[k]} differs from the slide's {v}")
    print("  every node's gradient equals the hand-computed one")

    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 1.0]])
    W = np.array([[0.5, -1.0], [1.0, 2.0]])
    f, (dX, dW) = matrix_fn(X, W)
    a = X @ W
    print("\nf = 1/2 ||X W||^2 with")
    print(f"X =\n{X}\nW =\n{W}\na = X W =\n{a}")
    print(f"f = {f:g}; db = 0.5; da = a; grad_W f = X^T (X W) =\n{dW}\ngrad_X f = (X W) W^T =\n{dX}")
    nncore.gradcheck(matrix_fn, [X, W])
    print("gradcheck: the matrix gradients match central finite differences")
    tape_f, tape_dX, tape_dW = matrix_by_tape(X, W)
    np.testing.assert_allclose([tape_f], [f], rtol=1e-12)
    np.testing.assert_allclose(tape_dW, dW, rtol=1e-12)
    np.testing.assert_allclose(tape_dX, dX, rtol=1e-12)
    print("GradientTape: ops.matmul, ops.square, ops.sum recorded; the same grad_W and grad_X")

    _common.save_json({
        "scalar": {"inputs": {"x": X0, "w1": W1, "w0": W0}, "forward": nodes, "grads": grads},
        "tape": {"forward": tape_nodes, "grads": tape_grads,
                 "matrix": {"f": tape_f, "grad_W": tape_dW.tolist(), "grad_X": tape_dX.tolist()}},
        "matrix": {"X": X.tolist(), "W": W.tolist(), "f": f, "grad_W": dW.tolist(), "grad_X": dX.tolist()},
        "gradcheck": "passed",
    }, args.out / "results.json")


if __name__ == "__main__":
    main()
