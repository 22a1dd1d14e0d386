/*
 * signcore batch: reading the manifest (JSON Lines or CSV), and the state
 * of earlier runs (temporary files, finished outputs).
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "batch.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- manifest */

/* One CSV record from *P (RFC 4180: quoted cells may hold commas, quotes
 * doubled, newlines); *LINE counts the newlines it crosses. Returns the
 * number of cells, -1 for an unterminated quote. */
static int csv_record(const char **p, const char *end, long *line, char ***cells)
{
	size_t n = 0, cap = 8;
	char **out = malloc(cap * sizeof *out);
	const char *s = *p;

	if (!out)
		return -1;
	for (;;) {
		size_t len = 0, bcap = 64;
		char *cell = malloc(bcap);
		int quoted = 0;
		if (!cell)
			return -1;
		if (s < end && *s == '"') {
			quoted = 1;
			s++;
		}
		for (;;) {
			char c;
			if (s >= end) {
				if (quoted) {
					free(cell);
					while (n)
						free(out[--n]);
					free(out);
					return -1;
				}
				break;
			}
			c = *s;
			if (quoted && c == '"') {
				if (s + 1 < end && s[1] == '"') {
					s += 2;
				} else {
					quoted = 0;
					s++;
					continue;
				}
			} else if (!quoted && (c == ',' || c == '\n' || c == '\r')) {
				break;
			} else {
				if (c == '\n')
					(*line)++;
				s++;
			}
			if (len + 2 > bcap) {
				char *g = realloc(cell, bcap *= 2);
				if (!g) {
					free(cell);
					return -1;
				}
				cell = g;
			}
			cell[len++] = c;
		}
		cell[len] = 0;
		if (n == cap) {
			char **g = realloc(out, (cap *= 2) * sizeof *out);
			if (!g)
				return -1;
			out = g;
		}
		out[n++] = cell;
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		break;
	}
	if (s < end && *s == '\r')
		s++;
	if (s < end && *s == '\n') {
		s++;
		(*line)++;
	}
	*p = s;
	*cells = out;
	return (int)n;
}

static void free_cells(char **cells, int n)
{
	while (n > 0)
		free(cells[--n]);
	free(cells);
}

/* A CSV row as the JSON object of a job. Columns: input, output, spec,
 * values, mode, flatten, sign (a level, "yes", or a JSON object), sign_level,
 * sign_page, sign_rect ("x,y,w,h"), sign_units, sign_field, sign_reason,
 * sign_location, sign_contact, sign_name, sign_appearance (JSON). */
static json_t *csv_job(char **head, int nhead, char **cells, int n, char *err, size_t errsz)
{
	json_t *o = json_object(), *sign = NULL;
	json_error_t je;
	int i;

	if (n > nhead) {
		batch_err(err, errsz, "%d cells, but the header names %d columns", n, nhead);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		const char *k = head[i], *c = cells[i];
		json_t *v;
		if (!*c)
			continue;
		if (!strcmp(k, "spec") || !strcmp(k, "values") || !strcmp(k, "sign") || !strcmp(k, "sign_appearance") ||
		    !strcmp(k, "audit")) {
			if (*c == '{' || *c == '[') {
				if (!(v = json_loads(c, 0, &je))) {
					batch_err(err, errsz, "column %s: %s", k, je.text);
					goto fail;
				}
			} else if (!strcmp(k, "sign")) {
				v = !strcasecmp(c, "yes") || !strcasecmp(c, "true") || !strcmp(c, "1") ? json_true()
					: !strcasecmp(c, "no") || !strcasecmp(c, "false") || !strcmp(c, "0") ? json_false()
					: json_string(c);
			} else {
				v = json_string(c);
			}
		} else if (!strcmp(k, "sign_page")) {
			char *e;
			long p = strtol(c, &e, 10);
			if (*e || p < 1) {
				batch_err(err, errsz, "column sign_page: expected a page number from 1");
				goto fail;
			}
			v = json_integer(p);
		} else if (!strcmp(k, "sign_rect")) {
			double r[4];
			if (sscanf(c, "%lf,%lf,%lf,%lf", &r[0], &r[1], &r[2], &r[3]) != 4) {
				batch_err(err, errsz, "column sign_rect: expected x,y,width,height");
				goto fail;
			}
			v = json_pack("[ffff]", r[0], r[1], r[2], r[3]);
		} else if (!strcmp(k, "flatten")) {
			v = json_boolean(!strcasecmp(c, "yes") || !strcasecmp(c, "true") || !strcmp(c, "1"));
		} else {
			v = json_string(c);
		}
		if (!strncmp(k, "sign_", 5)) {
			if (!sign)
				sign = json_object();
			json_object_set_new(sign, k + 5, v);
		} else {
			json_object_set_new(o, k, v);
		}
	}
	if (sign) {
		json_t *s = json_object_get(o, "sign");
		if (s && json_is_string(s) && !json_object_get(sign, "level"))
			json_object_set(sign, "level", s);
		else if (s && json_is_object(s))
			json_object_update_missing(sign, s);
		else if (s && json_is_false(s)) {
			json_decref(sign);
			sign = NULL;
		}
		if (sign)
			json_object_set_new(o, "sign", sign);
		sign = NULL;
	}
	return o;
fail:
	json_decref(sign);
	json_decref(o);
	return NULL;
}

