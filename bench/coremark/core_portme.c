/*
 * core_portme.c: wasmhive's port of CoreMark to freestanding wasm32.
 *
 * Not part of the EEMBC sources. It supplies what a CoreMark port must (the
 * seeds, the timer, portable_init/fini, ee_printf) and the module's exports:
 *
 *   run(n)     runs CoreMark's main() (core_main.c, unchanged; build.sh
 *              renames it coremark_main) with n iterations and the
 *              performance-run seeds 0x0, 0x0, 0x66 (TOTAL_DATA_SIZE 2000,
 *              so 666 bytes per algorithm: "2K performance run parameters",
 *              seedcrc 0xe9f5). Every call starts from scratch (main
 *              re-initialises the list, matrix and state data), so run(n)
 *              returns the same value every time. The result is
 *                  crcfinal | (failures << 16)
 *              where crcfinal is CoreMark's final CRC (16 bits) and failures
 *              is 0 when CoreMark's self-validation passed; otherwise its bits
 *              say what failed (FAIL_* below). So a valid run returns exactly
 *              crcfinal, a number in [0, 0xffff].
 *   report(i)  field i of the last run's report (REPORT_* below), as CoreMark
 *              printed it.
 *
 * How validation is read: core_main.c validates itself and reports through
 * ee_printf (which, without stdio, the port provides). Our ee_printf prints
 * nothing; it recognises the lines of CoreMark's report by their format
 * strings and keeps their values: which known parameter set the seeds
 * matched ("... run parameters for coremark."), each "ERROR!" line (a list,
 * matrix or state CRC that differs from the known one, or a bad data type),
 * and the seedcrc, crclist, crcmatrix, crcstate and crcfinal lines. The one
 * error ignored is "Must execute for at least 10 secs": time is measured by
 * the host around run(n), not by CoreMark, whose ticks here are always 0.
 */
#include <stdarg.h>
#include "coremark.h"

/* Seeds: the performance run. seed4 is the iteration count, set by run(n). */
volatile ee_s32 seed1_volatile = 0x0;
volatile ee_s32 seed2_volatile = 0x0;
volatile ee_s32 seed3_volatile = 0x66;
volatile ee_s32 seed4_volatile = 1;
volatile ee_s32 seed5_volatile = 0; /* 0: run all algorithms */

ee_u32 default_num_contexts = 1;

/* Timer: the host times run(n); CoreMark's own ticks are always 0. */
void
start_time(void)
{
}
void
stop_time(void)
{
}
CORE_TICKS
get_time(void)
{
    return 0;
}
secs_ret
time_in_secs(CORE_TICKS ticks)
{
    return (secs_ret)ticks;
}

void
portable_init(core_portable *p, int *argc, char *argv[])
{
    (void)argc;
    (void)argv;
    if (sizeof(ee_ptr_int) != sizeof(ee_u8 *))
        ee_printf("ERROR! Please define ee_ptr_int to a type that holds a pointer!\n");
    if (sizeof(ee_u32) != 4)
        ee_printf("ERROR! Please define ee_u32 to a 32b unsigned type!\n");
    p->portable_id = 1;
}

void
portable_fini(core_portable *p)
{
    p->portable_id = 0;
}

/* ---- The report, read from CoreMark's ee_printf lines. ---- */

enum
{
    REPORT_FAILURES = 0,  /* the FAIL_* bits */
    REPORT_KNOWN_ID,      /* 0..4: which known parameter set; -1: none */
    REPORT_SEEDCRC,       /* 0xe9f5 for the 2K performance run */
    REPORT_CRCLIST,       /* known: 0xe714 */
    REPORT_CRCMATRIX,     /* known: 0x1fd7 */
    REPORT_CRCSTATE,      /* known: 0x8e3a */
    REPORT_CRCFINAL,      /* depends on the iteration count */
    REPORT_SIZE,          /* bytes per algorithm: 666 */
    REPORT_ITERATIONS,
    REPORT_ERRORS,        /* "ERROR!" lines, less the 10-second rule */
    REPORT_FIELDS
};

#define FAIL_PARAMETERS 0x01 /* not the 2K performance run parameters */
#define FAIL_LIST       0x02 /* CoreMark reported a wrong list CRC */
#define FAIL_MATRIX     0x04 /* ... a wrong matrix CRC */
#define FAIL_STATE      0x08 /* ... a wrong state CRC */
#define FAIL_OTHER      0x10 /* ... another error (data types) */
#define FAIL_INCOMPLETE 0x20 /* the report lacks a crc line */
#define FAIL_BAD_N      0x40 /* n < 1: not run */

