#pragma once
// Incremental HTTP/1.1 scanning for the two things a load tester needs: where a request's header
// ends, and how long a response is. The state is a few bytes kept in the connection record, so a
// header split across any number of segments is read without buffering it.
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
// whether it did. Sixteen bytes a step (SSE2, in every x86-64), else eight: a header line costs a
// few instructions, not one per byte.
template <class At>
bool find_newlines(const std::uint8_t* p, std::uint32_t n, At&& at) {
  std::uint32_t i = 0;
#if defined(__SSE2__)
  const __m128i newline = _mm_set1_epi8('\n');
  for (; i + 16 <= n; i += 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    for (auto m = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, newline))); m != 0; m &= m - 1) {
      if (at(i + static_cast<std::uint32_t>(std::countr_zero(m)))) return true;
    }
  }
#endif
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

// Do the eight bytes at p equal the eight of `lower` (lower case and no byte above 0x7f) in any
// case? Bit 5 is forced on only where `lower` has a letter: that maps 'A'-'Z' onto 'a'-'z' and
// nothing else onto a letter, so every other byte ('-', ':') is compared exactly.
[[nodiscard]] inline bool equals8_any_case(const std::uint8_t* p, const char* lower) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  std::uint64_t got;
  std::uint64_t want;
  std::memcpy(&got, p, 8);
  std::memcpy(&want, lower, 8);
  const std::uint64_t letters = ((want + kOnes * (0x80 - 'a')) & ~(want + kOnes * (0x80 - 'z' - 1)) & (kOnes * 0x80)) >> 2;
  return (got | letters) == want;
}

[[nodiscard]] inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

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

// Reads a stream of requests (RFC 9112), possibly pipelined, for a server that keeps connections:
// where each request's header ends, and whether the client wants the connection kept after the
// response. HTTP/1.1 keeps it unless a Connection field lists "close"; HTTP/1.0 closes it unless
// one lists "keep-alive" (§9.3). Requests are taken to have no body (GET, HEAD: what load
// testers send); a body would be read as the next request's bytes.
//
// Two roads, one answer. A line that starts and ends inside the segment is judged whole: the
// request line by its last ten bytes, a field line by its first eleven, every other line skipped
// from one '\n' to the next (SSE2). A line cut by a segment's end goes through the byte matcher,
// which keeps its progress in `phase` and `progress`; the unit test cuts streams at every byte
// and checks both roads agree.
struct HttpRequestScanner {
  enum Phase : std::uint8_t {
    kRequestLine = 0,  // progress: how much of "HTTP/1.0\r\n" the line ends with so far
    kLineStart,        // at the first byte of a field line (or of the blank line)
    kName,             // progress: bytes of "connection:" matched
    kValue,            // in a Connection value; token / progress: the token being read
    kOtherLine,        // a line of no interest, up to its '\n'
    kFinalLf,          // after a line's leading '\r': '\n' ends the header
  };
  enum Token : std::uint8_t { kTokenNone = 0, kTokenClose, kTokenKeepAlive, kTokenOther };

  Phase phase = kRequestLine;
  std::uint8_t progress = 0;
  Token token = kTokenNone;
  bool line_begun : 1 = false;       // the request line has a byte other than '\r' (empty ones are skipped, §2.2)
  bool http10 : 1 = false;
  bool asks_close : 1 = false;       // a Connection field listed "close"
  bool asks_keep_alive : 1 = false;  // a Connection field listed "keep-alive"

  // At a request's start with nothing of it read (how end_of_request leaves it).
  [[nodiscard]] bool fresh() const {
    return phase == kRequestLine && progress == 0 && token == kTokenNone && !line_begun && !http10 && !asks_close &&
           !asks_keep_alive;
  }