static int blank_or_comment(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return s == end || *s == '#';
}

static void add_job(batch *b, long line, json_t *obj, const char *why)
{
	job *jb = &b->jobs[b->njobs++];
	char err[2048] = "";
	job_desc d;

	memset(jb, 0, sizeof *jb);
	jb->line = line;
	jb->state = JOB_PENDING;
	if (!obj) {
		jb->state = JOB_FAILED;
		jb->reason = batch_fmt("%s", why);
		return;
	}
	if (json_is_object(obj)) {
		/* for the report, even when the rest of the line is wrong */
		if (json_is_string(json_object_get(obj, "input")))
			jb->input = batch_strdup(json_string_value(json_object_get(obj, "input")));
		if (json_is_string(json_object_get(obj, "output")))
			jb->output = batch_strdup(json_string_value(json_object_get(obj, "output")));
	}
	if (batch_job_parse(b, obj, &d, err, sizeof err)) {
		jb->state = JOB_FAILED;
		jb->reason = batch_fmt("%s", err);
		return;
	}
	jb->json = json_dumps(obj, JSON_COMPACT);
	jb->in_path = cli_path_join(b->base, d.input);
	jb->out_path = cli_path_join(b->base, d.output);
	if (!jb->json || !jb->in_path || !jb->out_path) {
		cli_error("batch: out of memory");
		exit(EXIT_FAILED);
	}
}