#define KNOWN_ID_2K_PERFORMANCE 3 /* core_main.c's known_id for seedcrc 0xe9f5 */

static ee_s32 report_fields[REPORT_FIELDS];
static ee_u32 lines_seen; /* bit per REPORT_* field seen */

static int
starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return 0;
    return 1;
}

static int
contains(const char *s, const char *part)
{
    for (; *s; s++)
        if (starts_with(s, part))
            return 1;
    return 0;
}

/* The messages core_main.c prints for its known seeds, in known_id order. */
static const char *const known_messages[] = {
    "6k performance run parameters for coremark.",
    "6k validation run parameters for coremark.",
    "Profile generation run parameters for coremark.",
    "2K performance run parameters for coremark.",
    "2K validation run parameters for coremark.",
};

static void
keep(int field, ee_s32 value)
{
    report_fields[field] = value;
    lines_seen |= 1u << field;
}

int
ee_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (int i = 0; i < (int)(sizeof known_messages / sizeof known_messages[0]); i++)
        if (starts_with(fmt, known_messages[i]))
            keep(REPORT_KNOWN_ID, i);
    if (contains(fmt, "ERROR!"))
    {
        if (contains(fmt, "list crc"))
            report_fields[REPORT_FAILURES] |= FAIL_LIST;
        else if (contains(fmt, "matrix crc"))
            report_fields[REPORT_FAILURES] |= FAIL_MATRIX;
        else if (contains(fmt, "state crc"))
            report_fields[REPORT_FAILURES] |= FAIL_STATE;
        else if (!contains(fmt, "Must execute for at least 10 secs"))
            report_fields[REPORT_FAILURES] |= FAIL_OTHER;
        if (!contains(fmt, "Must execute for at least 10 secs"))
            report_fields[REPORT_ERRORS]++;
    }
    else if (starts_with(fmt, "seedcrc "))
        keep(REPORT_SEEDCRC, va_arg(ap, int));
    else if (starts_with(fmt, "CoreMark Size "))
        keep(REPORT_SIZE, (ee_s32)va_arg(ap, unsigned long));
    else if (starts_with(fmt, "Iterations "))
        keep(REPORT_ITERATIONS, (ee_s32)va_arg(ap, unsigned long));
    else if (starts_with(fmt, "[%d]crc"))
    {
        int context = va_arg(ap, int);
        int crc     = va_arg(ap, int);
        if (context == 0)
        {
            if (starts_with(fmt, "[%d]crclist "))
                keep(REPORT_CRCLIST, crc);
            else if (starts_with(fmt, "[%d]crcmatrix "))
                keep(REPORT_CRCMATRIX, crc);
            else if (starts_with(fmt, "[%d]crcstate "))
                keep(REPORT_CRCSTATE, crc);
            else if (starts_with(fmt, "[%d]crcfinal "))
                keep(REPORT_CRCFINAL, crc);
        }
    }
    va_end(ap);
    return 0;
}

/* core_main.c's main(), renamed by build.sh. */
int coremark_main(void);

__attribute__((export_name("report"))) int
report(int field)
{
    return field >= 0 && field < REPORT_FIELDS ? report_fields[field] : 0;
}

__attribute__((export_name("run"))) int
run(int n)
{
    for (int i = 0; i < REPORT_FIELDS; i++)
        report_fields[i] = 0;
    report_fields[REPORT_KNOWN_ID] = -1;
    lines_seen = 0;
    if (n < 1)
    {
        /* Iterations 0 would make CoreMark time itself for 10 s: refuse. */
        report_fields[REPORT_FAILURES] = FAIL_BAD_N;
        return FAIL_BAD_N << 16;
    }
    seed1_volatile = 0x0;
    seed2_volatile = 0x0;
    seed3_volatile = 0x66;
    seed4_volatile = n;
    seed5_volatile = 0;

    coremark_main();

    ee_s32 failures = report_fields[REPORT_FAILURES];
    if (report_fields[REPORT_KNOWN_ID] != KNOWN_ID_2K_PERFORMANCE
        || report_fields[REPORT_SEEDCRC] != 0xe9f5)
        failures |= FAIL_PARAMETERS;
    ee_u32 needed = (1u << REPORT_SEEDCRC) | (1u << REPORT_CRCLIST)
                    | (1u << REPORT_CRCMATRIX) | (1u << REPORT_CRCSTATE)
                    | (1u << REPORT_CRCFINAL);
    if ((lines_seen & needed) != needed)
        failures |= FAIL_INCOMPLETE;
    report_fields[REPORT_FAILURES] = failures;
    return (report_fields[REPORT_CRCFINAL] & 0xffff) | (failures << 16);
}