  // Reads p[0..n) and calls on_request(keep_alive) at the end of each request's header, in
  // order; when it returns false, reading stops there (the rest of p is not looked at, and the
  // scanner should not be fed again). Returns the bytes read.
  template <class OnRequest>
  std::uint32_t feed(const std::uint8_t* p, std::uint32_t n, OnRequest&& on_request) {
    std::uint32_t i = 0;
    bool stop = false;
    // A line begun in an earlier segment: byte by byte to its end.
    if (!at_line_start()) {
      while (i < n) {
        const char c = static_cast<char>(p[i++]);
        if (step(c, stop, on_request) || stop) break;
      }
      if (stop) return i;
    }
    std::uint32_t start = i;
    http_detail::find_newlines(p + i, n - i, [&](std::uint32_t at) {
      const std::uint32_t end = i + at;  // the line is p[start..end], its '\n' included
      whole_line(p, start, end, stop, on_request);
      start = end + 1;
      return stop;
    });
    if (stop) return start;
    for (std::uint32_t k = start; k < n; ++k) step(static_cast<char>(p[k]), stop, on_request);
    return n;
  }

 private:
  static constexpr char kVersion10[] = "HTTP/1.0\r\n";
  static constexpr std::uint8_t kVersion10Len = sizeof(kVersion10) - 1;
  static constexpr char kConnection[] = "connection:";
  static constexpr std::uint8_t kConnectionLen = sizeof(kConnection) - 1;
  static constexpr char kClose[] = "close";
  static constexpr char kKeepAlive[] = "keep-alive";

  [[nodiscard]] bool at_line_start() const {
    return (phase == kRequestLine && progress == 0 && !line_begun) || phase == kLineStart;
  }

  template <class OnRequest>
  void end_of_request(bool& stop, OnRequest& on_request) {
    const bool keep = http10 ? asks_keep_alive && !asks_close : !asks_close;
    *this = HttpRequestScanner{};
    stop = !on_request(keep);
  }

  void end_token() {
    if (token == kTokenClose && progress == sizeof(kClose) - 1) asks_close = true;
    if (token == kTokenKeepAlive && progress == sizeof(kKeepAlive) - 1) asks_keep_alive = true;
    token = kTokenNone;
    progress = 0;
  }

  // A Connection value's byte: comma- or blank-separated tokens, any case.
  void value_byte(char c) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      end_token();
      return;
    }
    const char l = http_detail::lower(c);
    if (token == kTokenNone) {
      token = l == 'c' ? kTokenClose : l == 'k' ? kTokenKeepAlive : kTokenOther;
      progress = 1;
      return;
    }
    const char* word = token == kTokenClose ? kClose : kKeepAlive;
    const std::uint8_t len = token == kTokenClose ? sizeof(kClose) - 1 : sizeof(kKeepAlive) - 1;
    if (token != kTokenOther && progress < len && l == word[progress]) ++progress;
    else token = kTokenOther;
  }

  // The byte matcher. Returns true when c ended a line.
  template <class OnRequest>
  bool step(char c, bool& stop, OnRequest& on_request) {
    switch (phase) {
      case kRequestLine:
        // No byte of the pattern but its first is an 'H', so a mismatch falls back to 0 or 1.
        if (c == kVersion10[progress]) ++progress;
        else progress = c == 'H' ? 1 : 0;
        if (c != '\n') {
          if (c != '\r') line_begun = true;
          return false;
        }
        if (line_begun) phase = kLineStart;
        http10 = progress == kVersion10Len;
        progress = 0;
        line_begun = false;
        return true;
      case kLineStart:
        if (c == '\n') return true;  // a bare empty line: nothing to read
        if (c == '\r') phase = kFinalLf;
        else if (http_detail::lower(c) == kConnection[0]) phase = kName, progress = 1;
        else phase = kOtherLine;
        return false;
      case kName:
        if (http_detail::lower(c) == kConnection[progress]) {
          if (++progress == kConnectionLen) phase = kValue, progress = 0, token = kTokenNone;
          return false;
        }
        phase = c == '\n' ? kLineStart : kOtherLine;
        progress = 0;
        return c == '\n';
      case kValue:
        value_byte(c);
        if (c != '\n') return false;
        phase = kLineStart;
        return true;
      case kOtherLine:
        if (c != '\n') return false;
        phase = kLineStart;
        return true;
      case kFinalLf:
        if (c != '\n') {
          phase = kOtherLine;
          return false;
        }
        end_of_request(stop, on_request);
        return true;
    }
    return false;
  }

  // The line p[start..end] ('\n' at end), begun at a line start: what the byte matcher would
  // make of it, without stepping through its bytes.
  template <class OnRequest>
  void whole_line(const std::uint8_t* p, std::uint32_t start, std::uint32_t end, bool& stop, OnRequest& on_request) {
    const std::uint32_t len = end - start + 1;
    if (phase == kRequestLine) {
      std::uint32_t k = start;
      while (k < end && p[k] == '\r') ++k;
      if (k == end) return;  // an empty line before the request line
      http10 = len >= kVersion10Len && ends_http10(p + end + 1);
      phase = kLineStart;
      return;
    }
    if (p[start] == '\r') {
      if (len == 2) end_of_request(stop, on_request);
      return;
    }
    // Eight bytes a step, overlapping: the name's eleven are all before the '\n'.
    if (len > kConnectionLen && http_detail::equals8_any_case(p + start, kConnection) &&
        http_detail::equals8_any_case(p + start + kConnectionLen - 8, kConnection + kConnectionLen - 8)) {
      // The usual value, " close" to the line's end, at once; any other byte by byte.
      if (end - start == kConnectionLen + 7 && http_detail::equals8_any_case(p + end - 7, " close\r\n")) {
        asks_close = true;
        return;
      }
      token = kTokenNone;
      progress = 0;
      for (std::uint32_t k = start + kConnectionLen; k <= end; ++k) value_byte(static_cast<char>(p[k]));
    }
  }

  // Do the ten bytes before `line_end` read "HTTP/1.0\r\n"? Two loads, not a call to memcmp.
  static bool ends_http10(const std::uint8_t* line_end) {
    std::uint64_t head;
    std::uint16_t tail;
    std::memcpy(&head, line_end - kVersion10Len, 8);
    std::memcpy(&tail, line_end - 2, 2);
    std::uint64_t want_head;
    std::uint16_t want_tail;
    std::memcpy(&want_head, kVersion10, 8);
    std::memcpy(&want_tail, kVersion10 + 8, 2);
    return head == want_head && tail == want_tail;
  }
};
static_assert(sizeof(HttpRequestScanner) <= 16);

