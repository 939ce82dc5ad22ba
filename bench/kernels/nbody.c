/*
 * nbody.c: f64 arithmetic through memory, with square roots.
 *
 * A small gravitational n-body simulation (8 bodies in a made-up planar-ish
 * system, symplectic Euler steps), bodies kept as structs in linear memory.
 * Stresses f64 load/store, mul/add/div and f64.sqrt.
 *
 * run(n): total energy of the system after n time steps, as an f64. Work is
 * linear in n (28 body pairs per step).
 */
#include "common.h"

#define NBODIES 8

struct body {
  double x, y, z, vx, vy, vz, mass;
};

static struct body bodies[NBODIES];

static void init(void) {
  /* A heavy central body and seven lighter ones on roughly circular orbits. */
  bodies[0] = (struct body){0, 0, 0, 0, 0, 0, 1000.0};
  for (int i = 1; i < NBODIES; i++) {
    double r = 10.0 * i;
    double v = __builtin_sqrt(1000.0 / r);
    double sign = (i & 1) ? 1.0 : -1.0;
    /* Alternate the axis the body starts on, and give each a slight tilt. */
    bodies[i] = (struct body){
        (i & 2) ? 0.0 : sign * r, (i & 2) ? sign * r : 0.0, 0.1 * i,
        (i & 2) ? -sign * v : 0.0, (i & 2) ? 0.0 : sign * v, 0.01 * (i - 4),
        0.5 + 0.25 * i};
  }
}

static void advance(double dt) {
  for (int i = 0; i < NBODIES; i++) {
    struct body *a = &bodies[i];
    for (int j = i + 1; j < NBODIES; j++) {
      struct body *b = &bodies[j];
      double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
      double d2 = dx * dx + dy * dy + dz * dz + 0.01; /* softened */
      double mag = dt / (d2 * __builtin_sqrt(d2));
      a->vx -= dx * b->mass * mag;
      a->vy -= dy * b->mass * mag;
      a->vz -= dz * b->mass * mag;
      b->vx += dx * a->mass * mag;
      b->vy += dy * a->mass * mag;
      b->vz += dz * a->mass * mag;
    }
  }
  for (int i = 0; i < NBODIES; i++) {
    struct body *a = &bodies[i];
    a->x += dt * a->vx;
    a->y += dt * a->vy;
    a->z += dt * a->vz;
  }
}

static double energy(void) {
  double e = 0.0;
  for (int i = 0; i < NBODIES; i++) {
    struct body *a = &bodies[i];
    e += 0.5 * a->mass * (a->vx * a->vx + a->vy * a->vy + a->vz * a->vz);
    for (int j = i + 1; j < NBODIES; j++) {
      struct body *b = &bodies[j];
      double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
      e -= a->mass * b->mass / __builtin_sqrt(dx * dx + dy * dy + dz * dz + 0.01);
    }
  }
  return e;
}

double run(i32 n) {
  init();
  for (i32 i = 0; i < n; i++) advance(0.001);
  return energy();
}
