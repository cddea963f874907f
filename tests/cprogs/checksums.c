/* CRC-32 (bitwise, table, and the CRC32 instructions when the target has
 * them), CRC-32C, Adler-32 and FNV-1a over generated data. */
#include "rt.h"
#if defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>
#endif

static uint32_t crc_bitwise(const uint8_t *p, size_t n, uint32_t poly)
{
    uint32_t c = ~0u;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ poly : c >> 1;
    }
    return ~c;
}

static uint32_t table[256];

static uint32_t crc_table(const uint8_t *p, size_t n)
{
    uint32_t c = ~0u;
    while (n--)
        c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

#if defined(__ARM_FEATURE_CRC32)
static uint32_t crc_insn(const uint8_t *p, size_t n, int castagnoli)
{
    uint32_t c = ~0u;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = castagnoli ? __crc32cd(c, v) : __crc32d(c, v);
        p += 8, n -= 8;
    }
    while (n--)
        c = castagnoli ? __crc32cb(c, *p++) : __crc32b(c, *p++);
    return ~c;
}
#endif

static uint32_t adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    while (n--) {
        a = (a + *p++) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    while (n--)
        h = (h ^ *p++) * 0x100000001b3ull;
    return h;
}

/* Sum of bytes with 16- and 32-bit accumulators: widening adds. */
static uint32_t byte_sum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

static uint8_t buf[40000];

int main(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
        table[i] = c;
    }
    const char *check = "123456789";
    uint32_t c1 = crc_bitwise((const uint8_t *)check, 9, 0xedb88320u);
    uint32_t c2 = crc_bitwise((const uint8_t *)check, 9, 0x82f63b78u);
    printf("crc32(123456789) %08x crc32c %08x\n", c1, c2);
    int bad = c1 != 0xcbf43926u || c2 != 0xe3069283u;
    uint64_t seed = 7;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(rt_rand(&seed) >> 32);
    for (size_t n = 1; n <= sizeof buf; n = n * 3 + 1) {
        uint32_t a = crc_bitwise(buf, n, 0xedb88320u), b = crc_table(buf, n);
        printf("n %5zu crc %08x table %08x adler %08x fnv %016llx sum %u\n", n, a, b,
               adler32(buf, n), (unsigned long long)fnv1a(buf, n), byte_sum(buf, n));
        bad |= a != b;
#if defined(__ARM_FEATURE_CRC32)
        uint32_t ci = crc_insn(buf, n, 0), cc = crc_insn(buf, n, 1);
        bad |= ci != a || cc != crc_bitwise(buf, n, 0x82f63b78u);
#endif
    }
    return bad;
}