// Reads a response (RFC 9112): its status code, its header to the end (picking up Content-Length
// and Transfer-Encoding: chunked on the way), then its body by whichever framing the header gave
// (§6.3): chunks, Content-Length bytes, or everything up to the connection's end.
struct HttpResponseScanner {
  static constexpr std::uint32_t kUnknownLength = 0xffffffffu;
  static constexpr std::uint8_t kStatusLineBytes = 12;  // "HTTP/1.1 200"
  // 16 bytes: it lives in every connection record.
  HeaderEndScanner header_end;
  std::uint8_t field_match = 0;   // progress through "\ncontent-length:"
  std::uint8_t te_match = 0;      // progress through "\ntransfer-encoding:", blanks, then "chunked"
  std::uint8_t status_pos : 4 = 0;   // bytes of "HTTP/1.x NNN" read so far (12: done)
  std::uint8_t chunk_state : 4 = 0;  // where the chunked body stands (ChunkState)
  bool in_length : 1 = false;        // reading the digits of Content-Length
  bool header_done : 1 = false;
  bool chunked : 1 = false;          // Transfer-Encoding: chunked (it wins over Content-Length, §6.3)
  bool framing_error : 1 = false;    // a malformed chunked body
  std::uint16_t status = 0;       // the status code; 0 until read, or when the line is not "HTTP/1.x NNN"
  std::uint32_t content_length = kUnknownLength;
  std::uint32_t body_received = 0;  // body bytes; chunked: the bytes left of the current chunk

  // True once the whole body has arrived: the last chunk and the trailer section, or the bytes
  // Content-Length announced. A response with neither ends with the connection (the caller
  // treats the FIN as its end).
  [[nodiscard]] bool complete() const {
    if (!header_done || framing_error) return false;
    if (chunked) return chunk_state == kChunksDone;
    return content_length != kUnknownLength && body_received >= content_length;
  }
  [[nodiscard]] bool status_ok() const { return status >= 200 && status <= 299; }
  // Fed nothing since it was made or reset (every byte fed moves status_pos, until 12).
  [[nodiscard]] bool fresh() const { return status_pos == 0; }
  // The response's length ends with the connection: nothing in the header framed it.
  [[nodiscard]] bool framed_by_close() const { return header_done && !chunked && content_length == kUnknownLength; }

