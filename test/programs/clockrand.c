/*
 * clockrand: clocks, sleeps and randomness. Under wasmhive's virtual clock
 * and seeded random stream every number it prints is deterministic; under
 * real clocks the elapsed times are at least the time slept.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long ns_of(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static long long now(clockid_t c) {
    struct timespec t;
    if (clock_gettime(c, &t) != 0) return -1;
    return ns_of(t);
}

static struct timespec timespec_of(long long ns) {
    struct timespec t = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
    return t;
}

int main(void) {
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    printf("monotonic resolution: %lld ns\n", ns_of(res));

    long long m0 = now(CLOCK_MONOTONIC), r0 = now(CLOCK_REALTIME);
    printf("monotonic at start: %lld\n", m0);
    printf("realtime at start: %lld.%09lld\n", r0 / 1000000000LL, r0 % 1000000000LL);
    time_t t = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    printf("date at start: %s\n", date);
    printf("cpu time at start: %lld\n", now(CLOCK_PROCESS_CPUTIME_ID));

    long long before = now(CLOCK_MONOTONIC);
    struct timespec d = timespec_of(1500000);
    nanosleep(&d, NULL);
    printf("nanosleep(1.5 ms): monotonic advanced %lld ns\n", now(CLOCK_MONOTONIC) - before);

    before = now(CLOCK_MONOTONIC);
    usleep(250000);
    printf("usleep(250 ms): monotonic advanced %lld ns\n", now(CLOCK_MONOTONIC) - before);

    before = now(CLOCK_MONOTONIC);
    sleep(1);
    printf("sleep(1): monotonic advanced %lld ns\n", now(CLOCK_MONOTONIC) - before);

    before = now(CLOCK_MONOTONIC);
    poll(NULL, 0, 20);
    printf("poll(no fds, 20 ms): monotonic advanced %lld ns\n", now(CLOCK_MONOTONIC) - before);

    struct pollfd pfd = {.fd = 1, .events = POLLOUT};
    before = now(CLOCK_MONOTONIC);
    int ready = poll(&pfd, 1, 5000);
    long long waited = now(CLOCK_MONOTONIC) - before;
    printf("poll(stdout, 5 s): %d ready, POLLOUT=%d, waited under 1 s: %d\n", ready, (pfd.revents & POLLOUT) != 0, waited < 1000000000LL);

    struct timespec until = timespec_of(r0 + 3000000000LL);
    clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL);
    long long r1 = now(CLOCK_REALTIME);
    printf("clock_nanosleep(REALTIME, until start + 3 s): realtime is start + %lld ns\n", r1 - r0);

    until = timespec_of(now(CLOCK_MONOTONIC) + 5000000);
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    printf("clock_nanosleep(MONOTONIC, +5 ms absolute): reached=%d\n", now(CLOCK_MONOTONIC) >= ns_of(until));

    long long m1 = now(CLOCK_MONOTONIC);
    printf("monotonic elapsed in total: %lld ns\n", m1 - m0);
    int monotonic = 1;
    for (int i = 0; i < 1000; i++) {
        long long m = now(CLOCK_MONOTONIC);
        monotonic &= m >= m1;
        m1 = m;
    }
    printf("monotonic never went back: %d\n", monotonic);
    t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    printf("date at end: %s\n", date);

    unsigned char bytes[16];
    if (getentropy(bytes, sizeof bytes) != 0) return 1;
    printf("getentropy:");
    for (unsigned i = 0; i < sizeof bytes; i++) printf(" %02x", bytes[i]);
    printf("\n");
    printf("arc4random: %08x %08x %08x %08x\n", arc4random(), arc4random(), arc4random(), arc4random());
    printf("arc4random_uniform(100):");
    for (int i = 0; i < 10; i++) printf(" %u", arc4random_uniform(100));
    printf("\n");
    return 0;
}
