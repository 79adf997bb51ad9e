// Bindings of GEMM and the fused Dense forward: C = alpha * op(A) op(B) + beta * C (+ bias, ReLU).
#include "bindings.h"
#include "nncore/gemm.h"
#include "validate.h"

namespace nncore::bind {

namespace {

struct Product {
  index_t m, n, k;
};

Product check_product(const py::array& a, const py::array& b, const py::array& c, bool trans_a,
                      bool trans_b, const char* what, const char* an, const char* bn,
                      const char* cn) {
  const index_t m = trans_a ? a.shape(1) : a.shape(0);
  const index_t k = trans_a ? a.shape(0) : a.shape(1);
  const index_t kb = trans_b ? b.shape(1) : b.shape(0);
  const index_t n = trans_b ? b.shape(0) : b.shape(1);
  if (k != kb)
    throw ShapeError(concat(what, ": op(", an, ") is ", m, "x", k, " (", an, " has shape ",
                            shape_str(a), ") but op(", bn, ") is ", kb, "x", n, " (", bn,
                            " has shape ", shape_str(b), "): inner dimensions differ"));
  if (c.shape(0) != m || c.shape(1) != n)
    throw ShapeError(concat(what, ": ", cn, " must have shape (", m, ", ", n, "), got ",
                            shape_str(c)));
  return {m, n, k};
}

// The optional per-column bias: a contiguous 1-D array of n values of the product's dtype that
// does not overlap the output (an empty array when bias is None).
py::array bias_vector(const py::object& bias, DType dt, index_t n, const py::array& out,
                      const char* out_name) {
  if (bias.is_none()) return py::array();
  if (!py::isinstance<py::array>(bias))
    throw DTypeError(concat("argument 'bias' must be a numpy array or None, got ",
                            std::string(py::str(py::type::of(bias).attr("__name__")))));
  auto arr = py::reinterpret_borrow<py::array>(bias);
  require_dtype(arr, dt, "bias", "the inputs");
  require_shape(arr, {n}, "bias");
  require_contiguous(arr, "bias");
  require_disjoint(out, out_name, arr, "bias");
  return arr;
}

py::dict config_dict(const GemmConfig& c) {
  py::dict d;
  d["mr"] = c.mr;
  d["nr"] = c.nr;
  d["vec"] = c.vec;
  d["mc"] = c.mc;
  d["kc"] = c.kc;
  d["nc"] = c.nc;
  return d;
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def(
      "gemm",
      [](const py::array& a, const py::array& b, py::array& c, double alpha, double beta,
         bool trans_a, bool trans_b, const py::object& bias, bool relu) {
        const DType dt = dtype_of(a, "a");
        require_dtype(b, dt, "b", "a");
        require_dtype(c, dt, "c", "a");
        require_ndim(a, 2, "a");
        require_ndim(b, 2, "b");
        require_ndim(c, 2, "c");
        require_writeable(c, "c");
        const Product p = check_product(a, b, c, trans_a, trans_b, "gemm", "a", "b", "c");
        const py::array bias_arr = bias_vector(bias, dt, p.n, c, "c");
        const MatrixLayout la = matrix_layout(a, "a", true), lb = matrix_layout(b, "b", true);
        const MatrixLayout lc = matrix_layout(c, "c", false);
        require_disjoint(c, "c", a, "a");
        require_disjoint(c, "c", b, "b");
        const bool has_bias = !bias.is_none();
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pa = cdata<T>(a);
          const T* pb = cdata<T>(b);
          T* pc = mdata<T>(c);
          GemmEpilogue<T> ep;
          ep.bias = has_bias ? cdata<T>(bias_arr) : nullptr;
          ep.relu = relu;
          py::gil_scoped_release release;
          gemm_ex<T>(trans_a != !la.row_major, trans_b != !lb.row_major, p.m, p.n, p.k,
                     static_cast<T>(alpha), pa, la.ld, pb, lb.ld, static_cast<T>(beta), pc, lc.ld,
                     ep);
        });
      },
      py::arg("a"), py::arg("b"), py::arg("c"), py::arg("alpha"), py::arg("beta"),
      py::arg("trans_a"), py::arg("trans_b"), py::kw_only(), py::arg("bias") = py::none(),
      py::arg("relu") = false,
      "C = epilogue(alpha * op(A) op(B) + beta * C), in place on c; the epilogue adds bias "
      "(one value per column) and applies ReLU when asked. Operands may be row- or "
      "column-major; c must have contiguous rows and must not overlap a or b.");

  m.def(
      "dense",
      [](const py::array& x, const py::array& kernel, const py::object& bias, bool relu,
         py::array& out) {
        const DType dt = dtype_of(x, "x");
        require_dtype(kernel, dt, "kernel", "x");
        require_dtype(out, dt, "out", "x");
        require_ndim(x, 2, "x");
        require_ndim(kernel, 2, "kernel");
        require_ndim(out, 2, "out");
        require_writeable(out, "out");
        const Product p =
            check_product(x, kernel, out, false, false, "dense", "x", "kernel", "out");
        const py::array bias_arr = bias_vector(bias, dt, p.n, out, "out");
        const bool has_bias = !bias.is_none();
        const MatrixLayout lx = matrix_layout(x, "x", true);
        const MatrixLayout lk = matrix_layout(kernel, "kernel", true);
        const MatrixLayout lo = matrix_layout(out, "out", false);
        require_disjoint(out, "out", x, "x");
        require_disjoint(out, "out", kernel, "kernel");
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(x);
          const T* pk = cdata<T>(kernel);
          const T* pbias = has_bias ? cdata<T>(bias_arr) : nullptr;
          T* po = mdata<T>(out);
          GemmEpilogue<T> ep;
          ep.bias = pbias;
          ep.relu = relu;
          py::gil_scoped_release release;
          gemm_ex<T>(!lx.row_major, !lk.row_major, p.m, p.n, p.k, T(1), px, lx.ld, pk, lk.ld, T(0),
                     po, lo.ld, ep);
        });
      },
      py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("relu"), py::arg("out"),
      "out = x @ kernel (+ bias) (then max(0, .) when relu), in one pass over out.");

  m.def(
      "gemm_config",
      [](const std::string& dtype) {
        if (dtype == "float32") return config_dict(gemm_config<float>());
        if (dtype == "float64") return config_dict(gemm_config<double>());
        throw DTypeError(concat("gemm_config: dtype must be 'float32' or 'float64', got '", dtype,
                                "'"));
      },
      py::arg("dtype"),
      "Register tile (mr x nr, vec lanes) and block sizes (mc, kc, nc) of the active ISA path.");

  m.def(
      "_set_gemm_tuning",
      [](int pack, index_t mc, index_t kc, index_t nc, double min_thread_flops, int split) {
        if (pack < -1 || pack > 3) throw std::invalid_argument("pack must be -1..3");
        if (split < -1 || split > 1) throw std::invalid_argument("split must be -1, 0 or 1");
        GemmTuning t;
        t.pack = pack;
        t.mc = mc;
        t.kc = kc;
        t.nc = nc;
        t.min_thread_flops = min_thread_flops;
        t.split = split;
        set_gemm_tuning(t);
      },
      py::kw_only(), py::arg("pack") = -1, py::arg("mc") = 0, py::arg("kc") = 0,
      py::arg("nc") = 0, py::arg("min_thread_flops") = 0.0, py::arg("split") = -1,
      "Overrides the GEMM driver's choices (tests, benchmarks); no arguments restores the "
      "defaults. pack: -1 auto, bit 0 A, bit 1 B; split: -1 auto, 0 rectangles of C, 1 depth.");
}

}  // namespace nncore::bind
