/*
 * signcore batch: run the jobs of a manifest (JSON Lines or CSV) on several
 * threads, each with a context of its own, the credentials loaded once.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "batch.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256

static const char batch_usage[] =
	"usage: signcore batch MANIFEST [-j N] [--stop-on-error] [--report FILE] [--resume]\n"
	"                      [credentials and signing options of signcore sign]\n\n"
	"Run every job of MANIFEST (- = standard input): JSON Lines, one object a line,\n"
	"or CSV with a header row (detected from the extension .jsonl/.csv, else from the\n"
	"first character). A job opens \"input\", stamps or places a field \"spec\" and/or\n"
	"fills \"values\", optionally signs (\"sign\"), and writes \"output\" atomically.\n"
	"Relative paths are relative to the manifest's folder. See signcore(1).\n\n"
	"  -j, --jobs N            parallel jobs (default: the number of online CPUs)\n"
	"      --continue-on-error a failed job does not stop the others (the default)\n"
	"      --stop-on-error     start no new job after one has failed\n"
	"      --resume            skip jobs whose output is complete (exists, ends with\n"
	"                          %%EOF and is not older than the input)\n"
	"      --report FILE       write the JSON summary to FILE instead of standard output\n"
	"      --format jsonl|csv  do not guess the manifest format\n"
	"  -q, --quiet             no progress on standard error\n"
	"credentials (loaded once; needed when a job signs):\n"
	"      --p12 FILE [--password-file F | --password-env VAR] | --key K --cert C [--chain CH]\n"
	"defaults for the \"sign\" step of every job (a job may override level, field,\n"
	"page, rect, units, invisible, reason, location, contact, name, appearance):\n"
	"      --level, --page, --rect, --units, --invisible, --appearance, --field, --reason,\n"
	"      --location, --contact, --name, --certify, --lock-fields, --subfilter, --digest,\n"
	"      --pss, --tsa URL, --tsa-auth-env, --trust, --allow-missing-revocation\n"
	"      --pdf-password-file F / --pdf-password-env VAR   password of encrypted inputs\n\n"
	"exit codes: 0 every job succeeded or was already done, 1 a job failed,\n"
	"2 usage error, unreadable manifest or credentials (no job ran)\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = 1;
	signal(sig, SIG_DFL); /* a second one ends the process */
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- progress */

static void draw_bar(batch *b, int final)
{
	double el = now_s() - b->t0, rate, eta;
	size_t i, fill = b->done * 30 / b->njobs;
	char bar[31];

	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = 0;
	rate = el > 0 ? b->ran / el : 0;
	eta = rate > 0 && b->to_run > b->ran ? (b->to_run - b->ran) / rate : 0;
	fprintf(stderr, "\r\033[K[%s] %zu/%zu  ok %zu  failed %zu  skipped %zu  %.1f docs/s  ETA %d:%02d%s", bar,
		b->done, b->njobs, b->ok, b->failed, b->skipped, rate, (int)eta / 60, (int)eta % 60, final ? "\n" : "");
	fflush(stderr);
}

/* Record the end of a job (called with b->lock held). */
static void job_finished(batch *b, job *jb)
{
	double t;

	b->done++;
	if (jb->state == JOB_OK)
		b->ok++;
	else if (jb->state == JOB_FAILED)
		b->failed++;
	else
		b->skipped++;
	if (b->quiet)
		return;
	if (b->tty) {
		t = now_s();
		if (t - b->last_draw >= 0.1 || b->done == b->njobs) {
			b->last_draw = t;
			draw_bar(b, 0);
		}
	} else if (jb->state == JOB_OK) {
		fprintf(stderr, "signcore: batch: line %ld: ok: %s (%.1f ms)\n", jb->line, jb->output, jb->ms);
	} else if (jb->state == JOB_FAILED) {
		fprintf(stderr, "signcore: batch: line %ld: failed: %s\n", jb->line, jb->reason);
	}
}

