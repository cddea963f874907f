/* Floating point: series for exp/log/sin, square roots, fused
 * multiply-add, the FRINT family, conversions in both directions, min/max,
 * and the same arithmetic under every FPCR rounding mode and flush-to-zero,
 * with the FPSR flags it raised. */
#include "rt.h"

static double my_exp(double x)
{
    double term = 1, sum = 1;
    for (int i = 1; i < 30; i++) {
        term *= x / i;
        sum += term;
    }
    return sum;
}

static double my_log(double x)
{
    /* log(x) = 2 atanh((x-1)/(x+1)) */
    double y = (x - 1) / (x + 1), y2 = y * y, term = y, sum = 0;
    for (int i = 1; i < 60; i += 2) {
        sum += term / i;
        term *= y2;
    }
    return 2 * sum;
}

static double my_sin(double x)
{
    double term = x, sum = x;
    for (int i = 1; i < 15; i++) {
        term *= -x * x / ((2 * i) * (2 * i + 1));
        sum += term;
    }
    return sum;
}

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t get_fpsr(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, fpsr" : "=r"(v)::"memory");
    return v;
}

static void set_fpsr(uint64_t v)
{
    __asm__ volatile("msr fpsr, %0" ::"r"(v) : "memory");
}

static void set_fpcr(uint64_t v)
{
    __asm__ volatile("msr fpcr, %0" ::"r"(v) : "memory");
}

/* Operands the compiler cannot fold. */
static volatile double vd[8] = {1.0, 3.0, 1e308, 2.2250738585072014e-308, -0.1, 7.5, 1e-310, 0.0};
static volatile float vf[4] = {1.0f, 3.0f, 1e-40f, 16777217.0f};

/* Results go through volatile stores, which the compiler keeps between
 * the FPCR writes (it does not know that FPCR changes arithmetic). */
static volatile double rd[6];
static volatile float rf[2];
static volatile int64_t ri;

static void rounding_mode_table(void)
{
    static const char *names[4] = {"RN", "RP", "RM", "RZ"};
    for (int mode = 0; mode < 4; mode++) {
        for (int fz = 0; fz < 2; fz++) {
            set_fpcr((uint64_t)mode << 22 | (uint64_t)fz << 24);
            set_fpsr(0);
            rd[0] = vd[0] / vd[1];
            rd[1] = vd[2] * vd[5];
            rd[2] = vd[3] / vd[1];
            rd[3] = vd[4] / vd[1];
            rd[4] = vd[6] * vd[0];
            rf[0] = vf[0] / vf[1];
            rf[1] = vf[2] * vf[0];
            rd[5] = (double)(float)(vd[4]);
            ri = (int64_t)(vd[5] * 1e18);
            uint64_t fpsr = get_fpsr();
            set_fpcr(0);
            printf("%s fz%d: q %016llx big %016llx tiny %016llx neg %016llx sub %016llx\n",
                   names[mode], fz, (unsigned long long)bits(rd[0]),
                   (unsigned long long)bits(rd[1]), (unsigned long long)bits(rd[2]),
                   (unsigned long long)bits(rd[3]), (unsigned long long)bits(rd[4]));
            printf("%s fz%d: fq %08x fsub %08x conv %016llx toi %lld fpsr %08llx\n", names[mode],
                   fz, fbits(rf[0]), fbits(rf[1]), (unsigned long long)bits(rd[5]),
                   (long long)ri, (unsigned long long)fpsr);
        }
    }
}

static double arr[1024];
static float farr[1024];
static int32_t iarr[1024];

int main(void)
{
    printf("exp(1) %.9f exp(-2.5) %.9f\n", my_exp(1.0), my_exp(-2.5));
    printf("log(2) %.9f log(10) %.9f\n", my_log(2.0), my_log(10.0));
    printf("sin(0.5) %.9f sin(3) %.9f\n", my_sin(0.5), my_sin(3.0));
    double s = 0;
    for (int i = 1; i <= 1024; i++) {
        arr[i - 1] = __builtin_sqrt((double)i) * 1.5 - 3.25;
        farr[i - 1] = __builtin_sqrtf((float)i / 3.0f);
    }
    for (int i = 0; i < 1024; i++)
        s += __builtin_fma(arr[i], arr[(i + 1) & 1023], -1.0);
    printf("sqrt fma sum %.6f bits %016llx\n", s, (unsigned long long)bits(s));
    uint64_t h = 0;
    for (int i = 0; i < 1024; i++) {
        double x = arr[i];
        h = h * 31 + bits(__builtin_floor(x)) + 3 * bits(__builtin_ceil(x)) +
            5 * bits(__builtin_trunc(x)) + 7 * bits(__builtin_round(x)) +
            11 * bits(__builtin_nearbyint(x)) + 13 * bits(__builtin_fmin(x, 0.5)) +
            17 * bits(__builtin_fmax(x, -0.5));
        iarr[i] = (int32_t)(x * 1000.0);
    }
    printf("frint/minmax hash %016llx\n", (unsigned long long)h);
    /* Vectorizable conversions and float arithmetic. */
    float fs = 0;
    int64_t is = 0;
    for (int i = 0; i < 1024; i++) {
        farr[i] = farr[i] * 2.0f + (float)iarr[i] / 1000.0f;
        iarr[i] = (int32_t)farr[i];
    }
    for (int i = 0; i < 1024; i++) {
        fs += farr[i];
        is += iarr[i];
    }
    printf("float sum %.3f int sum %lld\n", (double)fs, (long long)is);
    /* Conversions at the edges. */
    volatile double edge[] = {-0.0, 0.5, -1.5, 2147483648.0, -2147483649.0, 1e20, -1e20, 4294967295.5};
    for (int i = 0; i < 8; i++) {
        double e = edge[i];
        printf("conv %d: i32 %d u32 %u i64 %lld u64 %llu f32 %08x\n", i, (int32_t)(e > 2147483647.0 || e < -2147483648.0 ? 0 : e),
               (uint32_t)(e >= 0 && e < 4294967296.0 ? e : 0), (long long)(e > -9.2e18 && e < 9.2e18 ? e : 0),
               (unsigned long long)(e >= 0 && e < 1.8e19 ? e : 0), fbits((float)e));
    }
    rounding_mode_table();
    return 0;
}
