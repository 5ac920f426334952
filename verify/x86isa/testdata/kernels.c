/*
 * forces: an all-pairs Lennard-Jones force loop, the demo workload of tailor.
 *
 * Positions live in separate arrays (structure of arrays) behind restrict
 * pointers, and the inner loop runs over i for a fixed j, so it has no
 * reduction and gcc -O3 vectorises it at any -march: SSE2 on x86_64,
 * AVX2 + FMA on x86_64_v3, AVX-512 on x86_64_v4. The target it was built
 * for is baked in with -DTAILOR_TARGET=<name> and printed with the timing.
 *
 * usage: forces [N [STEPS]]   (defaults 4096 particles, 8 steps)
 * prints: target=x86_64_v3 n=4096 steps=8 energy=... checksum=... time=0.123s
 *
 * Builds for different targets agree to about 1e-10 relative in energy
 * and checksum: FMA contraction changes the last bits, not more
 * (tolerance 1e-6 relative, see README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#ifndef TAILOR_TARGET
#define TAILOR_TARGET unknown
#endif

/* pairs adds to particles lo..hi-1 the forces and the halved pair energy
 * from particle (xj, yj, zj). The loop has no reduction and no branch, so
 * gcc -O3 vectorises it for whatever -march it is given. */
static inline void pairs(int lo, int hi, double xj, double yj, double zj,
                         const double *restrict x, const double *restrict y,
                         const double *restrict z, double *restrict fx,
                         double *restrict fy, double *restrict fz,
                         double *restrict e)
{
    for (int i = lo; i < hi; i++) {
        double dx = x[i] - xj, dy = y[i] - yj, dz = z[i] - zj;
        double r2 = dx * dx + dy * dy + dz * dz;
        double inv2 = 1.0 / r2;
        double inv6 = inv2 * inv2 * inv2;
        double f = 24.0 * inv6 * (2.0 * inv6 - 1.0) * inv2;
        fx[i] += f * dx;
        fy[i] += f * dy;
        fz[i] += f * dz;
        e[i] += 2.0 * inv6 * (inv6 - 1.0); /* half of 4 inv6 (inv6 - 1): each pair is seen twice */
    }
}

/* forces computes the Lennard-Jones forces on every particle and each
 * particle's share of the potential energy, over all pairs j != i. */
static void forces(int n, const double *restrict x, const double *restrict y,
                   const double *restrict z, double *restrict fx,
                   double *restrict fy, double *restrict fz,
                   double *restrict e)
{
    for (int i = 0; i < n; i++) {
        fx[i] = fy[i] = fz[i] = e[i] = 0.0;
    }
    for (int j = 0; j < n; j++) {
        pairs(0, j, x[j], y[j], z[j], x, y, z, fx, fy, fz, e);
        pairs(j + 1, n, x[j], y[j], z[j], x, y, z, fx, fy, fz, e);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4096;
    int steps = argc > 2 ? atoi(argv[2]) : 8;
    if (n < 2 || steps < 1) {
        fprintf(stderr, "usage: forces [N>=2 [STEPS>=1]]\n");
        return 2;
    }
    double *buf = calloc((size_t)n * 10, sizeof(double));
    if (buf == NULL) {
        fprintf(stderr, "forces: out of memory\n");
        return 1;
    }
    double *x = buf, *y = x + n, *z = y + n, *vx = z + n, *vy = vx + n,
           *vz = vy + n, *fx = vz + n, *fy = fx + n, *fz = fy + n, *e = fz + n;

    /* A jittered cubic lattice at spacing 1.2 (deterministic LCG). */
    int side = (int)ceil(cbrt((double)n));
    unsigned long long seed = 42;
    for (int i = 0; i < n; i++) {
        double jitter[3];
        for (int k = 0; k < 3; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            jitter[k] = ((seed >> 11) * (1.0 / 9007199254740992.0) - 0.5) * 0.1;
        }
        x[i] = 1.2 * (i % side) + jitter[0];
        y[i] = 1.2 * ((i / side) % side) + jitter[1];
        z[i] = 1.2 * (i / (side * side)) + jitter[2];
    }

    const double dt = 1e-4;
    double energy = 0.0;
    double t0 = now();
    for (int s = 0; s < steps; s++) {
        forces(n, x, y, z, fx, fy, fz, e);
        energy = 0.0;
        for (int i = 0; i < n; i++) {
            energy += e[i];
            vx[i] += dt * fx[i];
            vy[i] += dt * fy[i];
            vz[i] += dt * fz[i];
            x[i] += dt * vx[i];
            y[i] += dt * vy[i];
            z[i] += dt * vz[i];
        }
    }
    double elapsed = now() - t0;

    double checksum = 0.0;
    for (int i = 0; i < n; i++) {
        checksum += x[i] + y[i] + z[i];
    }
    printf("target=%s n=%d steps=%d energy=%.12e checksum=%.12e time=%.4fs\n",
           STR(TAILOR_TARGET), n, steps, energy, checksum, elapsed);
    free(buf);
    return 0;
}