  // Body bytes still to come when Content-Length framed the body (0 otherwise): bytes that are
  // only counted, so the receiver may take them out of order (skip()).
  [[nodiscard]] std::uint32_t counted_body_left() const {
    if (!header_done || chunked || framing_error || content_length == kUnknownLength) return 0;
    return body_received < content_length ? content_length - body_received : 0;
  }
  // n body bytes taken without being looked at (at most counted_body_left()).
  void skip(std::uint32_t n) { body_received += n; }

  // Returns the bytes that belong to this response: all n until it is complete, then up to its
  // end (what follows is the next response's, on a pipelined connection).
  std::uint32_t feed(const std::uint8_t* p, std::uint32_t n) {
    if (status_pos < kStatusLineBytes) {
      const std::uint32_t k = std::min<std::uint32_t>(n, kStatusLineBytes - status_pos);
      read_status(p, k);
    }
    std::uint32_t i = 0;
    if (!header_done) {
      if (header_end.matched == 0 && field_match == 0 && te_match == 0 && !in_length) i = feed_whole_header(p, n);
      if (!header_done) {
        // The matchers are independent, so the header end is found first and the field matchers
        // then read the header bytes up to it (the blank line included).
        bool found = false;
        i = header_end.feed(p, n, found);
        scan_fields(p, i);
        header_done = found;
      }
    }
    if (!header_done || i == n) return n;
    if (chunked) return i + feed_chunks(p + i, n - i);
    // Counted whole (the bytes past Content-Length too), so body_received says what arrived.
    const std::uint32_t left = content_length - std::min(body_received, content_length);
    body_received += n - i;
    return content_length == kUnknownLength ? n : i + std::min(n - i, left);
  }

 private:
  enum ChunkState : std::uint8_t {
    kChunkSize = 0,   // hex digits of a chunk's size
    kChunkExt,        // a chunk extension, up to the line's end
    kChunkSizeLf,     // the '\n' after the size line's '\r'
    kChunkData,
    kChunkDataCr,     // the CRLF after a chunk's data
    kChunkDataLf,
    kTrailerLine,     // at the start of a trailer line (or the final blank line)
    kTrailerText,     // inside a trailer field line
    kTrailerLf,       // the '\n' of the final blank line
    kChunksDone,
  };

