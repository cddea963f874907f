/* Matrix and vector kernels: int32, float and double matrix products,
 * int8 and int16 dot products (widening multiplies), saxpy, and a 1-D
 * stencil, printed as checksums and a few values. */
#include "rt.h"

#define M 48

static int32_t ia[M][M], ib[M][M], ic[M][M];
static float fa[M][M], fb[M][M], fc[M][M];
static double da[M][M], db[M][M], dc[M][M];
static int8_t s8a[4096], s8b[4096];
static int16_t s16a[4096], s16b[4096];
static uint8_t u8a[4096];
static float xs[4096], ys[4096];

int main(void)
{
    uint64_t seed = 11;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            uint64_t r = rt_rand(&seed);
            ia[i][j] = (int32_t)(r % 2001) - 1000;
            ib[i][j] = (int32_t)((r >> 16) % 2001) - 1000;
            fa[i][j] = (float)ia[i][j] / 64.0f;
            fb[i][j] = (float)ib[i][j] / 32.0f;
            da[i][j] = (double)ia[i][j] / 3.0;
            db[i][j] = (double)ib[i][j] / 7.0;
        }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            int32_t s = 0;
            float f = 0;
            double d = 0;
            for (int k = 0; k < M; k++) {
                s += ia[i][k] * ib[k][j];
                f += fa[i][k] * fb[k][j];
                d += da[i][k] * db[k][j];
            }
            ic[i][j] = s;
            fc[i][j] = f;
            dc[i][j] = d;
        }
    int64_t isum = 0;
    double fsum = 0, dsum = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            isum += ic[i][j] * (int64_t)(i + j + 1);
            fsum += fc[i][j];
            dsum += dc[i][j] * (i - j);
        }
    printf("int32 matmul checksum %lld c[3][5] %d\n", (long long)isum, ic[3][5]);
    printf("float matmul sum %.3f c[7][1] %.4f\n", fsum, (double)fc[7][1]);
    printf("double matmul weighted %.4f c[0][0] %.6f\n", dsum, dc[0][0]);

    for (int i = 0; i < 4096; i++) {
        uint64_t r = rt_rand(&seed);
        s8a[i] = (int8_t)r;
        s8b[i] = (int8_t)(r >> 8);
        s16a[i] = (int16_t)(r >> 16);
        s16b[i] = (int16_t)(r >> 32);
        u8a[i] = (uint8_t)(r >> 48);
        xs[i] = (float)(int16_t)(r >> 24) / 256.0f;
        ys[i] = (float)i * 0.25f;
    }
    int32_t dot8 = 0;
    int64_t dot16 = 0;
    uint32_t sad = 0;
    for (int i = 0; i < 4096; i++) {
        dot8 += s8a[i] * s8b[i];
        dot16 += (int32_t)s16a[i] * s16b[i];
        int d = u8a[i] - (uint8_t)s8a[i];
        sad += (uint32_t)(d < 0 ? -d : d);
    }
    printf("dot int8 %d int16 %lld sad %u\n", dot8, (long long)dot16, sad);
    /* Saturating add of int16 (clamped by hand; compilers use SQADD). */
    int64_t satsum = 0;
    for (int i = 0; i < 4096; i++) {
        int32_t s = s16a[i] + s16b[i];
        s16a[i] = (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
        satsum += s16a[i];
    }
    printf("saturated int16 sum %lld\n", (long long)satsum);
    for (int i = 0; i < 4096; i++)
        ys[i] = 2.5f * xs[i] + ys[i];
    float st = 0;
    for (int i = 1; i < 4095; i++)
        st += 0.25f * ys[i - 1] + 0.5f * ys[i] + 0.25f * ys[i + 1];
    printf("saxpy ys[100] %.4f stencil %.2f\n", (double)ys[100], (double)st);
    /* Narrowing: int32 to uint8 with clamping. */
    uint32_t nsum = 0;
    for (int i = 0; i < M * M; i++) {
        int32_t v = ((int32_t *)ic)[i] >> 8;
        uint8_t b = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        nsum += b;
    }
    printf("narrowed sum %u\n", nsum);
    return 0;
}