static int grow(batch *b, size_t *cap)
{
	if (b->njobs < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 256;
	job *g = realloc(b->jobs, *cap * sizeof *g);
	if (!g)
		return -1;
	b->jobs = g;
	return 0;
}

int batch_read_manifest(batch *b)
{
	char err[1024];
	size_t len, cap = 0;
	char *data = cli_read_file(b->manifest, &len, err, sizeof err);
	const char *p, *end, *ext;
	char **head = NULL;
	int nhead = 0;
	long line = 1;

	if (!data) {
		cli_error("batch: manifest %s", err);
		return EXIT_BADINPUT;
	}
	end = data + len;
	p = data;
	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3; /* a byte-order mark, as spreadsheets write */
	ext = strrchr(b->manifest, '.');
	if (b->format)
		b->csv = !strcmp(b->format, "csv");
	else if (ext && !strcasecmp(ext, ".csv"))
		b->csv = 1;
	else if (ext && (!strcasecmp(ext, ".jsonl") || !strcasecmp(ext, ".ndjson") || !strcasecmp(ext, ".json")))
		b->csv = 0;
	else {
		const char *s = p;
		while (s < end && strchr(" \t\r\n", *s))
			s++;
		b->csv = s < end && *s != '{';
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		long here = line;
		json_error_t je;
		json_t *obj;

		if (!eol)
			eol = end;
		if (blank_or_comment(p, eol)) {
			p = eol < end ? eol + 1 : end;
			line++;
			continue;
		}
		if (grow(b, &cap)) {
			free(data);
			cli_error("batch: out of memory");
			return EXIT_FAILED;
		}
		if (!b->csv) {
			obj = json_loadb(p, (size_t)(eol - p), 0, &je);
			if (!obj) {
				char why[300];
				snprintf(why, sizeof why, "bad JSON: %s (column %d)", je.text, je.column);
				add_job(b, here, NULL, why);
			} else {
				add_job(b, here, obj, NULL);
			}
			json_decref(obj);
			p = eol < end ? eol + 1 : end;
			line++;
			continue;
		}
		{
			char **cells;
			int n = csv_record(&p, end, &line, &cells);
			if (n < 0) {
				add_job(b, here, NULL, "CSV: a quoted cell is not closed");
				break;
			}
			if (!head) {
				int i;
				head = cells;
				nhead = n;
				for (i = 0; i < n; i++) {
					char *c = head[i];
					size_t l = strlen(c);
					while (l && (c[l - 1] == ' ' || c[l - 1] == '\t'))
						c[--l] = 0;
				}
				continue;
			}
			obj = csv_job(head, nhead, cells, n, err, sizeof err);
			add_job(b, here, obj, err);
			json_decref(obj);
			free_cells(cells, n);
		}
	}
	free_cells(head, nhead);
	free(data);
	return 0;
}

/* Two jobs writing one file would race: the later line fails. */
static int cmp_out(const void *x, const void *y)
{
	const job *a = *(job *const *)x, *c = *(job *const *)y;
	int r = strcmp(a->out_path, c->out_path);

	return r ? r : (a->line > c->line) - (a->line < c->line);
}

void batch_check_duplicates(batch *b)
{
	job **v = malloc(b->njobs * sizeof *v);
	size_t i, n = 0;

	if (!v)
		return;
	for (i = 0; i < b->njobs; i++)
		if (b->jobs[i].out_path)
			v[n++] = &b->jobs[i];
	qsort(v, n, sizeof *v, cmp_out);
	for (i = 1; i < n; i++)
		if (!strcmp(v[i]->out_path, v[i - 1]->out_path) && v[i]->state == JOB_PENDING) {
			job *first = v[i - 1];
			size_t k = i - 1;
			while (k > 0 && !strcmp(v[k - 1]->out_path, v[i]->out_path))
				first = v[--k];
			v[i]->state = JOB_FAILED;
			v[i]->reason = batch_fmt("output %s is also the output of line %ld", v[i]->output, first->line);
		}
	free(v);
}

/* ------------------------------------------------------ temp files, resume */

/* The library writes OUT through ".OUT.XXXXXX" beside it and renames; a
 * killed run leaves those behind. Remove the ones that belong to outputs of
 * this manifest (and nothing else). Returns how many were removed. */
size_t batch_remove_stale_temps(batch *b)
{
	job **v = malloc(b->njobs * sizeof *v);
	size_t i, j, n = 0, removed = 0;

	if (!v)
		return 0;
	for (i = 0; i < b->njobs; i++)
		if (b->jobs[i].out_path)
			v[n++] = &b->jobs[i];
	qsort(v, n, sizeof *v, cmp_out);
	for (i = 0; i < n; i = j) {
		char *dcopy = batch_strdup(v[i]->out_path), *dir = dirname(dcopy);
		size_t dlen = strlen(dir);
		DIR *dh;
		struct dirent *e;

		/* the outputs in DIR are v[i..j) (sorted by path, so together
		 * unless a subfolder's name sorts between them: then DIR is
		 * visited again, which is harmless) */
		for (j = i + 1; j < n; j++) {
			char *c2 = batch_strdup(v[j]->out_path);
			int same = !strcmp(dirname(c2), dir);
			free(c2);
			if (!same)
				break;
		}
		(void)dlen;
		if ((dh = opendir(dir))) {
			while ((e = readdir(dh))) {
				size_t el = strlen(e->d_name), k;
				const char *suffix;
				int ours = 0;
				if (e->d_name[0] != '.' || el < 9 || e->d_name[el - 7] != '.')
					continue;
				suffix = e->d_name + el - 6;
				for (k = 0; k < 6 && ((suffix[k] >= 'a' && suffix[k] <= 'z') ||
					(suffix[k] >= 'A' && suffix[k] <= 'Z') || (suffix[k] >= '0' && suffix[k] <= '9')); k++)
					;
				if (k < 6)
					continue;
				for (k = i; k < j && !ours; k++) {
					const char *base = strrchr(v[k]->out_path, '/');
					base = base ? base + 1 : v[k]->out_path;
					ours = strlen(base) == el - 8 && !memcmp(e->d_name + 1, base, el - 8);
				}
				if (ours && unlinkat(dirfd(dh), e->d_name, 0) == 0)
					removed++;
			}
			closedir(dh);
		}
		free(dcopy);
	}
	free(v);
	return removed;
}

static int newer_or_same(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/* An output is complete by construction (written whole, then renamed);
 * check it ends like a PDF and is not older than the input, so that a
 * changed input is processed again. */
int batch_output_done(const job *jb)
{
	struct stat si, so;
	char tail[1024];
	ssize_t got;
	off_t from;
	int fd;

	if (stat(jb->in_path, &si) || stat(jb->out_path, &so) || !S_ISREG(so.st_mode) || so.st_size < 16)
		return 0;
	if (!newer_or_same(&so.st_mtim, &si.st_mtim))
		return 0;
	if ((fd = open(jb->out_path, O_RDONLY)) < 0)
		return 0;
	from = so.st_size > 1024 ? so.st_size - 1024 : 0;
	got = pread(fd, tail, 1024, from);
	close(fd);
	if (got <= 0)
		return 0;
	for (from = 0; from + 5 <= got; from++)
		if (!memcmp(tail + from, "%%EOF", 5))
			return 1;
	return 0;
}

