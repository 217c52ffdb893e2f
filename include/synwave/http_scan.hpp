#pragma once
// Incremental HTTP/1.1 scanning for the two things a load tester needs: where a request's header
// ends, and how long a response is. The state is a few bytes kept in the connection record, so a
// header split across any number of segments is read without buffering it.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace synwave {

namespace http_detail {

// Bit 7 of each byte of the result is set where that byte of `word` equals `byte`. Exact for
// every byte (no borrow crosses from one byte into the next, as in the shorter zero-byte trick).
[[nodiscard]] inline std::uint64_t bytes_equal(std::uint64_t word, std::uint8_t byte) {
  constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
  const std::uint64_t x = word ^ (0x0101010101010101ull * byte);
  return ~(((x & kLow7) + kLow7) | x | kLow7);
}

// Calls at(i) for each i with p[i] == '\n' in p[0..n), in order, until at() returns true; returns
// whether it did. Eight bytes a step: a header line costs a few instructions, not one per byte.
template <class At>
bool find_newlines(const std::uint8_t* p, std::uint32_t n, At&& at) {
  std::uint32_t i = 0;
  if constexpr (std::endian::native == std::endian::little) {
    for (; i + 8 <= n; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, p + i, 8);
      for (std::uint64_t m = bytes_equal(word, '\n'); m != 0; m &= m - 1) {
        if (at(i + static_cast<std::uint32_t>(std::countr_zero(m) >> 3))) return true;
      }
    }
  }
  for (; i < n; ++i) {
    if (p[i] == '\n' && at(i)) return true;
  }
  return false;
}

// Does the header end ("\r\n\r\n") finish with the '\n' at p[i]?
[[nodiscard]] inline bool ends_header(const std::uint8_t* p, std::uint32_t i) {
  return i >= 3 && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r';
}

}  // namespace http_detail

// Finds the blank line ("\r\n\r\n") that ends an HTTP header.
//
// Byte by byte this is a four-state matcher; `matched` is the longest suffix of the stream so far
// that begins "\r\n\r\n" (the fallback on a mismatch, to 1 on '\r' and else 0, is exact for this
// pattern). Whole segments take a faster road that gives the same answer: a match that straddles
// the previous segment ends within the first three bytes, so the matcher steps through those;
// matches inside the segment all start at a '\r', which memchr finds; and the state left behind
// depends only on the last three bytes.
struct HeaderEndScanner {
  std::uint8_t matched = 0;  // how much of "\r\n\r\n" the bytes so far end with

  // Returns the number of bytes consumed up to and including the header end, or n when the end
  // is not in p[0..n).
  std::uint32_t feed(const std::uint8_t* p, std::uint32_t n, bool& found) {
    found = false;
    if (n < 4) return step_all(p, 0, n, found);
    if (matched != 0) {
      const std::uint32_t straddling = step_all(p, 0, 3, found);
      if (found) return straddling;
    }
    // A match inside the segment ends at one of its '\n's.
    std::uint32_t end = 0;
    if (http_detail::find_newlines(p, n, [&](std::uint32_t i) { return http_detail::ends_header(p, i) && (end = i + 1); })) {
      matched = 4;
      found = true;
      return end;
    }
    matched = 0;
    return step_all(p, n - 3, n, found);  // cannot complete a match: it only sets `matched`
  }

 private:
  // The byte-by-byte matcher over p[from..to); returns `to`, or one past the header end.
  std::uint32_t step_all(const std::uint8_t* p, std::uint32_t from, std::uint32_t to, bool& found) {
    static constexpr char kEnd[4] = {'\r', '\n', '\r', '\n'};
    for (std::uint32_t i = from; i < to; ++i) {
      const char c = static_cast<char>(p[i]);
      if (c == kEnd[matched]) {
        if (++matched == 4) {
          found = true;
          return i + 1;
        }
      } else {
        matched = (c == '\r') ? 1 : 0;
      }
    }
    return to;
  }
};

// Reads a response header to its end, picking up Content-Length on the way; then counts the body.
struct HttpResponseScanner {
  static constexpr std::uint32_t kUnknownLength = 0xffffffffu;
  HeaderEndScanner header_end;
  std::uint8_t field_match = 0;   // progress through "\ncontent-length:"
  bool in_length = false;         // reading the digits of Content-Length
  bool header_done = false;
  std::uint32_t content_length = kUnknownLength;
  std::uint32_t body_received = 0;

  // True once the whole body announced by Content-Length has arrived. Responses without a
  // Content-Length end with the connection (the caller treats FIN as the end).
  [[nodiscard]] bool complete() const {
    return header_done && content_length != kUnknownLength && body_received >= content_length;
  }

