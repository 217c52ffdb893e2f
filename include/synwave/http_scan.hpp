#pragma once
// Incremental HTTP/1.1 scanning for the two things a load tester needs: where a request's header
// ends, and how long a response is. The state is a few bytes kept in the connection record, so a
// header split across any number of segments is read without buffering it.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace synwave {

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
    const std::uint8_t* q = p;
    const std::uint8_t* const last_start = p + n - 3;  // a match starts before here
    while ((q = static_cast<const std::uint8_t*>(std::memchr(q, '\r', static_cast<std::size_t>(last_start - q)))) !=
           nullptr) {
      if (q[1] == '\n' && q[2] == '\r' && q[3] == '\n') {
        matched = 4;
        found = true;
        return static_cast<std::uint32_t>(q - p) + 4;
      }
      ++q;
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