  // "HTTP/1.x NNN": the code from bytes 9-11; anything else leaves status 0.
  void read_status(const std::uint8_t* p, std::uint32_t k) {
    if (status_pos == 0 && k == kStatusLineBytes) {  // the whole status line in one segment
      status_pos = kStatusLineBytes;
      if (std::memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') return;
      std::uint32_t code = 0;
      for (std::uint32_t j = 9; j < kStatusLineBytes; ++j) {
        if (p[j] < '0' || p[j] > '9') return;
        code = code * 10 + static_cast<std::uint32_t>(p[j] - '0');
      }
      status = static_cast<std::uint16_t>(code);
      return;
    }
    static constexpr char kPrefix[] = "HTTP/1.";
    for (std::uint32_t j = 0; j < k; ++j, ++status_pos) {
      const char c = static_cast<char>(p[j]);
      if (status_pos < 7) {
        if (c != kPrefix[status_pos]) status_pos = kStatusLineBytes;  // not HTTP/1.x: status stays 0
      } else if (status_pos == 8) {
        if (c != ' ') status_pos = kStatusLineBytes;
      } else if (status_pos >= 9) {
        if (c < '0' || c > '9') {
          status = 0;
          status_pos = kStatusLineBytes;
        } else {
          status = static_cast<std::uint16_t>(status * 10 + (c - '0'));
        }
      }
      if (status_pos >= kStatusLineBytes) return;
    }
  }

  // The chunked body (RFC 9112 §7.1), byte by byte except for chunk data, which is skipped.
  // Returns the bytes read: n, or up to the body's end.
  std::uint32_t feed_chunks(const std::uint8_t* p, std::uint32_t n) {
    std::uint32_t j = 0;
    for (; j < n && !framing_error && chunk_state != kChunksDone; ++j) {
      const char c = static_cast<char>(p[j]);
      switch (chunk_state) {
        case kChunkSize: {
          const int digit = hex_digit(c);
          if (digit >= 0) {
            if (body_received > (0xffffffffu >> 4)) framing_error = true;  // a chunk of 4 GiB or more
            body_received = body_received * 16 + static_cast<std::uint32_t>(digit);
          } else if (c == ';' || c == ' ' || c == '\t') {
            chunk_state = kChunkExt;
          } else if (c == '\r') {
            chunk_state = kChunkSizeLf;
          } else {
            framing_error = true;
          }
          break;
        }
        case kChunkExt:
          if (c == '\r') chunk_state = kChunkSizeLf;
          break;
        case kChunkSizeLf:
          if (c != '\n') framing_error = true;
          else chunk_state = body_received == 0 ? kTrailerLine : kChunkData;
          break;
        case kChunkData: {
          const std::uint32_t take = std::min(body_received, n - j);
          body_received -= take;
          j += take - 1;
          if (body_received == 0) chunk_state = kChunkDataCr;
          break;
        }
        case kChunkDataCr:
          if (c != '\r') framing_error = true;
          else chunk_state = kChunkDataLf;
          break;
        case kChunkDataLf:
          if (c != '\n') framing_error = true;
          else chunk_state = kChunkSize;
          break;
        case kTrailerLine:
          chunk_state = c == '\r' ? kTrailerLf : kTrailerText;
          break;
        case kTrailerText:
          if (c == '\n') chunk_state = kTrailerLine;
          break;
        case kTrailerLf:
          if (c != '\n') framing_error = true;
          else chunk_state = kChunksDone;
          break;
        default: break;
      }
    }
    return j;
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Does the header line starting at p[j] (with n bytes in the segment) start with `name`
  // (lower case, ending in ':'), whatever the case? -1: the segment ends before it can tell.
  static int line_starts_with(const std::uint8_t* p, std::uint32_t j, std::uint32_t n, const char* name,
                              std::uint32_t len) {
    if (len >= 8 && j < n && n - j >= len) {  // eight bytes a step, the last step overlapping
      for (std::uint32_t k = 0;; k += 8) {
        if (k + 8 > len) k = len - 8;
        if (!http_detail::equals8_any_case(p + j + k, name + k)) return 0;
        if (k + 8 == len) return 1;
      }
    }
    // Cut by the segment's end, it is undecided only if what is there matches so far.
    const std::uint32_t there = j >= n ? 0 : std::min(len, n - j);
    for (std::uint32_t k = 0; k < there; ++k) {
      if (http_detail::lower(static_cast<char>(p[j + k])) != name[k]) return 0;
    }
    return there < len ? -1 : 1;
  }

  // The common case, a whole header in one segment, line by line: the same result as the byte
  // matchers below, which take over (from this same state) when the header does not end in this
  // segment, or a line of interest runs to its end. Only called with no match in progress, so a
  // line can only start after a '\n' of this segment (earlier segments may have given the
  // Content-Length already). Returns the header's length, or 0 with nothing changed.
  std::uint32_t feed_whole_header(const std::uint8_t* p, std::uint32_t n) {
    static constexpr char kLength[] = "content-length:";
    static constexpr char kEncoding[] = "transfer-encoding:";
    std::uint32_t length = content_length;
    bool is_chunked = chunked;
    std::uint32_t end = 0;
    bool cut = false;
    // (Inlined: called per line, the lambda kept its captures in memory; callgrind, 85 of a
    // client connection's instructions.)
    http_detail::find_newlines(p, n, [&](std::uint32_t i) __attribute__((always_inline)) {
      if (http_detail::ends_header(p, i)) {
        end = i + 1;
        return true;
      }
      const std::uint32_t j = i + 1;
      if (j < n && (p[j] | 0x20) != 'c' && (p[j] | 0x20) != 't') return false;  // neither name: next line
      const int is_length = line_starts_with(p, j, n, kLength, sizeof(kLength) - 1);
      const int is_encoding = is_length == 1 ? 0 : line_starts_with(p, j, n, kEncoding, sizeof(kEncoding) - 1);
      if (is_length < 0 || is_encoding < 0) {
        cut = true;
        return true;
      }
      if (is_encoding == 1) {
        // The value as the byte matcher reads it: blanks, then "chunked" (any case).
        std::uint32_t k = j + sizeof(kEncoding) - 1;
        while (k < n && (p[k] == ' ' || p[k] == '\t')) ++k;
        const int is_chunked_value = line_starts_with(p, k, n, "chunked", 7);
        if (is_chunked_value < 0) {
          cut = true;
          return true;
        }
        if (is_chunked_value == 1) is_chunked = true;
        return false;
      }
      if (is_length == 0) return false;
      // The value as scan_field reads it: blanks before the digits, digits (saturating), and the
      // first byte that is neither ends it. A repeated field starts over.
      length = kUnknownLength;
      for (std::uint32_t k = j + sizeof(kLength) - 1; k < n; ++k) {
        const char c = static_cast<char>(p[k]);
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
    if (end == 0 || cut) return 0;
    header_end.matched = 4;
    header_done = true;
    content_length = length;
    chunked = is_chunked;
    return end;
  }

  // scan_field over p[0..n). Outside a Content-Length value and with no part of a field name
  // matched, only a '\n' changes the state (both names start with the only '\n' in them), so the
  // bytes up to the next one are skipped.
  void scan_fields(const std::uint8_t* p, std::uint32_t n) {
    std::uint32_t i = 0;
    while (i < n) {
      if (!in_length && field_match == 0 && te_match == 0) {
        const void* nl = std::memchr(p + i, '\n', n - i);
        if (nl == nullptr) return;
        i = static_cast<std::uint32_t>(static_cast<const std::uint8_t*>(nl) - p);
      }
      scan_field(static_cast<char>(p[i]));
      scan_encoding(static_cast<char>(p[i]));
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
    if (http_detail::lower(c) == kField[field_match]) {
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

  // "\ntransfer-encoding:" (positions 1-19 of te_match), blanks (kTeBlanks), "chunked" (from
  // kTeValue); a mismatch anywhere starts over.
  void scan_encoding(char c) {
    static constexpr char kName[] = "\ntransfer-encoding:";
    static constexpr std::uint8_t kNameLen = sizeof(kName) - 1;
    static constexpr char kValue[] = "chunked";
    static constexpr std::uint8_t kTeBlanks = kNameLen;
    static constexpr std::uint8_t kTeValue = kNameLen + 1;
    const char l = http_detail::lower(c);
    if (te_match < kNameLen) {
      if (l == kName[te_match]) ++te_match;
      else te_match = c == '\n' ? 1 : 0;
      return;
    }
    if (te_match == kTeBlanks) {
      if (c == ' ' || c == '\t') return;
      te_match = kTeValue;
    }
    const std::uint8_t at = static_cast<std::uint8_t>(te_match - kTeValue);
    if (l == kValue[at]) {
      if (++te_match == kTeValue + sizeof(kValue) - 1) {
        chunked = true;
        te_match = 0;
      }
    } else {
      te_match = c == '\n' ? 1 : 0;
    }
  }
};
static_assert(sizeof(HttpResponseScanner) == 16);

namespace http_detail {

// The bytes a KnownRequest or KnownResponseHeader knows: the last request or response header read
// whole, up to its blank line. A message byte for byte identical to them reads the same (its
// first "\r\n\r\n" ends at the same place, and nothing before it differs), so one compare
// stands in for the scan. After a miss it learns again at once if the known bytes were hit since
// they were learnt (a peer that repeats itself, as when nginx's Date moves on); otherwise once in
// 64 misses, so the reader of a peer that does not repeat itself does not scan twice.
class KnownPrefix {
 public:
  static constexpr std::uint32_t kCapacity = 256;

  [[nodiscard]] std::uint32_t len() const { return len_; }
  // Do p[0..n) start with the known bytes?
  [[nodiscard]] bool starts(const std::uint8_t* p, std::uint32_t n) {
    if (len_ == 0 || n < len_ || std::memcmp(p, bytes_.data(), len_) != 0) return false;
    hit_since_learnt_ = true;
    return true;
  }
  // After a miss: the length of the message to learn from p[0..n) (up to and including its first
  // "\r\n\r\n", at most kCapacity), or 0 when it is not the time or there is none.
  [[nodiscard]] std::uint32_t to_learn(const std::uint8_t* p, std::uint32_t n) {
    if (!hit_since_learnt_ && ++misses_ % 64 != 1) return 0;
    hit_since_learnt_ = false;
    static constexpr std::uint8_t kEnd[4] = {'\r', '\n', '\r', '\n'};
    const void* end = memmem(p, n, kEnd, sizeof kEnd);
    if (end == nullptr) return 0;
    const auto len = static_cast<std::uint32_t>(static_cast<const std::uint8_t*>(end) - p) + 4;
    return len <= kCapacity ? len : 0;
  }
  void keep(const std::uint8_t* p, std::uint32_t len) {
    std::memcpy(bytes_.data(), p, len);
    len_ = len;
  }

 private:
  std::uint32_t len_ = 0;  // 0: nothing known yet
  bool hit_since_learnt_ = false;
  std::uint32_t misses_ = 0;
  std::array<std::uint8_t, kCapacity> bytes_{};
};

}  // namespace http_detail

// The last request a server read whole from its start, and what it asked (keep the connection or
// not): a load tester sends the same request over and over.
class KnownRequest {
 public:
  // What s.feed(p, n, on_request) does.
  template <class OnRequest>
  void feed(HttpRequestScanner& s, const std::uint8_t* p, std::uint32_t n, OnRequest&& on_request) {
    if (!s.fresh()) {
      s.feed(p, n, on_request);
      return;
    }
    if (known_.starts(p, n)) {
      const std::uint32_t len = known_.len();
      if (on_request(keep_alive_) && n > len) s.feed(p + len, n - len, on_request);
      return;
    }
    s.feed(p, n, on_request);
    if (const std::uint32_t len = known_.to_learn(p, n); len != 0) learn(p, len);
  }

 private:
  void learn(const std::uint8_t* p, std::uint32_t len) {
    HttpRequestScanner t;
    std::uint32_t requests = 0;
    bool keep = false;
    t.feed(p, len, [&](bool k) {
      ++requests;
      keep = k;
      return true;
    });
    if (requests != 1 || !t.fresh()) return;  // the blank line did not end exactly one request
    known_.keep(p, len);
    keep_alive_ = keep;
  }

  http_detail::KnownPrefix known_;
  bool keep_alive_ = false;
};

// The last response header a client read whole, and a scanner's state right after it: a server
// sends the same header with every response (nginx's changes with its Date field, once a second).
// (callgrind, profile_connections --workload http: the scan was about 500 instructions of a
// client's connection.)
class KnownResponseHeader {
 public:
  // What s.feed(p, n) does.
  std::uint32_t feed(HttpResponseScanner& s, const std::uint8_t* p, std::uint32_t n) {
    if (!s.fresh()) return s.feed(p, n);
    if (known_.starts(p, n)) {
      const std::uint32_t len = known_.len();
      s = after_;
      return len + (n > len ? s.feed(p + len, n - len) : 0);
    }
    const std::uint32_t used = s.feed(p, n);
    if (s.header_done) {
      if (const std::uint32_t len = known_.to_learn(p, n); len != 0) learn(p, len);
    }
    return used;
  }

 private:
  // The header p[0..len), just read whole: kept with the state a fresh scanner has after it.
  void learn(const std::uint8_t* p, std::uint32_t len) {
    HttpResponseScanner after;
    if (after.feed(p, len) != len || !after.header_done) return;
    known_.keep(p, len);
    after_ = after;
  }

  http_detail::KnownPrefix known_;
  HttpResponseScanner after_;
};

}  // namespace synwave