  void feed(const std::uint8_t* p, std::uint32_t n) {
    if (!header_done && header_end.matched == 0 && field_match == 0 && !in_length && feed_whole_header(p, n)) return;
    std::uint32_t i = 0;
    if (!header_done) {
      // The two matchers are independent, so the header end is found first and the field
      // matcher then reads the header bytes up to it (the blank line included, as before).
      bool found = false;
      i = header_end.feed(p, n, found);
      scan_fields(p, i);
      header_done = found;
    }
    if (header_done) body_received += n - i;
  }

 private:
  // The common case, a whole header in one segment, line by line: the same result as the byte
  // matchers below, which take over (from this same state) when the header does not end in this
  // segment or a Content-Length value runs to its end. Only called with no match in progress, so
  // a line can only start after a '\n' of this segment (earlier segments may have given the
  // Content-Length already). False: nothing was changed.
  bool feed_whole_header(const std::uint8_t* p, std::uint32_t n) {
    static constexpr char kName[] = "content-length:";
    static constexpr std::uint32_t kNameLen = sizeof(kName) - 1;
    std::uint32_t length = content_length;  // a value read from an earlier segment stands unless repeated here
    std::uint32_t end = 0;
    bool cut = false;
    http_detail::find_newlines(p, n, [&](std::uint32_t i) {
      if (http_detail::ends_header(p, i)) {
        end = i + 1;
        return true;
      }
      std::uint32_t j = i + 1;
      if (j + kNameLen > n) return false;  // too short for the name: the header cannot end on it either
      for (std::uint32_t k = 0; k < kNameLen; ++k) {
        const char c = static_cast<char>(p[j + k]);
        if (((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c) != kName[k]) return false;
      }
      // The value as scan_field reads it: blanks before the digits, digits (saturating), and the
      // first byte that is neither ends it. A repeated field starts over.
      j += kNameLen;
      length = kUnknownLength;
      for (; j < n; ++j) {
        const char c = static_cast<char>(p[j]);
        if (c >= '0' && c <= '9') {
          const std::uint32_t digit = static_cast<std::uint32_t>(c - '0');
          const std::uint32_t base = length == kUnknownLength ? 0 : length;
          length = base > (kUnknownLength - 1 - digit) / 10 ? kUnknownLength - 1 : base * 10 + digit;
        } else if (!((c == ' ' || c == '\t') && length == kUnknownLength)) {
          return false;
        }
      }
      cut = true;  // the value reaches the segment's end: the byte matchers must carry it over
      return true;
    });
    if (end == 0 || cut) return false;
    header_end.matched = 4;
    header_done = true;
    content_length = length;
    body_received += n - end;
    return true;
  }

  // scan_field over p[0..n). Outside a Content-Length value and with no part of the field name
  // matched, only a '\n' changes the state (the name starts with the only '\n' in it), so the
  // bytes up to the next one are skipped.
  void scan_fields(const std::uint8_t* p, std::uint32_t n) {
    std::uint32_t i = 0;
    while (i < n) {
      if (!in_length && field_match == 0) {
        const void* nl = std::memchr(p + i, '\n', n - i);
        if (nl == nullptr) return;
        i = static_cast<std::uint32_t>(static_cast<const std::uint8_t*>(nl) - p);
      }
      scan_field(static_cast<char>(p[i]));
      ++i;
    }
  }

  void scan_field(char c) {
    static constexpr char kField[] = "\ncontent-length:";
    static constexpr std::uint8_t kFieldLen = sizeof(kField) - 1;
    if (in_length) {
      if (c >= '0' && c <= '9') {
        const std::uint32_t digit = static_cast<std::uint32_t>(c - '0');
        const std::uint32_t base = content_length == kUnknownLength ? 0 : content_length;
        content_length = base > (kUnknownLength - 1 - digit) / 10 ? kUnknownLength - 1 : base * 10 + digit;
        return;
      }
      if (c == ' ' || c == '\t') {
        if (content_length == kUnknownLength) return;  // spaces before the digits
      }
      in_length = false;
    }
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower == kField[field_match]) {
      if (++field_match == kFieldLen) {
        in_length = true;
        field_match = 0;
        // A repeated field starts over: appending its digits to the first value would turn two
        // identical "Content-Length:6" lines (allowed, RFC 9110 §8.6) into 66.
        content_length = kUnknownLength;
      }
    } else {
      field_match = (c == '\n') ? 1 : 0;
    }
  }
};

}  // namespace synwave
