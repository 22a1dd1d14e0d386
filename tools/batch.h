/*
 * signcore batch: what the parts of the command share (cmd_batch.c runs the
 * jobs, batch_manifest.c reads the manifest, batch_job.c does one job).
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#ifndef SIGNCORE_BATCH_H
#define SIGNCORE_BATCH_H

#include <pthread.h>

#include "cli.h"

enum { JOB_PENDING, JOB_RUNNING, JOB_OK, JOB_FAILED, JOB_SKIPPED };

typedef struct {
	long line;          /* where the job starts in the manifest (1-based) */
	char *json;         /* the job as JSON text; NULL for a bad line */
	char *input, *output;       /* as written in the manifest */
	char *in_path, *out_path;   /* resolved against the manifest's folder */
	int state;
	char *reason;
	double ms;
} job;

typedef struct {
	const char *manifest;
	char *base;         /* folder of the manifest (NULL: current directory) */
	int csv;
	job *jobs;
	size_t njobs;
	int threads;
	int stop_on_error, resume, quiet, tty;
	const char *report;
	const char *format;     /* --format, or NULL to guess */
	cli_sign_args sa;
	cli_sign_setup setup;
	signcore_signer *signer;
	char *pdf_password;
	/* shared by the workers, under lock */
	pthread_mutex_t lock;
	size_t next, done, ok, failed, skipped;
	size_t to_run, ran;     /* jobs for the workers; how many they finished */
	long stopped_by;    /* line of the failure that stopped the run */
	double t0, last_draw;
} batch;


/* What a job asks for, borrowed from its parsed JSON object. */
typedef struct {
	json_t *root;
	const char *input, *output;
	json_t *spec, *values;      /* a path (string) or inline JSON */
	int place_only;             /* "mode": "place": keep live form fields */
	int flatten;                /* values only: flatten after filling */
	json_t *sign;               /* true, a level, or an object; NULL: no signature */
	json_t *audit;              /* audit events (see run_audit_step) */
} job_desc;

/* batch_job.c */
/* A copy of S (exits when out of memory), or NULL for NULL. */
char *batch_strdup(const char *s);
/* A new string, printf-style. */
char *batch_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* Format the reason of a failure into ERR; returns -1. */
int batch_err(char *err, size_t errsz, const char *f, ...) __attribute__((format(printf, 3, 4)));
/* Check the job object ROOT and borrow its parts into D; -1 with ERR set. */
int batch_job_parse(const batch *b, json_t *root, job_desc *d, char *err, size_t errsz);
/* Run job JB with the worker's context CTX; -1 with the reason in ERR. */
int batch_run_job(batch *b, signcore_ctx *ctx, job *jb, char *err, size_t errsz);

/* batch_manifest.c */
/* Read b->manifest into b->jobs; bad lines become failed jobs. Returns an
 * exit code when the manifest cannot be read at all. */
int batch_read_manifest(batch *b);
/* Fail the later of two jobs that write the same output. */
void batch_check_duplicates(batch *b);
/* Remove the temporary files a killed run left beside this manifest's
 * outputs; returns how many. */
size_t batch_remove_stale_temps(batch *b);
/* 1 if JB's output is complete and not older than its input (--resume). */
int batch_output_done(const job *jb);

#endif
