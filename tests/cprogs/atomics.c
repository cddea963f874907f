/* C11-style atomics (GCC builtins): fetch-and-op, exchange and
 * compare-and-swap of every size. With -march=armv8.1-a they compile to
 * the LSE instructions (LDADD, SWP, CAS, ...), otherwise to LDXR/STXR
 * loops. */
#include "rt.h"

static uint8_t a8;
static uint16_t a16;
static uint32_t a32;
static uint64_t a64;

int main(void)
{
    uint64_t seed = 5, h = 0;
    for (int i = 0; i < 2000; i++) {
        uint64_t r = rt_rand(&seed);
        switch (r % 7) {
        case 0:
            h += __atomic_fetch_add(&a32, (uint32_t)r, __ATOMIC_SEQ_CST);
            break;
        case 1:
            h += __atomic_fetch_or(&a64, r >> 7, __ATOMIC_ACQUIRE);
            break;
        case 2:
            h += __atomic_fetch_and(&a16, (uint16_t)(r >> 3), __ATOMIC_RELEASE);
            break;
        case 3:
            h += __atomic_exchange_n(&a8, (uint8_t)r, __ATOMIC_ACQ_REL);
            break;
        case 4: {
            uint64_t expect = a64;
            if (r & 1)
                expect ^= 1;
            int ok = __atomic_compare_exchange_n(&a64, &expect, r, 0, __ATOMIC_SEQ_CST,
                                                 __ATOMIC_SEQ_CST);
            h += (uint64_t)ok * 3 + expect;
            break;
        }
        case 5:
            h += __atomic_fetch_xor(&a32, (uint32_t)(r >> 32), __ATOMIC_RELAXED);
            break;
        default: {
            uint16_t expect = a16;
            int ok = __atomic_compare_exchange_n(&a16, &expect, (uint16_t)(r >> 40), 0,
                                                 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
            h += (uint64_t)ok + expect;
            h += __atomic_sub_fetch(&a8, 3, __ATOMIC_SEQ_CST);
            break;
        }
        }
        h = h * 0x9e3779b97f4a7c15ull;
    }
    printf("a8 %u a16 %u a32 %u a64 %016llx hash %016llx\n", a8, a16, a32,
           (unsigned long long)a64, (unsigned long long)h);
    return 0;
}
