/* An LZ77 compressor (hash-chain match finder) and its decompressor,
 * round-tripped over text-like and random data; then run-length coding. */
#include "rt.h"

#define WINDOW 4096
#define MIN_MATCH 4
#define MAX_MATCH 130
#define HASH_BITS 12

static uint16_t head[1 << HASH_BITS];
static uint16_t prev_pos[WINDOW];

static unsigned hash4(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

/* Output: literal runs (0x00-0x7f: n+1 literals follow) and matches
 * (0x80 | len-MIN_MATCH..., 2 bytes distance). */
static size_t compress(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0, lit_start = 0, i = 0;
    memset(head, 0xff, sizeof head);
    while (i < n) {
        size_t best_len = 0, best_dist = 0;
        if (i + MIN_MATCH <= n) {
            unsigned h = hash4(in + i);
            unsigned cand = head[h];
            int chain = 16;
            while (cand != 0xffff && chain--) {
                size_t pos = (i & ~(size_t)(WINDOW - 1)) | cand;
                if (pos >= i)
                    pos -= WINDOW;
                if (pos >= i || i - pos >= WINDOW)
                    break;
                size_t len = 0;
                while (len < MAX_MATCH && i + len < n && in[pos + len] == in[i + len])
                    len++;
                if (len > best_len) {
                    best_len = len;
                    best_dist = i - pos;
                }
                unsigned nxt = prev_pos[cand];
                if (nxt == cand)
                    break;
                cand = nxt;
            }
            prev_pos[i & (WINDOW - 1)] = head[h];
            head[h] = (uint16_t)(i & (WINDOW - 1));
        }
        if (best_len >= MIN_MATCH) {
            while (lit_start < i) {
                size_t run = i - lit_start > 128 ? 128 : i - lit_start;
                out[o++] = (uint8_t)(run - 1);
                memcpy(out + o, in + lit_start, run);
                o += run;
                lit_start += run;
            }
            out[o++] = (uint8_t)(0x80 | (best_len - MIN_MATCH));
            out[o++] = (uint8_t)best_dist;
            out[o++] = (uint8_t)(best_dist >> 8);
            i += best_len;
            lit_start = i;
        } else {
            i++;
        }
    }
    while (lit_start < n) {
        size_t run = n - lit_start > 128 ? 128 : n - lit_start;
        out[o++] = (uint8_t)(run - 1);
        memcpy(out + o, in + lit_start, run);
        o += run;
        lit_start += run;
    }
    return o;
}

static size_t decompress(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t t = in[i++];
        if (t < 0x80) {
            memcpy(out + o, in + i, (size_t)t + 1);
            i += (size_t)t + 1;
            o += (size_t)t + 1;
        } else {
            size_t len = (size_t)(t & 0x7f) + MIN_MATCH;
            size_t dist = in[i] | (size_t)in[i + 1] << 8;
            i += 2;
            for (size_t k = 0; k < len; k++, o++)
                out[o] = out[o - dist];
        }
    }
    return o;
}

static size_t rle(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t r = 1;
        while (i + r < n && r < 255 && in[i + r] == in[i])
            r++;
        out[o++] = (uint8_t)r;
        out[o++] = in[i];
        i += r;
    }
    return o;
}

static uint32_t sum32(const uint8_t *p, size_t n)
{
    uint32_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        a += p[i];
        b += a;
    }
    return a ^ b << 7;
}

static uint8_t text[60000], packed[70000], unpacked[60000];

int main(void)
{
    static const char *words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ",
                                  "lazy ", "dog ", "hypervisor ", "vector ", "page ", "table "};
    uint64_t seed = 1;
    size_t n = 0;
    while (n < sizeof text - 16) {
        const char *w = words[rt_rand(&seed) % 12];
        size_t l = strlen(w);
        memcpy(text + n, w, l);
        n += l;
    }
    int bad = 0;
    for (int pass = 0; pass < 3; pass++) {
        size_t len = pass == 2 ? 20000 : n;
        if (pass == 1)
            for (size_t i = 0; i < len; i += 7)
                text[i] = (uint8_t)rt_rand(&seed);
        if (pass == 2)
            for (size_t i = 0; i < len; i++)
                text[i] = (uint8_t)rt_rand(&seed);
        size_t c = compress(text, len, packed);
        size_t d = decompress(packed, c, unpacked);
        int same = d == len && !memcmp(text, unpacked, len);
        size_t r = rle(text, len, packed);
        printf("pass %d: %zu -> %zu bytes (lz), %zu (rle), round trip %s, sums %08x %08x\n", pass,
               len, c, r, same ? "ok" : "BAD", sum32(text, len), sum32(packed, r));
        bad |= !same;
    }
    return bad;
}