static void *worker(void *arg)
{
	batch *b = arg;
	signcore_ctx *ctx = NULL;
	char err[2048];
	job *jb;
	double t;
	int rc;

	if (signcore_ctx_new(&ctx))
		return NULL; /* its jobs are left to the other threads */
	for (;;) {
		pthread_mutex_lock(&b->lock);
		while (b->next < b->njobs && b->jobs[b->next].state != JOB_PENDING)
			b->next++;
		if (b->next >= b->njobs || interrupted || b->stopped_by) {
			pthread_mutex_unlock(&b->lock);
			break;
		}
		jb = &b->jobs[b->next++];
		jb->state = JOB_RUNNING;
		pthread_mutex_unlock(&b->lock);

		t = now_s();
		rc = batch_run_job(b, ctx, jb, err, sizeof err);
		jb->ms = (now_s() - t) * 1000;

		pthread_mutex_lock(&b->lock);
		jb->state = rc ? JOB_FAILED : JOB_OK;
		b->ran++;
		if (rc) {
			jb->reason = batch_fmt("%s", err);
			if (b->stop_on_error && !b->stopped_by)
				b->stopped_by = jb->line;
		}
		job_finished(b, jb);
		pthread_mutex_unlock(&b->lock);
	}
	signcore_ctx_free(ctx);
	return NULL;
}

/* ------------------------------------------------------------------ report */

