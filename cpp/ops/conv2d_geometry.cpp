// Output size of a convolution and the checks that make its geometry usable.
#include "nncore/errors.h"
#include "nncore/ops/conv2d.h"

namespace nncore {

std::string conv2d_fill_output_size(Conv2dGeometry& g) {
  if (g.n < 0 || g.h < 0 || g.w < 0 || g.cin < 0 || g.cout < 0 || g.kh < 0 || g.kw < 0)
    return "sizes must not be negative";
  if (g.kh < 1 || g.kw < 1) return concat("kernel size must be >= 1, got ", g.kh, "x", g.kw);
  if (g.stride_h < 1 || g.stride_w < 1)
    return concat("strides must be >= 1, got (", g.stride_h, ", ", g.stride_w, ")");
  if (g.dil_h < 1 || g.dil_w < 1)
    return concat("dilation must be >= 1, got (", g.dil_h, ", ", g.dil_w, ")");
  if (g.pad_top < 0 || g.pad_bottom < 0 || g.pad_left < 0 || g.pad_right < 0)
    return "padding must not be negative";
  const index_t eff_h = g.dil_h * (g.kh - 1) + 1, eff_w = g.dil_w * (g.kw - 1) + 1;
  const index_t ph = g.h + g.pad_top + g.pad_bottom, pw = g.w + g.pad_left + g.pad_right;
  if (eff_h > ph || eff_w > pw)
    return concat("the (dilated) kernel ", eff_h, "x", eff_w, " is larger than the padded input ",
                  ph, "x", pw);
  g.out_h = (ph - eff_h) / g.stride_h + 1;
  g.out_w = (pw - eff_w) / g.stride_w + 1;
  return {};
}

}  // namespace nncore
