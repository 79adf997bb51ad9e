// Typed errors of the core; the bindings turn them into nncore.ShapeError / nncore.DTypeError.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace nncore {

struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct DTypeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class Head, class... Tail>
void append(std::ostringstream& os, const Head& h, const Tail&... t) {
  os << h;
  append(os, t...);
}
}  // namespace detail

// Builds a message from any streamable pieces: concat("x has ", n, " rows").
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  return os.str();
}

}  // namespace nncore

// Checks belong at the edges (bindings, op entry points), never inside kernels or parallel regions.
#define NNCORE_CHECK_SHAPE(cond, ...) \
  do {                                \
    if (!(cond)) throw ::nncore::ShapeError(::nncore::concat(__VA_ARGS__)); \
  } while (0)

#define NNCORE_CHECK_VALUE(cond, ...) \
  do {                                \
    if (!(cond)) throw std::invalid_argument(::nncore::concat(__VA_ARGS__)); \
  } while (0)
