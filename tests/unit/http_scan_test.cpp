// Incremental HTTP scanning: the same answer whether the bytes arrive whole, byte by byte, or
// cut at any point (including inside "\r\n\r\n" and inside "Content-Length").
#include "synwave/http_scan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace synwave {
namespace {

const std::uint8_t* bytes_of(const std::string& s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

// A real response: Python 3.11.2's http.server (SimpleHTTP/0.6) answering
// "GET /hello.txt HTTP/1.1", captured from a socket on 127.0.0.1 while writing this test.
const std::string kPythonHeader =
    "HTTP/1.0 200 OK\r\n"
    "Server: SimpleHTTP/0.6 Python/3.11.2\r\n"
    "Date: Sat, 21 Nov 2026 12:43:04 GMT\r\n"
    "Content-type: text/plain\r\n"
    "Content-Length: 16\r\n"
    "Last-Modified: Sat, 21 Nov 2026 12:43:03 GMT\r\n"
    "\r\n";
const std::string kPythonBody = "Hello, synwave!\n";
const std::string kPythonResponse = kPythonHeader + kPythonBody;

// What a scanner says after a whole stream; used to compare feeding patterns.
struct Outcome {
  bool header_done;
  std::uint32_t content_length;
  std::uint32_t body_received;
  bool complete;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{header_done " << o.header_done << ", content_length " << o.content_length << ", body_received "
            << o.body_received << ", complete " << o.complete << "}";
}

Outcome outcome_of(const HttpResponseScanner& s) {
  return {s.header_done, s.content_length, s.body_received, s.complete()};
}

// A scanner fed the stream in pieces cut at the given points.
HttpResponseScanner feed_in_pieces(const std::string& stream, const std::vector<std::size_t>& cuts) {
  HttpResponseScanner s;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    s.feed(bytes_of(stream) + from, static_cast<std::uint32_t>(cut - from));
    from = cut;
  }
  s.feed(bytes_of(stream) + from, static_cast<std::uint32_t>(stream.size() - from));
  return s;
}

Outcome scan_in_pieces(const std::string& stream, const std::vector<std::size_t>& cuts) {
  return outcome_of(feed_in_pieces(stream, cuts));
}

// ---------------------------------------------------------------------------------------------
// HeaderEndScanner

// Where the header ends (bytes up to and including the blank line), or npos for never.
std::size_t end_fed_whole(const std::string& s) {
  HeaderEndScanner scanner;
  bool found = false;
  const std::uint32_t consumed = scanner.feed(bytes_of(s), static_cast<std::uint32_t>(s.size()), found);
  if (!found) {
    EXPECT_EQ(consumed, s.size());
    return std::string::npos;
  }
  return consumed;
}

struct HeaderEndCase {
  const char* what;
  std::string stream;
  std::size_t end;  // npos: no header end in the stream
};

class HeaderEnd : public testing::TestWithParam<HeaderEndCase> {};

TEST_P(HeaderEnd, FedWhole_FindsTheBlankLine) {
  const HeaderEndCase& c = GetParam();
  EXPECT_EQ(end_fed_whole(c.stream), c.end) << c.what;
}

TEST_P(HeaderEnd, FedByteByByte_FindsItAtTheSameByte) {
  const HeaderEndCase& c = GetParam();
  HeaderEndScanner scanner;
  std::size_t end = std::string::npos;
  for (std::size_t i = 0; i < c.stream.size(); ++i) {
    bool found = false;
    const std::uint32_t consumed = scanner.feed(bytes_of(c.stream) + i, 1, found);
    EXPECT_EQ(consumed, 1u);
    if (found) {
      end = i + 1;
      break;
    }
  }
  EXPECT_EQ(end, c.end) << c.what;
}

TEST_P(HeaderEnd, CutAnywhere_FindsItAtTheSameByte) {
  const HeaderEndCase& c = GetParam();
  for (std::size_t cut = 0; cut <= c.stream.size(); ++cut) {
    HeaderEndScanner scanner;
    bool found = false;
    std::size_t end = std::string::npos;
    const std::uint32_t first = scanner.feed(bytes_of(c.stream), static_cast<std::uint32_t>(cut), found);
    if (found) {
      end = first;
    } else {
      EXPECT_EQ(first, cut);
      const std::uint32_t second =
          scanner.feed(bytes_of(c.stream) + cut, static_cast<std::uint32_t>(c.stream.size() - cut), found);
      if (found) end = cut + second;
    }
    EXPECT_EQ(end, c.end) << c.what << ", cut at " << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, HeaderEnd,
    testing::Values(
        HeaderEndCase{"empty", "", std::string::npos},
        HeaderEndCase{"only the blank line", "\r\n\r\n", 4},
        HeaderEndCase{"GET request", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27},
        HeaderEndCase{"GET request with a body after", "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", 38},
        HeaderEndCase{"real response", kPythonResponse, kPythonHeader.size()},
        HeaderEndCase{"one line, no blank line", "GET / HTTP/1.1\r\n", std::string::npos},
        HeaderEndCase{"\\r\\n\\r then other", "a\r\n\rb\r\n\r\n", 9},
        HeaderEndCase{"bare newlines do not count", "a\n\n\n\n", std::string::npos},
        HeaderEndCase{"\\r\\r\\n\\r\\n", "a\r\r\n\r\n", 6},
        HeaderEndCase{"\\r\\n\\r\\r\\n\\r\\n", "a\r\n\r\r\n\r\n", 8},
        HeaderEndCase{"\\n\\r\\n\\r\\n", "a\n\r\n\r\n", 6},
        HeaderEndCase{"first of two blank lines", "a\r\n\r\n\r\n\r\n", 5}));

// ---------------------------------------------------------------------------------------------
// HttpResponseScanner

TEST(HttpResponseScanner, RealResponseFedWhole_ReadsLengthAndCompletes) {
  HttpResponseScanner s;
  s.feed(bytes_of(kPythonResponse), static_cast<std::uint32_t>(kPythonResponse.size()));
  EXPECT_EQ(outcome_of(s), (Outcome{true, 16, 16, true}));
}

TEST(HttpResponseScanner, RealResponseByteByByte_CompletesOnTheLastByteOnly) {
  HttpResponseScanner s;
  for (std::size_t i = 0; i < kPythonResponse.size(); ++i) {
    EXPECT_FALSE(s.complete()) << "before byte " << i;
    EXPECT_EQ(s.header_done, i >= kPythonHeader.size()) << "before byte " << i;
    s.feed(bytes_of(kPythonResponse) + i, 1);
  }
  EXPECT_EQ(outcome_of(s), (Outcome{true, 16, 16, true}));
}

TEST(HttpResponseScanner, RealResponseInTwoPieces_SameOutcomeForEveryCut) {
  for (std::size_t cut = 0; cut <= kPythonResponse.size(); ++cut)
    EXPECT_EQ(scan_in_pieces(kPythonResponse, {cut}), (Outcome{true, 16, 16, true})) << "cut at " << cut;
}

TEST(HttpResponseScanner, RealResponseInThreePieces_SameOutcomeForEveryPairOfCuts) {
  for (std::size_t a = 0; a <= kPythonResponse.size(); ++a)
    for (std::size_t b = a; b <= kPythonResponse.size(); ++b)
      ASSERT_EQ(scan_in_pieces(kPythonResponse, {a, b}), (Outcome{true, 16, 16, true})) << "cuts " << a << ", " << b;
}

TEST(HttpResponseScanner, HeaderOnly_NotCompleteUntilTheBodyArrives) {
  HttpResponseScanner s;
  s.feed(bytes_of(kPythonHeader), static_cast<std::uint32_t>(kPythonHeader.size()));
  EXPECT_EQ(outcome_of(s), (Outcome{true, 16, 0, false}));
  s.feed(bytes_of(kPythonBody), 15);
  EXPECT_FALSE(s.complete());
  s.feed(bytes_of(kPythonBody) + 15, 1);
  EXPECT_TRUE(s.complete());
}

struct LengthCase {
  const char* what;
  std::string header_lines;  // between the status line and the blank line
  std::uint32_t want_length;
};

class ContentLength : public testing::TestWithParam<LengthCase> {};

TEST_P(ContentLength, EveryCut_ReadsTheSameLength) {
  const LengthCase& c = GetParam();
  const std::string stream = "HTTP/1.1 200 OK\r\n" + c.header_lines + "\r\n" + "0123456789";
  const bool known = c.want_length != HttpResponseScanner::kUnknownLength;
  const Outcome want{true, c.want_length, 10, known && c.want_length <= 10};
  for (std::size_t cut = 0; cut <= stream.size(); ++cut)
    EXPECT_EQ(scan_in_pieces(stream, {cut}), want) << c.what << ", cut at " << cut;
}

TEST_P(ContentLength, ByteByByte_ReadsTheSameLength) {
  const LengthCase& c = GetParam();
  const std::string stream = "HTTP/1.1 200 OK\r\n" + c.header_lines + "\r\n";
  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < stream.size(); ++i) every_byte.push_back(i);
  const Outcome got = scan_in_pieces(stream, every_byte);
  EXPECT_EQ(got.content_length, c.want_length) << c.what;
  EXPECT_TRUE(got.header_done) << c.what;
}

constexpr std::uint32_t kUnknown = HttpResponseScanner::kUnknownLength;

INSTANTIATE_TEST_SUITE_P(
    Table, ContentLength,
    testing::Values(
        LengthCase{"canonical", "Content-Length: 10\r\n", 10},
        LengthCase{"lower case", "content-length: 10\r\n", 10},
        LengthCase{"upper case", "CONTENT-LENGTH: 10\r\n", 10},
        LengthCase{"mixed case", "cOnTeNt-LeNgTh: 7\r\n", 7},
        LengthCase{"no space", "Content-Length:10\r\n", 10},
        LengthCase{"many spaces", "Content-Length:      10\r\n", 10},
        LengthCase{"tab", "Content-Length:\t10\r\n", 10},
        LengthCase{"trailing spaces", "Content-Length: 10   \r\n", 10},
        LengthCase{"zero", "Content-Length: 0\r\n", 0},
        LengthCase{"leading zeros", "Content-Length: 0010\r\n", 10},
        LengthCase{"large", "Content-Length: 4000000000\r\n", 4000000000u},
        LengthCase{"overflow clamps below unknown", "Content-Length: 99999999999999\r\n", kUnknown - 1},
        LengthCase{"among other fields", "Server: x\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nX: y\r\n", 3},
        LengthCase{"last field", "Server: x\r\nContent-Length: 5\r\n", 5},
        LengthCase{"missing", "Server: x\r\nContent-Type: text/plain\r\n", kUnknown},
        LengthCase{"no fields at all", "", kUnknown},
        LengthCase{"a field that ends in content-length is not it", "X-Content-Length: 99\r\n", kUnknown},
        LengthCase{"the real one after a look-alike", "X-Content-Length: 99\r\nContent-Length: 4\r\n", 4},
        LengthCase{"name inside another value is not it", "X: a content-length: 99\r\n", kUnknown},
        LengthCase{"empty value", "Content-Length: \r\n", kUnknown},
        LengthCase{"duplicate, same value (RFC 9110 §8.6)", "Content-Length: 6\r\nContent-Length: 6\r\n", 6},
        LengthCase{"duplicate, same value, no space", "Content-Length:6\r\nContent-Length:6\r\n", 6}));

TEST(HttpResponseScanner, NoContentLength_NeverComplete) {
  const std::string stream = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until FIN";
  HttpResponseScanner s;
  s.feed(bytes_of(stream), static_cast<std::uint32_t>(stream.size()));
  EXPECT_TRUE(s.header_done);
  EXPECT_EQ(s.body_received, 14u);
  EXPECT_FALSE(s.complete());
}

TEST(HttpResponseScanner, ContentLengthZero_CompleteAtTheBlankLine) {
  const std::string stream = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r";
  HttpResponseScanner s;
  s.feed(bytes_of(stream), static_cast<std::uint32_t>(stream.size()));
  EXPECT_FALSE(s.complete());
  s.feed(reinterpret_cast<const std::uint8_t*>("\n"), 1);
  EXPECT_TRUE(s.complete());
}

TEST(HttpResponseScanner, FieldNamesInTheBody_AreBodyBytes) {
  const std::string stream = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n\r\nContent-Length: 1\r\n\r\n0123456789abcdefg";
  HttpResponseScanner s;
  s.feed(bytes_of(stream), static_cast<std::uint32_t>(stream.size()));
  EXPECT_EQ(outcome_of(s), (Outcome{true, 40, 40, true}));
}

// ---------------------------------------------------------------------------------------------
// The scanners skip ahead with memchr; these compare them with the plain byte-at-a-time matchers
// they replaced, on random streams made mostly of the bytes that matter, cut at random places.

struct ReferenceScanner {
  std::uint8_t end_matched = 0;
  std::uint8_t field_match = 0;
  bool in_length = false;
  bool header_done = false;
  std::uint32_t content_length = HttpResponseScanner::kUnknownLength;
  std::uint32_t body_received = 0;
  std::size_t header_end = std::string::npos;  // stream offset one past the blank line
  std::size_t offset = 0;

  void feed(const std::uint8_t* p, std::uint32_t n) {
    static constexpr char kEnd[4] = {'\r', '\n', '\r', '\n'};
    static constexpr char kField[] = "\ncontent-length:";
    for (std::uint32_t i = 0; i < n; ++i, ++offset) {
      const char c = static_cast<char>(p[i]);
      if (header_done) {
        ++body_received;
        continue;
      }
      bool field_done = false;
      if (in_length) {
        if (c >= '0' && c <= '9') {
          const std::uint32_t digit = static_cast<std::uint32_t>(c - '0');
          const std::uint32_t base = content_length == HttpResponseScanner::kUnknownLength ? 0 : content_length;
          content_length = base > (HttpResponseScanner::kUnknownLength - 1 - digit) / 10
                               ? HttpResponseScanner::kUnknownLength - 1
                               : base * 10 + digit;
          field_done = true;
        } else if ((c == ' ' || c == '\t') && content_length == HttpResponseScanner::kUnknownLength) {
          field_done = true;
        } else {
          in_length = false;
        }
      }
      if (!field_done) {
        const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        if (lower == kField[field_match]) {
          if (++field_match == sizeof(kField) - 1) {
            in_length = true;
            field_match = 0;
            content_length = HttpResponseScanner::kUnknownLength;
          }
        } else {
          field_match = (c == '\n') ? 1 : 0;
        }
      }
      if (c == kEnd[end_matched]) {
        if (++end_matched == 4) {
          header_done = true;
          header_end = offset + 1;
        }
      } else {
        end_matched = (c == '\r') ? 1 : 0;
      }
    }
  }
};

// Up to 60 pieces drawn at random, end to end.
std::string random_text(std::mt19937& rng, const std::vector<std::string>& pieces) {
  std::uniform_int_distribution<std::size_t> piece(0, pieces.size() - 1);
  std::uniform_int_distribution<int> count(0, 60);
  std::string s;
  for (int i = count(rng); i > 0; --i) s += pieces[piece(rng)];
  return s;
}

std::string random_stream(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {"\r", "\n", "\r\n", "a", "x", " ", "\t", "7", "0",
                                                   "Content-Length:", "content-length: ", "CONTENT-LENGTH:",
                                                   "\ncontent-len", "Connection: close",
                                                   // Near misses once bit 5 is forced on: '\r' | 0x20 is '-'.
                                                   "content\rlength:", "CONTENT-LENGTH\x1a"};
  return random_text(rng, kPieces);
}

std::vector<std::size_t> random_cuts(std::mt19937& rng, std::size_t size) {
  std::uniform_int_distribution<std::size_t> at(0, size);
  std::vector<std::size_t> cuts(std::uniform_int_distribution<int>(0, 6)(rng));
  for (auto& c : cuts) c = at(rng);
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

TEST(HttpScanDetail, EqualsAnyCase_MatchesExactlyTheCaseFoldedBytes) {
  // Every byte value at every position of a name with letters, '-' and ':'.
  const char name[] = "ength-n:";
  for (std::size_t at = 0; at < 8; ++at) {
    for (int b = 0; b < 256; ++b) {
      std::uint8_t got[8];
      std::memcpy(got, name, 8);
      got[at] = static_cast<std::uint8_t>(b);
      const char c = static_cast<char>(b);
      const bool folds = c == name[at] || (name[at] >= 'a' && name[at] <= 'z' && c == name[at] - 'a' + 'A');
      ASSERT_EQ(http_detail::equals8_any_case(got, name), folds) << "byte " << b << " at " << at;
    }
  }
}

TEST(HeaderEndScanner, RandomStreamsCutAnywhere_EndWhereTheByteMatcherEnds) {
  std::mt19937 rng(20240611);
  for (int round = 0; round < 20000; ++round) {
    const std::string stream = random_stream(rng);
    const std::vector<std::size_t> cuts = random_cuts(rng, stream.size());
    ReferenceScanner want;
    want.feed(bytes_of(stream), static_cast<std::uint32_t>(stream.size()));
    HeaderEndScanner scanner;
    std::size_t end = std::string::npos;
    std::size_t from = 0;
    for (std::size_t i = 0; i <= cuts.size() && end == std::string::npos; ++i) {
      const std::size_t to = i < cuts.size() ? cuts[i] : stream.size();
      bool found = false;
      const std::uint32_t consumed = scanner.feed(bytes_of(stream) + from, static_cast<std::uint32_t>(to - from), found);
      if (found) end = from + consumed;
      else ASSERT_EQ(consumed, to - from);
      from = to;
    }
    ASSERT_EQ(end, want.header_end) << "round " << round;
  }
}

TEST(HttpResponseScanner, RandomStreamsCutAnywhere_SameOutcomeAsTheByteMatcher) {
  std::mt19937 rng(20240612);
  for (int round = 0; round < 20000; ++round) {
    const std::string stream = random_stream(rng);
    const std::vector<std::size_t> cuts = random_cuts(rng, stream.size());
    ReferenceScanner want;
    want.feed(bytes_of(stream), static_cast<std::uint32_t>(stream.size()));
    const bool complete = want.header_done && want.content_length != HttpResponseScanner::kUnknownLength &&
                          want.body_received >= want.content_length;
    ASSERT_EQ(scan_in_pieces(stream, cuts), (Outcome{want.header_done, want.content_length, want.body_received, complete}))
        << "round " << round;
  }
}

// Status line, chunked bodies and framing errors (issue 11: real servers, nginx among them).

// What the scanner says of a whole response fed in pieces cut at the given points.
struct Reading {
  std::uint16_t status;
  bool chunked;
  bool complete;
  bool framing_error;
  friend bool operator==(const Reading&, const Reading&) = default;
};

std::ostream& operator<<(std::ostream& os, const Reading& r) {
  return os << "{status " << r.status << ", chunked " << r.chunked << ", complete " << r.complete << ", framing_error "
            << r.framing_error << "}";
}

Reading read_in_pieces(const std::string& stream, const std::vector<std::size_t>& cuts) {
  const HttpResponseScanner s = feed_in_pieces(stream, cuts);
  return {s.status, s.chunked, s.complete(), s.framing_error};
}

// nginx 1.22's answer to a proxied or dynamic request: chunked, with an extension and a trailer.
const std::string kChunked =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Content-Type: text/plain\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Connection: close\r\n"
    "\r\n"
    "5\r\nhello\r\n"
    "1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n"
    "0\r\n"
    "X-Trailer: yes\r\n"
    "\r\n";

TEST(HttpResponseScanner, Chunked_CompleteAtTheEndOfTheTrailers_WhateverTheCuts) {
  const Reading want{200, true, true, false};
  EXPECT_EQ(read_in_pieces(kChunked, {}), want);
  for (std::size_t a = 0; a <= kChunked.size(); ++a) {
    ASSERT_EQ(read_in_pieces(kChunked, {a}), want) << "cut at " << a;
    for (std::size_t b = a; b <= kChunked.size(); b += 7) ASSERT_EQ(read_in_pieces(kChunked, {a, b}), want) << a << ", " << b;
  }
  // One byte short of the final CRLF: not complete.
  EXPECT_EQ(read_in_pieces(kChunked.substr(0, kChunked.size() - 1), {}), (Reading{200, true, false, false}));
}

TEST(HttpResponseScanner, ChunkedWithoutTrailers_AndChunkedWinsOverContentLength) {
  const std::string plain = "HTTP/1.1 200 OK\r\ntransfer-encoding:  Chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  for (std::size_t a = 0; a <= plain.size(); ++a) {
    ASSERT_EQ(read_in_pieces(plain, {a}), (Reading{200, true, true, false})) << "cut at " << a;
  }
}

TEST(HttpResponseScanner, MalformedChunks_AreFramingErrors) {
  for (const std::string body : {"zz\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n", "5\nhello\r\n0\r\n\r\n",
                                 "123456789\r\n"}) {
    const std::string r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body;
    for (std::size_t a = 0; a <= r.size(); ++a) {
      ASSERT_EQ(read_in_pieces(r, {a}), (Reading{200, true, false, true})) << body << " cut at " << a;
    }
  }
}

TEST(HttpResponseScanner, StatusCode_ReadFromTheStatusLineOnly) {
  EXPECT_EQ(read_in_pieces("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", {}).status, 404);
  EXPECT_EQ(read_in_pieces("HTTP/1.0 503 Busy\r\nContent-Length: 0\r\n\r\n", {3, 10}).status, 503);
  EXPECT_EQ(read_in_pieces("HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n", {}).status, 0);  // not HTTP/1.x
  EXPECT_EQ(read_in_pieces("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", {}).status, 0);
  EXPECT_EQ(read_in_pieces("garbage\r\n\r\n", {}).status, 0);
}

// HttpRequestScanner: pipelined requests and the keep-alive decision (RFC 9112 §9.3).

// Each request's end (one past its blank line) and whether it keeps the connection, as the
// scanner reports them for a stream fed in pieces cut at the given points; a callback that
// answers false stops it, as the server does after a request that closes.
struct RequestEnd {
  std::size_t end;
  bool keep_alive;
  friend bool operator==(const RequestEnd&, const RequestEnd&) = default;
};

std::ostream& operator<<(std::ostream& os, const RequestEnd& r) {
  return os << "{end " << r.end << ", keep " << r.keep_alive << "}";
}

std::vector<RequestEnd> requests_in_pieces(const std::string& stream, const std::vector<std::size_t>& cuts,
                                           bool stop_at_close = false) {
  HttpRequestScanner scanner;
  std::vector<RequestEnd> got;
  std::size_t from = 0;
  bool stopped = false;
  for (std::size_t i = 0; i <= cuts.size() && !stopped; ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : stream.size();
    std::size_t base = from;
    const std::uint32_t read = scanner.feed(bytes_of(stream) + from, static_cast<std::uint32_t>(to - from), [&](bool keep) {
      got.push_back({0, keep});
      return !(stop_at_close && !keep);
    });
    // The end of the last request reported in this piece is where reading stopped, or unknown.
    if (!got.empty() && got.back().end == 0) {
      stopped = stop_at_close && !got.back().keep_alive;
      if (stopped) got.back().end = base + read;
    }
    if (!stopped) {
      EXPECT_EQ(read, to - from);
    }
    from = to;
  }
  return got;
}

// The reference: the stream split into lines, each judged by the rules in the scanner's header,
// written the plain way.
std::vector<RequestEnd> reference_requests(const std::string& stream) {
  std::vector<RequestEnd> out;
  bool in_request = false;
  bool http10 = false;
  bool close = false;
  bool keep = false;
  std::size_t start = 0;
  auto lower = [](std::string s) {
    for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return s;
  };
  while (true) {
    const std::size_t nl = stream.find('\n', start);
    if (nl == std::string::npos) break;
    const std::string line = stream.substr(start, nl - start);  // without its '\n'
    start = nl + 1;
    if (!in_request) {
      if (line.find_first_not_of('\r') == std::string::npos) continue;  // empty line before a request
      in_request = true;
      http10 = line.size() >= 9 && line.compare(line.size() - 9, 9, "HTTP/1.0\r") == 0;
      close = keep = false;
      continue;
    }
    if (line == "\r") {
      out.push_back({0, http10 ? keep && !close : !close});
      in_request = false;
      continue;
    }
    if (lower(line.substr(0, 11)) != "connection:") continue;
    std::string token;
    for (std::size_t k = 11; k <= line.size(); ++k) {
      const char c = k < line.size() ? line[k] : ',';
      if (c == ',' || c == ' ' || c == '\t' || c == '\r') {
        if (lower(token) == "close") close = true;
        if (lower(token) == "keep-alive") keep = true;
        token.clear();
      } else {
        token += c;
      }
    }
  }
  return out;
}

TEST(HttpRequestScanner, KeepAliveByVersionAndConnectionField) {
  auto one = [](const std::string& request) {
    const std::vector<RequestEnd> got = requests_in_pieces(request, {});
    EXPECT_EQ(got.size(), 1u) << request;
    return !got.empty() && got[0].keep_alive;
  };
  EXPECT_TRUE(one("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_FALSE(one("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(one("GET / HTTP/1.1\r\nconnection:CLOSE\r\n\r\n"));
  EXPECT_FALSE(one("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n"));
  EXPECT_TRUE(one("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n"));
  EXPECT_TRUE(one("GET / HTTP/1.1\r\nX-Connection: close\r\n\r\n"));
  EXPECT_FALSE(one("GET / HTTP/1.0\r\nHost: a\r\n\r\n"));
  // ApacheBench's -k request (ab 2.3).
  EXPECT_TRUE(one("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: 198.18.0.2\r\nUser-Agent: ApacheBench/2.3\r\n"
                  "Accept: */*\r\n\r\n"));
  EXPECT_FALSE(one("GET / HTTP/1.0\r\nConnection: Keep-Alive,close\r\n\r\n"));
  // Empty lines before a request line are skipped (RFC 9112 §2.2).
  EXPECT_FALSE(one("\r\n\r\nGET / HTTP/1.0\r\n\r\n"));
}

TEST(HttpRequestScanner, PipelinedRequestsInOneSegment_EachInOrder_StopsAfterTheOneThatCloses) {
  const std::string a = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string b = "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::string stream = a + a + b + a;
  EXPECT_EQ(requests_in_pieces(stream, {}), (std::vector<RequestEnd>{{0, true}, {0, true}, {0, false}, {0, true}}));
  EXPECT_EQ(requests_in_pieces(stream, {}, true),
            (std::vector<RequestEnd>{{0, true}, {0, true}, {2 * a.size() + b.size(), false}}));
  // The same, cut inside the second request's blank line and inside the closing field.
  const std::size_t cut1 = 2 * a.size() - 1;
  const std::size_t cut2 = 2 * a.size() + b.find("clo") + 2;
  EXPECT_EQ(requests_in_pieces(stream, {cut1, cut2}, true),
            (std::vector<RequestEnd>{{0, true}, {0, true}, {2 * a.size() + b.size(), false}}));
}

std::string random_requests(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {
      "\r", "\n", "\r\n", "\r\n\r\n", "GET / HTTP/1.1\r\n", "GET / HTTP/1.0\r\n", "HTTP/1.0", "H", "x", " ", ",", "\t",
      "Connection:", "connection: close", "CONNECTION: Keep-Alive", "Connection: keep-alive, close\r\n", "close",
      "keep-alive", "Keep-Alive", "closed", "clos", "keep-aliv", "Host: a\r\n", "connectio", "X-Connection: close\r\n",
      // Near misses once bit 5 is forced on: '\r' | 0x20 is '-'.
      "connection\r", "CONNECTION\x1a"};
  return random_text(rng, kPieces);
}

TEST(HttpRequestScanner, RandomStreamsCutAnywhere_SameRequestsAsTheLineReference) {
  std::mt19937 rng(20261204);
  for (int round = 0; round < 30000; ++round) {
    const std::string stream = random_requests(rng);
    const std::vector<RequestEnd> want = reference_requests(stream);
    ASSERT_EQ(requests_in_pieces(stream, random_cuts(rng, stream.size())), want) << "round " << round;
    std::vector<std::size_t> every_byte(stream.size());
    for (std::size_t i = 0; i < every_byte.size(); ++i) every_byte[i] = i;
    ASSERT_EQ(requests_in_pieces(stream, every_byte), want) << "round " << round << ", byte by byte";
  }
}

// Pipelined responses: feed() says where one ends, so the next is read from there.
TEST(HttpResponseScanner, BackToBackResponses_FeedStopsAtTheFirstOnesEnd) {
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  const std::string next = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  for (const std::string& head : {first, chunked}) {
    const std::string both = head + next;
    HttpResponseScanner s;
    EXPECT_EQ(s.feed(bytes_of(both), static_cast<std::uint32_t>(both.size())), head.size());
    EXPECT_TRUE(s.complete());
    HttpResponseScanner t;
    EXPECT_EQ(t.feed(bytes_of(both) + head.size(), static_cast<std::uint32_t>(next.size())), next.size());
    EXPECT_TRUE(t.complete());
    EXPECT_EQ(t.status, 404);
  }
  // Not complete yet: every byte is this response's.
  HttpResponseScanner u;
  EXPECT_EQ(u.feed(bytes_of(first), 30), 30u);
  EXPECT_FALSE(u.complete());
}

// The fields a response's reader looks at, for comparing two scanners.
std::string observed(const HttpResponseScanner& s) {
  return "status " + std::to_string(s.status) + " header_done " + std::to_string(s.header_done) + " length " +
         std::to_string(s.content_length) + " body " + std::to_string(s.body_received) + " chunked " +
         std::to_string(s.chunked) + " chunk_state " + std::to_string(s.chunk_state) + " complete " +
         std::to_string(s.complete()) + " framing_error " + std::to_string(s.framing_error) + " status_pos " +
         std::to_string(s.status_pos) + " matched " + std::to_string(s.header_end.matched);
}

// A segment read through KnownResponseHeader leaves the scanner as a plain scan does, and feed
// returns the same, whether the header is the known one (the compare), a new one (learnt), cut
// short, too long to keep, or followed by a body, a chunked body or the next response.
TEST(KnownResponseHeader, EverySegment_ReadsAsAPlainScanDoes) {
  const std::string nginx = "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sat, 05 Dec 2026 16:00:00 GMT\r\n"
                            "Content-Length: 14\r\nConnection: keep-alive\r\n\r\n";
  const std::string next_second = "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sat, 05 Dec 2026 16:00:01 GMT\r\n"
                                  "Content-Length: 14\r\nConnection: keep-alive\r\n\r\n";
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string long_header = "HTTP/1.1 404 Not Found\r\nX-Padding: " + std::string(300, 'x') + "\r\nContent-Length: 3\r\n\r\n";
  const std::vector<std::string> segments = {
      nginx + "Hello, synwave",            // learnt
      nginx + "Hello, synwave",            // known
      nginx,                               // known, no body yet
      nginx + "Hello",                     // known, part of the body
      nginx + "Hello, synwave" + nginx,    // known, then the next response's bytes
      nginx.substr(0, 40),                 // a prefix of the known header: scanned
      next_second + "Hello, synwave",      // a new Date: learnt again
      next_second + "Hello, synwave",      // known
      nginx + "Hello, synwave",            // the old one again: learnt again
      chunked + "3\r\nabc\r\n0\r\n\r\n", // learnt
      chunked + "3\r\nabc\r\n0\r\n\r\n", // known, the chunks read after it
      chunked + "3\r\nab",                 // known, a chunk cut
      chunked + "zz\r\n",                  // known, a malformed chunk size
      long_header + "abc",                 // too long to keep: scanned
      long_header + "abc",
      "HTTP/1.1 204 No Content\r\n\r\n",   // no length at all
      "HTTP/1.1 204 No Content\r\n\r\n",
  };
  KnownResponseHeader known;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& seg = segments[i];
    HttpResponseScanner plain;
    HttpResponseScanner through;
    const std::uint32_t n = static_cast<std::uint32_t>(seg.size());
    const std::uint32_t want = plain.feed(bytes_of(seg), n);
    EXPECT_EQ(known.feed(through, bytes_of(seg), n), want) << "segment " << i;
    EXPECT_EQ(observed(through), observed(plain)) << "segment " << i;
    // The rest of the body, when some is missing, reads the same too.
    if (plain.counted_body_left() != 0) {
      const std::string rest(plain.content_length - plain.body_received, 'z');
      EXPECT_EQ(through.feed(bytes_of(rest), static_cast<std::uint32_t>(rest.size())),
                plain.feed(bytes_of(rest), static_cast<std::uint32_t>(rest.size())));
      EXPECT_EQ(observed(through), observed(plain)) << "segment " << i << ", completed";
    }
  }
}

// A segment read through KnownRequest calls on_request as a plain scan does, with the same
// answers, and leaves the scanner in the same place: known requests, pipelined ones, one that
// closes (reading stops there), HTTP/1.0, a request cut short, one too long to keep.
TEST(KnownRequest, EverySegment_ReadsAsAPlainScanDoes) {
  const std::string get = "GET / HTTP/1.1\r\nHost: 198.18.0.2\r\nUser-Agent: synwave\r\n\r\n";
  const std::string close = "GET / HTTP/1.1\r\nHost: 198.18.0.2\r\nConnection: close\r\n\r\n";
  const std::string http10 = "GET /a HTTP/1.0\r\nHost: 198.18.0.2\r\n\r\n";
  const std::string long_request = "GET /" + std::string(300, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::vector<std::string> segments = {
      get, get, get + get, get + get.substr(0, 20), get.substr(0, 20), close, close, close + get,
      http10, http10, get, long_request, long_request, "\r\n" + get, get,
  };
  struct Reading {
    std::vector<bool> asked;
    std::string state;
  };
  auto read = [](HttpRequestScanner& sc, const std::string& seg, auto&& feed) {
    Reading r;
    feed(sc, bytes_of(seg), static_cast<std::uint32_t>(seg.size()), [&](bool keep) {
      r.asked.push_back(keep);
      return keep;  // as the server: a request that closes is the last read
    });
    r.state = "fresh " + std::to_string(sc.fresh());
    return r;
  };
  KnownRequest known;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    HttpRequestScanner plain;
    HttpRequestScanner through;
    const Reading want = read(plain, segments[i], [](HttpRequestScanner& sc, const std::uint8_t* p, std::uint32_t n, auto&& cb) {
      sc.feed(p, n, cb);
    });
    const Reading got = read(through, segments[i], [&](HttpRequestScanner& sc, const std::uint8_t* p, std::uint32_t n, auto&& cb) {
      known.feed(sc, p, n, cb);
    });
    EXPECT_EQ(got.asked, want.asked) << "segment " << i;
    EXPECT_EQ(got.state, want.state) << "segment " << i;
    // What is left of a cut request reads the same too.
    const std::string tail = get.substr(20);
    if (!plain.fresh()) {
      std::vector<bool> a;
      std::vector<bool> b;
      plain.feed(bytes_of(tail), static_cast<std::uint32_t>(tail.size()), [&](bool k) { a.push_back(k); return true; });
      through.feed(bytes_of(tail), static_cast<std::uint32_t>(tail.size()), [&](bool k) { b.push_back(k); return true; });
      EXPECT_EQ(b, a) << "segment " << i << ", completed";
    }
  }
}

}  // namespace
}  // namespace synwave
