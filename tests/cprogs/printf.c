/* The runtime's printf and snprintf: integers of every width and base,
 * padding, precision, strings, characters and fixed-point doubles,
 * checked against the expected text. */
#include "rt.h"

int main(void)
{
    char b[80];
    int bad = 0, n;
#define CHECK(want, ...)                                                                   \
    do {                                                                                   \
        n = snprintf(b, sizeof b, __VA_ARGS__);                                            \
        int ok = !strcmp(b, want) && n == (int)strlen(want);                               \
        printf("%-4s [%s]\n", ok ? "ok" : "BAD", b);                                       \
        bad |= !ok;                                                                        \
    } while (0)
    CHECK("42", "%d", 42);
    CHECK("-2147483648", "%d", (int)0x80000000);
    CHECK("18446744073709551615", "%llu", ~0ull);
    CHECK("-9223372036854775808", "%lld", (long long)0x8000000000000000ull);
    CHECK("  7|7  |007", "%3d|%-3d|%03d", 7, 7, 7);
    CHECK("ff FF 0xff 377", "%x %X %#x %o", 255, 255, 255, 255);
    CHECK("deadbeefcafe", "%llx", 0xdeadbeefcafeull);
    CHECK("[abc] [  abc] [ab]", "[%s] [%5s] [%.2s]", "abc", "abc", "abc");
    CHECK("c=x %", "c=%c %%", 'x');
    CHECK("3.141593 2.72 -0.500 10", "%f %.2f %.3f %.0f", 3.14159265, 2.71828, -0.5, 9.5);
    CHECK("+5 -5 0.000001", "%+d %+d %.6f", 5, -5, 0.000001);
    CHECK("   -1.50", "%8.2f", -1.5);
    CHECK("[ab ]", "[%-3.*s]", 2, "abc");
    CHECK("1234567890.123", "%.3f", 1234567890.1234);
    n = snprintf(b, 8, "%s", "truncated text");
    printf("%-4s [%s] %d\n", n == 14 && !strcmp(b, "truncat") ? "ok" : "BAD", b, n);
    bad |= n != 14 || strcmp(b, "truncat");
    long acc = 0;
    for (int i = 0; i < 3000; i++) {
        n = snprintf(b, sizeof b, "%d:%x:%.3f:%s", i * 7919, i * 31, i / 7.0, i & 1 ? "odd" : "even");
        acc += n * (i % 13) + b[n / 2];
    }
    printf("bulk %ld\n", acc);
    return bad;
}
