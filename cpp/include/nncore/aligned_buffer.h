// A growable 64-byte aligned scratch buffer, kept per thread and reused across calls.
#pragma once
#include <cstdlib>
#if defined(_WIN32)
#include <malloc.h>
#endif
#include <new>

#include "nncore/common.h"

namespace nncore {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { aligned_free(data_); }

  // Returns at least `count` elements of T; the contents are unspecified. Grows, never shrinks,
  // so that steady-state training allocates nothing.
  template <class T>
  T* get(std::size_t count) {
    const std::size_t bytes = round_up_bytes(count * sizeof(T));
    if (bytes > capacity_) {
      void* p = aligned_malloc(bytes);
      if (!p) throw std::bad_alloc();
      aligned_free(data_);
      data_ = p;
      capacity_ = bytes;
    }
    return static_cast<T*>(data_);
  }

  std::size_t capacity_bytes() const { return capacity_; }

 private:
  // std::aligned_alloc is missing from MSVC and from older macOS SDKs.
  static void* aligned_malloc(std::size_t bytes) {
#if defined(_WIN32)
    return _aligned_malloc(bytes, kAlignment);
#else
    void* p = nullptr;
    return posix_memalign(&p, kAlignment, bytes) == 0 ? p : nullptr;
#endif
  }
  static void aligned_free(void* p) {
#if defined(_WIN32)
    _aligned_free(p);
#else
    std::free(p);
#endif
  }
  static std::size_t round_up_bytes(std::size_t b) {
    return (b + kAlignment - 1) / kAlignment * kAlignment + (b == 0 ? kAlignment : 0);
  }
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// Scratch slots, one buffer per slot per thread. A function must not hold two pointers from the
// same slot at once; callers at different levels (e.g. conv calling gemm) use different slots.
enum class Scratch : int { gemm_pack_a = 0, gemm_pack_b, conv_im2col, conv_col_grad, op_temp, count_ };

AlignedBuffer& scratch(Scratch slot);

}  // namespace nncore
