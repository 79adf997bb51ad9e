// `#pragma omp simd` for loops that are safe to vectorize even when the output is the input (the
// compiler's own alias checks would fall back to scalar code for in-place calls). Builds without
// OpenMP keep them through -fopenmp-simd (NNCORE_OMP_SIMD).
#pragma once

#define NNCORE_PRAGMA(x) _Pragma(#x)
#if defined(_OPENMP) || defined(NNCORE_OMP_SIMD)
#define NNCORE_SIMD NNCORE_PRAGMA(omp simd)
#define NNCORE_SIMD_REDUCTION(op, ...) NNCORE_PRAGMA(omp simd reduction(op : __VA_ARGS__))
#else
#define NNCORE_SIMD
#define NNCORE_SIMD_REDUCTION(op, ...)
#endif
