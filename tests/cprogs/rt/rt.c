/* The C corpus runtime (see rt.h). Compiled with -fno-builtin so the
 * string functions are not turned into calls to themselves. */
#include "rt.h"

#define UART_DR ((volatile uint32_t *)0x09000000)
#define UART_FR ((volatile uint32_t *)0x09000018)
#define PSCI_SYSTEM_OFF 0x84000008u

int putchar(int c)
{
    *UART_DR = (uint32_t)(unsigned char)c;
    return (unsigned char)c;
}

static void put_str(const char *s)
{
    while (*s)
        putchar(*s++);
}

int puts(const char *s)
{
    put_str(s);
    putchar('\n');
    return 0;
}

static __attribute__((noreturn)) void power_off(void)
{
    register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;
    __asm__ volatile("hvc #0" : "+r"(x0)::"memory");
    for (;;)
        __asm__ volatile("wfe");
}

void rt_exception(uint64_t vector, uint64_t esr, uint64_t elr, uint64_t far)
{
    printf("EXCEPTION vector %llu ESR %#llx ELR %#llx FAR %#llx\n",
           (unsigned long long)vector, (unsigned long long)esr,
           (unsigned long long)elr, (unsigned long long)far);
    power_off();
}

void rt_main(void)
{
    int code = main();
    printf("exit %d\n", code);
    power_off();
}

uint64_t rt_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* ---- string functions ---- */

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

char *strstr(const char *h, const char *n)
{
    size_t len = strlen(n);
    for (; *h; h++)
        if (!strncmp(h, n, len))
            return (char *)h;
    return len ? NULL : (char *)h;
}

char *strcpy(char *dst, const char *src)
{
    char *d = dst;
    while ((*d++ = *src++))
        ;
    return dst;
}

/* ---- printf ---- */

struct out {
    char *buf;
    size_t size, len;
};

static void emit(struct out *o, char c)
{
    if (o->buf) {
        if (o->len + 1 < o->size)
            o->buf[o->len] = c;
    } else {
        putchar(c);
    }
    o->len++;
}

static void emit_padded(struct out *o, const char *s, size_t n, int width,
                        int left, char pad)
{
    int fill = width > (int)n ? width - (int)n : 0;
    if (!left && pad == '0' && n && (*s == '-' || *s == '+')) {
        emit(o, *s++);
        n--;
    }
    if (!left)
        while (fill--)
            emit(o, pad);
    while (n--)
        emit(o, *s++);
    if (left)
        while (fill-- > 0)
            emit(o, ' ');
}

/* Unsigned `v` in `base` into the end of `tmp`; returns the first digit. */
static char *utoa(char *end, unsigned long long v, unsigned base, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        *--p = digits[v % base];
        v /= base;
    } while (v);
    return p;
}

/* %f with `prec` decimals, by scaling into a 64-bit integer: exact for
 * the magnitudes the corpus prints (|v| < 1e12, prec <= 9). */
static char *ftoa(char *end, double v, int prec, int *neg)
{
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    char *p = end;
    if (v != v) {
        *neg = 0;
        return memcpy(p - 3, "nan", 3);
    }
    *neg = v < 0 || (v == 0 && 1 / v < 0);
    if (*neg)
        v = -v;
    if (v > 1e12) {
        return memcpy(p - 3, "big", 3);
    }
    if (prec > 9)
        prec = 9;
    double scaled = v * pow10[prec] + 0.5;
    unsigned long long whole = (unsigned long long)scaled;
    unsigned long long ip = whole, fp = 0;
    for (int i = 0; i < prec; i++)
        ip /= 10;
    fp = whole - ip * (unsigned long long)pow10[prec];
    if (prec) {
        for (int i = 0; i < prec; i++) {
            *--p = (char)('0' + fp % 10);
            fp /= 10;
        }
        *--p = '.';
    }
    return utoa(p, ip, 10, 0);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    char tmp[72];
    char *end = tmp + sizeof tmp;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(&o, *fmt);
            continue;
        }
        fmt++;
        int left = 0, alt = 0, plus = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-')
                left = 1;
            else if (*fmt == '0')
                pad = '0';
            else if (*fmt == '#')
                alt = 1;
            else if (*fmt == '+')
                plus = 1;
            else
                break;
        }
        int width = 0, prec = -1;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        if (*fmt == '.') {
            prec = 0;
            fmt++;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            }
            while (*fmt >= '0' && *fmt <= '9')
                prec = prec * 10 + (*fmt++ - '0');
        }
        int lng = 0;
        while (*fmt == 'l') {
            lng++;
            fmt++;
        }
        if (*fmt == 'z') {
            lng = 2;
            fmt++;
        }
        char *p;
        switch (*fmt) {
        case 'd':
        case 'i': {
            long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
            unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            p = utoa(end, u, 10, 0);
            if (v < 0)
                *--p = '-';
            else if (plus)
                *--p = '+';
            emit_padded(&o, p, (size_t)(end - p), width, left, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            unsigned long long v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
            p = utoa(end, v, base, *fmt == 'X');
            if (alt && base == 16 && v) {
                *--p = 'x';
                *--p = '0';
            }
            emit_padded(&o, p, (size_t)(end - p), width, left, pad);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            p = utoa(end, v, 16, 0);
            *--p = 'x';
            *--p = '0';
            emit_padded(&o, p, (size_t)(end - p), width, left, pad);
            break;
        }
        case 'f': {
            int neg;
            p = ftoa(end, va_arg(ap, double), prec < 0 ? 6 : prec, &neg);
            if (neg)
                *--p = '-';
            else if (plus)
                *--p = '+';
            emit_padded(&o, p, (size_t)(end - p), width, left, pad);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            size_t n = strlen(s);
            if (prec >= 0 && (size_t)prec < n)
                n = (size_t)prec;
            emit_padded(&o, s, n, width, left, ' ');
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            emit_padded(&o, &c, 1, width, left, ' ');
            break;
        }
        case '%':
            emit(&o, '%');
            break;
        default:
            emit(&o, '?');
            break;
        }
    }
    if (buf && size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    return n;
}
