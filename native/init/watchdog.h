/* The watchdog: what the sandbox as a whole holds, measured from inside at short intervals, so that
 * one execution cannot take the host's memory or grow its session's storage without bound.
 * Used by sandbox-init's main loop only (see watchdog.c for what is measured and how). */
#ifndef SANDBOX_WATCHDOG_H
#define SANDBOX_WATCHDOG_H

#include "init_report.h"

/* Takes one "--memory-max BYTES"-style option of sandbox-init's command line: 1 if it was one
 * (value consumed), 0 if the name is not the watchdog's. */
int watchdog_option(const char *name, const char *value);

/* Just before the command starts or is released: notes the time (storage changed from then on is
 * the command's, never part of the baseline). */
void watchdog_command_starts(void);

/* Just after the command started: walks the storage for the session's baseline and arms the
 * memory watchdog (the report says so), which samples from 10 ms on. A limit already over is
 * reported by the next watchdog_check. */
void watchdog_start(struct sandbox_report *report);

/* Milliseconds until the next measure is due, -1 when nothing is watched (for poll). */
int watchdog_poll_timeout(void);

/* Takes the measures that are due; returns the SANDBOX_LIMIT_* exceeded, or 0. The report gets
 * the figures (peak memory, storage) either way. */
uint32_t watchdog_check(struct sandbox_report *report);

/* Once every process has ended: the storage walked a last time, so that what was written after
 * the last walk counts too. Returns SANDBOX_LIMIT_DISK or _FILES when over, or 0. */
uint32_t watchdog_finish(struct sandbox_report *report);

#endif
