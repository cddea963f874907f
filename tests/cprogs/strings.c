/* Byte loops compilers vectorize: case conversion, character classes,
 * histograms, reversal, search and tokenising, on generated text. */
#include "rt.h"

#define LEN 20000

static char text[LEN + 1], copy[LEN + 1];
static uint32_t hist[256];

static void to_upper(char *d, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
}

static size_t count_class(const char *s, size_t n, int (*pred)(int))
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += pred((unsigned char)s[i]) != 0;
    return c;
}

static int is_vowel(int c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}
static int is_space(int c)
{
    return c == ' ' || c == '\n';
}

static void reverse(char *s, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        char t = s[i];
        s[i] = s[n - 1 - i];
        s[n - 1 - i] = t;
    }
}

/* Bytes equal between two buffers: compare-and-count. */
static size_t same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += a[i] == b[i];
    return c;
}

/* Max and min byte, and an xor-fold: reductions. */
static void stats(const uint8_t *s, size_t n, uint8_t *mx, uint8_t *mn, uint8_t *x)
{
    uint8_t a = 0, b = 255, c = 0;
    for (size_t i = 0; i < n; i++) {
        a = s[i] > a ? s[i] : a;
        b = s[i] < b ? s[i] : b;
        c ^= s[i];
    }
    *mx = a, *mn = b, *x = c;
}

int main(void)
{
    uint64_t seed = 3;
    for (size_t i = 0; i < LEN; i++) {
        uint64_t r = rt_rand(&seed) % 32;
        text[i] = r < 26 ? (char)('a' + r) : r < 30 ? ' ' : r == 30 ? '\n' : '.';
    }
    text[LEN] = 0;
    to_upper(copy, text, LEN);
    copy[LEN] = 0;
    for (size_t i = 0; i < LEN; i++)
        hist[(unsigned char)text[i]]++;
    printf("len %zu vowels %zu spaces %zu\n", strlen(text), count_class(text, LEN, is_vowel),
           count_class(text, LEN, is_space));
    for (int c = 'a'; c <= 'z'; c += 5)
        printf("hist %c %u\n", c, hist[c]);
    printf("same bytes after upper: %zu\n", same_bytes((uint8_t *)text, (uint8_t *)copy, LEN));
    uint8_t mx, mn, x;
    stats((const uint8_t *)text, LEN, &mx, &mn, &x);
    printf("max %u min %u xor %u\n", mx, mn, x);
    reverse(copy, LEN);
    printf("reversed starts %.20s\n", copy);
    /* Words: the longest, and how often "ab" occurs. */
    size_t best = 0, best_at = 0, run = 0, ab = 0;
    for (size_t i = 0; i <= LEN; i++) {
        if (i == LEN || is_space(text[i]) || text[i] == '.') {
            if (run > best) {
                best = run;
                best_at = i - run;
            }
            run = 0;
        } else {
            run++;
        }
    }
    for (const char *p = text; (p = strstr(p, "ab")); p++)
        ab++;
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)(best < 60 ? best : 60), text + best_at);
    printf("longest word %zu at %zu: %s\n", best, best_at, word);
    printf("\"ab\" occurs %zu times; first q at %ld\n", ab,
           (long)(strchr(text, 'q') ? strchr(text, 'q') - text : -1));
    return 0;
}