static int write_report(batch *b, double seconds)
{
	json_t *r = json_object(), *list = json_array();
	const char *names[] = { "pending", "running", "ok", "failed", "skipped" };
	char *text, *tmp = NULL;
	size_t i, notrun = 0;
	struct stat st;
	FILE *f;
	int rc = 0;

	for (i = 0; i < b->njobs; i++) {
		job *jb = &b->jobs[i];
		json_t *o = json_pack("{sIss}", "line", (json_int_t)jb->line, "status",
			names[jb->state == JOB_PENDING || jb->state == JOB_RUNNING ? JOB_SKIPPED : jb->state]);
		if (jb->input)
			json_object_set_new(o, "input", json_string(jb->input));
		if (jb->output)
			json_object_set_new(o, "output", json_string(jb->output));
		if (jb->state == JOB_OK)
			json_object_set_new(o, "ms", json_real((double)(long)(jb->ms * 10 + 0.5) / 10));
		if (jb->state == JOB_PENDING || jb->state == JOB_RUNNING) {
			notrun++;
			json_object_set_new(o, "reason", json_string(
				interrupted ? "not run: the batch was interrupted"
				: b->stopped_by ? "not run: --stop-on-error after an earlier failure"
				: "not run: no worker could start"));
		} else if (jb->reason) {
			json_object_set_new(o, "reason", json_string(jb->reason));
		}
		json_array_append_new(list, o);
	}
	json_object_set_new(r, "manifest", json_string(b->manifest));
	json_object_set_new(r, "format", json_string(b->csv ? "csv" : "jsonl"));
	json_object_set_new(r, "jobs", json_integer((json_int_t)b->njobs));
	json_object_set_new(r, "ok", json_integer((json_int_t)b->ok));
	json_object_set_new(r, "failed", json_integer((json_int_t)b->failed));
	json_object_set_new(r, "skipped", json_integer((json_int_t)(b->skipped + notrun)));
	json_object_set_new(r, "threads", json_integer(b->threads));
	json_object_set_new(r, "seconds", json_real((double)(long)(seconds * 1000 + 0.5) / 1000));
	json_object_set_new(r, "per_second",
		json_real(seconds > 0 ? (double)(long)((b->ok + b->failed) / seconds * 10 + 0.5) / 10 : 0));
	if (b->stopped_by)
		json_object_set_new(r, "stopped_by_line", json_integer(b->stopped_by));
	if (interrupted)
		json_object_set_new(r, "interrupted", json_true());
	json_object_set_new(r, "results", list);
	text = json_dumps(r, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(r);
	if (!text) {
		cli_error("batch: out of memory");
		return EXIT_FAILED;
	}
	if (!b->report || !strcmp(b->report, "-")) {
		if (printf("%s\n", text) < 0 || fflush(stdout))
			rc = EXIT_FAILED;
	} else if (stat(b->report, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or pipe (/dev/stderr, a FIFO): write to it as it is */
		if (!(f = fopen(b->report, "w")) || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0) {
			cli_error("batch: --report %s: %s", b->report, strerror(errno));
			rc = EXIT_FAILED;
		}
	} else {
		/* beside the report, renamed into place: never half a report */
		int fd;
		tmp = batch_fmt("%s.XXXXXX", b->report);
		if ((fd = mkstemp(tmp)) < 0 || !(f = fdopen(fd, "w"))) {
			cli_error("batch: --report %s: %s", b->report, strerror(errno));
			free(tmp);
			free(text);
			return EXIT_FAILED;
		}
		int wrote = fprintf(f, "%s\n", text) >= 0;
		if (fclose(f) != 0 || !wrote || rename(tmp, b->report) != 0) {
			cli_error("batch: --report %s: %s", b->report, strerror(errno));
			unlink(tmp);
			rc = EXIT_FAILED;
		}
		free(tmp);
	}
	free(text);
	return rc;
}

/* -------------------------------------------------------------------- main */

static int batch_option(void *ud, int argc, char **argv, int *i)
{
	batch *b = ud;
	const char *s = argv[*i];

	if (!strcmp(s, "-j") || !strcmp(s, "--jobs") || !strncmp(s, "-j", 2)) {
		const char *v = s[2] && strcmp(s, "--jobs") ? s + 2 : NULL;
		char *e;
		long n;
		if (!v) {
			if (*i + 1 >= argc) {
				cli_error("batch: %s needs a number", s);
				return EXIT_BADINPUT;
			}
			v = argv[++*i];
		}
		n = strtol(v, &e, 10);
		if (*e || n < 1 || n > MAX_THREADS) {
			cli_error("batch: -j: expected a number of parallel jobs from 1 to %d, not \"%s\"", MAX_THREADS, v);
			return EXIT_BADINPUT;
		}
		b->threads = (int)n;
	} else if (!strcmp(s, "--report")) {
		if (*i + 1 >= argc) {
			cli_error("batch: --report needs a file name");
			return EXIT_BADINPUT;
		}
		b->report = argv[++*i];
	} else if (!strcmp(s, "--format")) {
		if (*i + 1 >= argc || (strcmp(argv[*i + 1], "csv") && strcmp(argv[*i + 1], "jsonl"))) {
			cli_error("batch: --format needs csv or jsonl");
			return EXIT_BADINPUT;
		}
		b->format = argv[++*i];
	} else if (!strcmp(s, "--resume")) {
		b->resume = 1;
	} else if (!strcmp(s, "--stop-on-error")) {
		b->stop_on_error = 1;
	} else if (!strcmp(s, "--continue-on-error")) {
		b->stop_on_error = 0;
	} else {
		return -1;
	}
	return 0;
}

static void free_batch(batch *b)
{
	size_t i;

	for (i = 0; i < b->njobs; i++) {
		job *jb = &b->jobs[i];
		free(jb->json);
		free(jb->input);
		free(jb->output);
		free(jb->in_path);
		free(jb->out_path);
		free(jb->reason);
	}
	free(b->jobs);
	free(b->base);
	cli_sign_setup_free(&b->setup);
	signcore_signer_free(b->signer);
	cli_wipe(b->pdf_password);
}

int cmd_batch(int argc, char **argv)
{
	batch b;
	signcore_ctx *ctx = NULL;
	pthread_t tids[MAX_THREADS];
	struct sigaction sa, old_int, old_term;
	size_t i, cleaned, nsign = 0;
	long first_sign = 0;
	int help, rc, started = 0;
	double t1;

	memset(&b, 0, sizeof b);
	if ((rc = cli_sign_parse(argc, argv, &b.sa, batch_usage, &help, batch_option, &b)) || help)
		return rc;
	b.quiet = b.sa.quiet;
	b.manifest = b.sa.input;
	if (!b.manifest) {
		cli_error("batch: no manifest given (see signcore batch --help)");
		return EXIT_BADINPUT;
	}
	if (b.sa.output || b.sa.prepare || b.sa.embed || b.sa.signature || b.sa.digest_out || b.sa.hash_of || b.sa.lta) {
		cli_error("batch: %s is not a batch option: outputs are named in the manifest",
			b.sa.output ? "-o" : b.sa.prepare ? "--prepare" : b.sa.embed ? "--embed"
			: b.sa.signature ? "--signature" : b.sa.digest_out ? "--digest-out"
			: b.sa.hash_of ? "--hash-of" : "--lta");
		return EXIT_BADINPUT;
	}
	b.sa.cmd = "batch";
	if ((rc = cli_sign_setup_init(&b.sa, &b.setup)))
		goto done;
	if (strcmp(b.manifest, "-")) {
		char *c = batch_strdup(b.manifest);
		b.base = batch_strdup(dirname(c));
		free(c);
	}
	if (!b.threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		b.threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
	}
	if ((rc = batch_read_manifest(&b)))
		goto done;
	if (!b.njobs) {
		cli_error("batch: %s holds no jobs", b.manifest);
		rc = EXIT_BADINPUT;
		goto done;
	}
	batch_check_duplicates(&b);
	for (i = 0; i < b.njobs; i++) {
		json_t *o;
		if (b.jobs[i].state != JOB_PENDING || !(o = json_loads(b.jobs[i].json, 0, NULL)))
			continue;
		if (json_object_get(o, "sign") && !json_is_false(json_object_get(o, "sign")) &&
		    !json_is_null(json_object_get(o, "sign")) && !nsign++)
			first_sign = b.jobs[i].line;
		json_decref(o);
	}
	/* Credentials and the PDF password once, before any job runs. */
	if (nsign) {
		if (!b.sa.p12 && !b.sa.cert) {
			cli_error("batch: line %ld signs, but no credentials were given (--p12 FILE or --key FILE --cert FILE)",
				first_sign);
			rc = EXIT_BADINPUT;
			goto done;
		}
		if ((rc = cli_ctx_new(&ctx)))
			goto done;
		if ((rc = cli_load_signer(ctx, &b.sa, 1, &b.signer)))
			goto done;
	}
	if ((rc = cli_secret_prompt(b.sa.pdf_password_file, b.sa.pdf_password_env, NULL, &b.pdf_password)))
		goto done;

	cleaned = batch_remove_stale_temps(&b);
	if (cleaned && !b.quiet)
		fprintf(stderr, "signcore: note: removed %zu temporary file%s left by an interrupted run\n", cleaned,
			cleaned == 1 ? "" : "s");
	for (i = 0; i < b.njobs; i++) {
		job *jb = &b.jobs[i];
		if (jb->state != JOB_PENDING)
			continue;
		if (b.resume && batch_output_done(jb)) {
			jb->state = JOB_SKIPPED;
			jb->reason = batch_fmt("already done: %s is complete and not older than its input", jb->output);
		} else {
			b.to_run++;
		}
	}
	b.tty = !b.quiet && isatty(STDERR_FILENO);
	b.t0 = now_s();
	for (i = 0; i < b.njobs; i++)
		if (b.jobs[i].state == JOB_FAILED || b.jobs[i].state == JOB_SKIPPED)
			job_finished(&b, &b.jobs[i]);
	if (b.stop_on_error && b.failed) {
		for (i = 0; i < b.njobs && !b.stopped_by; i++)
			if (b.jobs[i].state == JOB_FAILED)
				b.stopped_by = b.jobs[i].line;
	}

	if ((size_t)b.threads > b.to_run)
		b.threads = b.to_run ? (int)b.to_run : 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	pthread_mutex_init(&b.lock, NULL);
	for (i = 0; i < (size_t)b.threads; i++) {
		if (pthread_create(&tids[i], NULL, worker, &b) != 0)
			break;
		started++;
	}
	if (!started)
		worker(&b);
	for (i = 0; i < (size_t)started; i++)
		pthread_join(tids[i], NULL);
	t1 = now_s();
	pthread_mutex_destroy(&b.lock);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (b.tty)
		draw_bar(&b, 1);
	if (!b.quiet)
		fprintf(stderr, "signcore: batch: %zu ok, %zu failed, %zu skipped of %zu jobs in %.2f s (%.1f docs/s)%s\n",
			b.ok, b.failed, b.njobs - b.ok - b.failed, b.njobs, t1 - b.t0,
			t1 > b.t0 ? (b.ok + b.failed) / (t1 - b.t0) : 0.0, interrupted ? "; interrupted" : "");
	rc = write_report(&b, t1 - b.t0);
	if (!rc)
		rc = b.failed || interrupted || b.ok + b.skipped < b.njobs ? EXIT_FAILED : EXIT_OK;
done:
	signcore_ctx_free(ctx);
	free_batch(&b);
	return rc;
}

