// Per-thread scratch buffers (packing, im2col), reused across calls.
#include "nncore/aligned_buffer.h"

namespace nncore {

AlignedBuffer& scratch(Scratch slot) {
  thread_local AlignedBuffer buffers[static_cast<int>(Scratch::count_)];
  return buffers[static_cast<int>(slot)];
}

}  // namespace nncore
