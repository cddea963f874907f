/* Quicksort, merge sort, heap sort and insertion sort on 32- and 64-bit
 * integers, doubles and strings, each checked against the others. */
#include "rt.h"

#define N 6000

typedef int (*cmp_fn)(const void *, const void *);

static void swap_bytes(char *a, char *b, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

static void quicksort(void *base, size_t n, size_t size, cmp_fn cmp)
{
    char *b = base;
    while (n > 12) {
        char *pivot = b + (n / 2) * size;
        swap_bytes(pivot, b + (n - 1) * size, size);
        pivot = b + (n - 1) * size;
        size_t store = 0;
        for (size_t i = 0; i + 1 < n; i++)
            if (cmp(b + i * size, pivot) < 0)
                swap_bytes(b + i * size, b + store++ * size, size);
        swap_bytes(b + store * size, pivot, size);
        if (store < n - store - 1) {
            quicksort(b, store, size, cmp);
            b += (store + 1) * size;
            n -= store + 1;
        } else {
            quicksort(b + (store + 1) * size, n - store - 1, size, cmp);
            n = store;
        }
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp(b + (j - 1) * size, b + j * size) > 0; j--)
            swap_bytes(b + (j - 1) * size, b + j * size, size);
}

static int64_t tmp64[N];

static void merge_sort(int64_t *a, size_t n)
{
    if (n < 2)
        return;
    size_t m = n / 2;
    merge_sort(a, m);
    merge_sort(a + m, n - m);
    size_t i = 0, j = m, k = 0;
    while (i < m && j < n)
        tmp64[k++] = a[i] <= a[j] ? a[i++] : a[j++];
    while (i < m)
        tmp64[k++] = a[i++];
    while (j < n)
        tmp64[k++] = a[j++];
    memcpy(a, tmp64, n * sizeof *a);
}

static void sift(double *a, size_t start, size_t end)
{
    size_t root = start;
    while (2 * root + 1 < end) {
        size_t child = 2 * root + 1;
        if (child + 1 < end && a[child] < a[child + 1])
            child++;
        if (!(a[root] < a[child]))
            return;
        double t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

static void heap_sort(double *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(a, i, n);
    for (size_t end = n; end-- > 1;) {
        double t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift(a, 0, end);
    }
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}
static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int32_t a32[N];
static int64_t a64[N], b64[N];
static double af[N], bf[N];
static char strings[N][12];
static const char *sp[N];

int main(void)
{
    uint64_t seed = 99;
    for (int i = 0; i < N; i++) {
        uint64_t r = rt_rand(&seed);
        a32[i] = (int32_t)r;
        a64[i] = b64[i] = (int64_t)(r * 31) >> (r & 15);
        af[i] = bf[i] = (double)(int32_t)(r >> 20) / 1024.0 - (double)(r & 1023);
        for (int k = 0; k < 11; k++)
            strings[i][k] = (char)('a' + (rt_rand(&seed) % 26));
        strings[i][11] = 0;
        sp[i] = strings[i];
    }
    quicksort(a32, N, sizeof a32[0], cmp_i32);
    quicksort(a64, N, sizeof a64[0], cmp_i64);
    merge_sort(b64, N);
    quicksort(af, N, sizeof af[0], cmp_f64);
    heap_sort(bf, N);
    quicksort(sp, N, sizeof sp[0], cmp_str);
    int bad = 0;
    uint64_t h = 0;
    for (int i = 0; i < N; i++) {
        if (i && (a32[i - 1] > a32[i] || a64[i - 1] > a64[i] || strcmp(sp[i - 1], sp[i]) > 0))
            bad = 1;
        if (a64[i] != b64[i] || af[i] != bf[i])
            bad = 1;
        h = h * 1000003 + (uint64_t)a32[i] + (uint64_t)a64[i];
    }
    printf("i32 min %d max %d\n", a32[0], a32[N - 1]);
    printf("i64 min %lld max %lld\n", (long long)a64[0], (long long)a64[N - 1]);
    printf("f64 min %.3f max %.3f median %.6f\n", af[0], af[N - 1], af[N / 2]);
    printf("str first %s last %s\n", sp[0], sp[N - 1]);
    printf("hash %016llx sorted %s\n", (unsigned long long)h, bad ? "BAD" : "ok");
    return bad;
}
