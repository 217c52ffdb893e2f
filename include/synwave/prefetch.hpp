#pragma once
// A read prefetch the compiler keeps. GCC may treat __builtin_prefetch as free of side effects, so a
// loop that only hashes keys and prefetches their slots (the connection generator's look-ahead
// before its opens, the benchmarks' copy of it) can be deleted whole: it was, in core_bench's
// BM_ConnectionSide, as soon as the flow hash changed from CRC32c to a multiply-based one, and
// every open then waited on its slot's miss (client side 280 -> 450 ns per connection). An asm
// statement marked volatile is never deleted.
namespace synwave {

inline void prefetch_for_read(const void* address) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const unsigned char*>(address)));
#else
  __builtin_prefetch(address, 0, 3);
#endif
}

}  // namespace synwave
