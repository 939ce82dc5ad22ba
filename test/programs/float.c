/*
 * float: f32 and f64 arithmetic, conversions, libm and strtod, printed with
 * %f, %e, %g and %a. Inputs go through volatile variables so that the work
 * happens at run time, not in the compiler. NaNs are tested, never printed:
 * the sign of a NaN that arithmetic produces is not fixed by WebAssembly.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile double vd[] = {0.1, -2.5, 3.14159265358979, 1e-300, 1e300, 123456.789, -0.0, 2.0 / 3.0};
static volatile float vf[] = {0.1f, -2.5f, 3.1415927f, 1e-30f, 1e30f, 123456.79f, 16777217.0f, 1.0f / 3.0f};

int main(void) {
    const int n = sizeof vd / sizeof *vd;
    for (int i = 0; i < n; i++) {
        double a = vd[i], b = vd[(i + 3) % n];
        printf("d%d: %f %e %g %a | sum %g diff %g prod %g quot %g\n", i, a, a, a, a, a + b, a - b, a * b, b != 0 ? a / b : 0.0);
    }
    for (int i = 0; i < n; i++) {
        float a = vf[i], b = vf[(i + 5) % n];
        printf("f%d: %f %e %g %a | sum %g prod %g quot %g\n", i, a, a, a, a, (double)(a + b), (double)(a * b), (double)(a / b));
    }

    double sum = 0;
    for (int i = 1; i <= 2000; i++) {
        double x = i * 0.01;
        sum += sqrt(x) + sin(x) * cos(x) + exp(-x) + log(x) + pow(x, 1.5) + fmod(x * 7.0, 3.0) + atan2(x, 1.0 + x) + tanh(x - 10);
    }
    printf("libm sum = %.12f\n", sum);
    printf("libm samples: %.17g %.17g %.17g %.17g %.17g\n", sqrt(vd[2]), sin(vd[5]), exp(vd[1]), log(vd[5]), pow(vd[2], vd[7]));
    float fs = 0;
    for (int i = 1; i <= 500; i++) fs += sqrtf((float)i) * sinf((float)i * 0.1f) + expf(-(float)i * 0.01f);
    printf("libm float sum = %.6f\n", (double)fs);

    const char *texts[] = {"3.25", "-1e-5", "6.02214076e23", "0x1.8p3", "inf", "1e400", "4.9e-324", "12abc"};
    for (unsigned i = 0; i < sizeof texts / sizeof *texts; i++) {
        char *end;
        double v = strtod(texts[i], &end);
        printf("strtod(\"%s\") = %.17g (%a), rest \"%s\"\n", texts[i], v, v, end);
    }

    printf("conversions:");
    for (int i = 0; i < n; i++) {
        double d = vd[i] * 1000;
        printf(" %d/%lld/%u", (int)fmax(fmin(d, 2e9), -2e9), (long long)fmax(fmin(d, 9e18), -9e18), (unsigned)fabs(fmin(d, 4e9)));
    }
    printf("\n");
    printf("rounding: %g %g %g %g %g %g\n", floor(vd[1]), ceil(vd[1]), trunc(vd[1]), round(vd[1]), nearbyint(vd[1]), rint(2.5 + vd[6]));
    printf("f32 of f64: %.9g %.9g, f64 of i64: %.17g\n", (double)(float)vd[2], (double)(float)vd[7], (double)(int64_t)0x7fffffffffffff01LL);

    volatile double zero = 0;
    double inf = 1 / zero, nan = zero / zero;
    printf("special: inf=%f -inf=%f isnan(0/0)=%d isinf=%d nan==nan: %d, fmin(nan,1)=%g, copysign(3,-0.0)=%g\n",
           inf, -inf, isnan(nan), isinf(inf), nan == nan, fmin(nan, 1.0), copysign(3.0, vd[6]));
    printf("min subnormal %a, max %a, epsilon %a\n", 4.9406564584124654e-324 * (1 + zero), 1.7976931348623157e308 * (1 + zero), 2.220446049250313e-16);
    return 0;
}
