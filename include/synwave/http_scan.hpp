#pragma once
// Incremental HTTP/1.1 scanning for the two things a load tester needs: where a request's header
// ends, and how long a response is. The state is a few bytes kept in the connection record, so a
// header split across any number of segments is read without buffering it.
#include <cstdint>

namespace synwave {

// Finds the blank line ("\r\n\r\n") that ends an HTTP header.
struct HeaderEndScanner {
  std::uint8_t matched = 0;  // how much of "\r\n\r\n" the bytes so far end with

  // Returns the number of bytes consumed up to and including the header end, or n when the end
  // is not in p[0..n).
  std::uint32_t feed(const std::uint8_t* p, std::uint32_t n, bool& found) {
    static constexpr char kEnd[4] = {'\r', '\n', '\r', '\n'};
    for (std::uint32_t i = 0; i < n; ++i) {
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
    found = false;
    return n;
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
      for (; i < n; ++i) {
        scan_field(static_cast<char>(p[i]));
        bool found = false;
        header_end.feed(p + i, 1, found);
        if (found) {
          header_done = true;
          ++i;
          break;
        }
      }
    }
    if (header_done) body_received += n - i;
  }

 private:
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
