/*
 * signcore.conf: an INI file in the data directory.
 *
 *   [server]  base_url, library, font_dir, product_name, read_cache
 *   [seal]    p12, password_file, level, tsa (space-separated, or repeated),
 *             trust (PEM files, likewise), reason
 *   [limits]  max_upload_bytes, max_json_bytes, max_pages, upload_url_ttl,
 *             signing_link_ttl, <plan>_rate_per_minute, <plan>_documents_per_month
 *   [webhooks] timeout, retry_base, retry_cap, jitter, give_up_after,
 *             disable_after, secret_grace, log_days, log_max
 *   [smtp]    url, sendmail, from, username, password_file
 *   [otp]     ttl, attempts, lock, resend_interval, max_per_hour
 *   [worker]  interval
 *
 * An unknown section or key is an error naming its line, so a typo does not
 * silently fall back to a default.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const plan_names[API_PLAN_COUNT] = { "free", "starter", "growth", "enterprise" };

const char *api_plan_name(int plan)
{
	return plan >= 0 && plan < API_PLAN_COUNT ? plan_names[plan] : "unknown";
}

int api_plan_from_name(const char *name)
{
	int i;
	for (i = 0; i < API_PLAN_COUNT; i++)
		if (!strcmp(name, plan_names[i]))
			return i;
	return -1;
}

const char *api_data_dir(const char *arg)
{
	const char *env = getenv("SIGNCORE_DATA_DIR");
	if (arg && *arg)
		return arg;
	return env && *env ? env : NULL;
}

char *api_path(const char *dir, const char *name)
{
	size_t n;
	char *p;

	if (name[0] == '/' || !dir)
		return strdup(name);
	n = strlen(dir) + strlen(name) + 2;
	if ((p = malloc(n)))
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int conf_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int set_str(char **slot, const char *v)
{
	free(*slot);
	return (*slot = strdup(v)) ? 0 : -1;
}

static int add_words(char ***list, size_t *count, const char *v)
{
	char *copy = strdup(v), *save = NULL, *w;
	if (!copy)
		return -1;
	for (w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		char **n = realloc(*list, (*count + 1) * sizeof **list);
		if (!n || !(n[*count] = strdup(w))) {
			if (n)
				*list = n;
			free(copy);
			return -1;
		}
		*list = n;
		(*count)++;
	}
	free(copy);
	return 0;
}

static int set_num(long long *slot, const char *v, long long min)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < min)
		return -1;
	*slot = n;
	return 0;
}

static void defaults(api_conf *c)
{
	memset(c, 0, sizeof *c);
	c->rate[API_PLAN_FREE] = 0;
	c->rate[API_PLAN_STARTER] = 100;
	c->rate[API_PLAN_GROWTH] = 300;
	c->rate[API_PLAN_ENTERPRISE] = 1000;
	c->documents[API_PLAN_FREE] = 0;
	c->documents[API_PLAN_STARTER] = 500;
	c->documents[API_PLAN_GROWTH] = 5000;
	c->documents[API_PLAN_ENTERPRISE] = -1;
	c->max_upload = 25 * 1024 * 1024;
	c->max_json = 1024 * 1024;
	c->max_pages = 2000;
	c->upload_ttl = 15 * 60;
	c->signing_ttl = 30 * 24 * 3600;
	c->wh_timeout = 10;
	c->wh_retry_base = 60;
	c->wh_retry_cap = 6 * 3600;
	c->wh_jitter = 20;
	c->wh_give_up = 3 * 24 * 3600;
	c->wh_disable_after = 3 * 24 * 3600;
	c->wh_secret_grace = 24 * 3600;
	c->wh_log_days = 30;
	c->wh_log_max = 1000;
	c->otp_ttl = 600;
	c->otp_attempts = 5;
	c->otp_lock = 3600;
	c->otp_resend = 60;
	c->otp_per_hour = 5;
	c->worker_interval = 5;
	c->read_cache = 1;
}

typedef struct {
	const char *section, *name;
	size_t off;
	long long min, max;
} num_key;

static const num_key num_keys[] = {
	{ "webhooks", "timeout", offsetof(api_conf, wh_timeout), 1, 300 },
	{ "webhooks", "retry_base", offsetof(api_conf, wh_retry_base), 1, 86400 },
	{ "webhooks", "retry_cap", offsetof(api_conf, wh_retry_cap), 1, 7 * 86400 },
	{ "webhooks", "jitter", offsetof(api_conf, wh_jitter), 0, 50 },
	{ "webhooks", "give_up_after", offsetof(api_conf, wh_give_up), 1, 30 * 86400 },
	{ "webhooks", "disable_after", offsetof(api_conf, wh_disable_after), 1, 30 * 86400 },
	{ "webhooks", "secret_grace", offsetof(api_conf, wh_secret_grace), 0, 7 * 86400 },
	{ "webhooks", "log_days", offsetof(api_conf, wh_log_days), 1, 3650 },
	{ "webhooks", "log_max", offsetof(api_conf, wh_log_max), 10, 1000000 },
	{ "otp", "ttl", offsetof(api_conf, otp_ttl), 1, 86400 },
	{ "otp", "attempts", offsetof(api_conf, otp_attempts), 1, 20 },
	{ "otp", "lock", offsetof(api_conf, otp_lock), 1, 7 * 86400 },
	{ "otp", "resend_interval", offsetof(api_conf, otp_resend), 0, 3600 },
	{ "otp", "max_per_hour", offsetof(api_conf, otp_per_hour), 1, 100 },
	{ "worker", "interval", offsetof(api_conf, worker_interval), 1, 3600 },
};

/* A numeric key of SECTION: 0 set, -1 unknown, -2 out of range. */
static int num_key_set(api_conf *c, const char *section, const char *k, const char *v, long long *lo, long long *hi)
{
	size_t i;
	for (i = 0; i < sizeof num_keys / sizeof num_keys[0]; i++) {
		long long *slot = (long long *)((char *)c + num_keys[i].off), n;
		if (strcmp(section, num_keys[i].section) || strcmp(k, num_keys[i].name))
			continue;
		*lo = num_keys[i].min;
		*hi = num_keys[i].max;
		if (set_num(&n, v, num_keys[i].min) || n > num_keys[i].max)
			return -2;
		*slot = n;
		return 0;
	}
	return -1;
}

static int limit_key(api_conf *c, const char *k, const char *v)
{
	static const struct { const char *name; size_t off; long long min; } nums[] = {
		{ "max_upload_bytes", offsetof(api_conf, max_upload), 1 },
		{ "max_json_bytes", offsetof(api_conf, max_json), 64 },
		{ "max_pages", offsetof(api_conf, max_pages), 1 },
		{ "upload_url_ttl", offsetof(api_conf, upload_ttl), 1 },
		{ "signing_link_ttl", offsetof(api_conf, signing_ttl), 1 },
	};
	size_t i;
	int p;

	for (i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (!strcmp(k, nums[i].name))
			return set_num((long long *)((char *)c + nums[i].off), v, nums[i].min) ? -2 : 0;
	for (p = 0; p < API_PLAN_COUNT; p++) {
		size_t pl = strlen(plan_names[p]);
		if (strncmp(k, plan_names[p], pl) || k[pl] != '_')
			continue;
		if (!strcmp(k + pl + 1, "rate_per_minute"))
			return set_num(&c->rate[p], v, 0) ? -2 : 0;
		if (!strcmp(k + pl + 1, "documents_per_month"))
			return set_num(&c->documents[p], v, -1) ? -2 : 0;
	}
	return -1;
}

int api_conf_load(api_conf *c, const char *dir, char *err, size_t errsz)
{
	char *path, line[4096], section[64] = "";
	FILE *f;
	int lineno = 0, rc = 0;

	defaults(c);
	if (!dir)
		return conf_err(err, errsz, "no data directory: give --data-dir DIR or set SIGNCORE_DATA_DIR");
	if (!(c->data_dir = strdup(dir)) || !(path = api_path(dir, "signcore.conf")))
		return conf_err(err, errsz, "out of memory");
	if (!(f = fopen(path, "r"))) {
		rc = errno == ENOENT ? 0 : conf_err(err, errsz, "%s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	while (!rc && fgets(line, sizeof line, f)) {
		char *s = trim(line), *eq, *k, *v;
		lineno++;
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e || e[1] || e - s - 1 >= (long)sizeof section) {
				rc = conf_err(err, errsz, "%s:%d: bad section header", path, lineno);
				break;
			}
			*e = 0;
			snprintf(section, sizeof section, "%s", trim(s + 1));
			continue;
		}
		if (!(eq = strchr(s, '='))) {
			rc = conf_err(err, errsz, "%s:%d: expected key = value", path, lineno);
			break;
		}
		*eq = 0;
		k = trim(s);
		v = trim(eq + 1);
		if (!strcmp(section, "server")) {
			if (!strcmp(k, "base_url")) {
				size_t n = strlen(v);
				while (n && v[n - 1] == '/')
					v[--n] = 0;
				rc = set_str(&c->base_url, v);
			} else if (!strcmp(k, "library"))
				rc = set_str(&c->library, v);
			else if (!strcmp(k, "font_dir"))
				rc = set_str(&c->font_dir, v);
			else if (!strcmp(k, "product_name"))
				rc = set_str(&c->product_name, v);
			else if (!strcmp(k, "read_cache")) {
				if (strcmp(v, "on") && strcmp(v, "off")) {
					rc = conf_err(err, errsz, "%s:%d: [server] read_cache must be on or off, not \"%s\"", path,
						lineno, v);
					break;
				}
				c->read_cache = !strcmp(v, "on");
			} else
				rc = -1;
		} else if (!strcmp(section, "seal")) {
			if (!strcmp(k, "p12"))
				rc = set_str(&c->seal_p12, v);
			else if (!strcmp(k, "password_file"))
				rc = set_str(&c->seal_password_file, v);
			else if (!strcmp(k, "level")) {
				if (strcmp(v, "B-B") && strcmp(v, "B-T") && strcmp(v, "B-LT") && strcmp(v, "B-LTA")) {
					rc = conf_err(err, errsz, "%s:%d: [seal] level must be B-B, B-T, B-LT or B-LTA, not \"%s\"",
						path, lineno, v);
					break;
				}
				rc = set_str(&c->seal_level, v);
			} else if (!strcmp(k, "tsa"))
				rc = add_words(&c->tsa, &c->tsa_count, v);
			else if (!strcmp(k, "trust"))
				rc = add_words(&c->trust, &c->trust_count, v);
			else if (!strcmp(k, "reason"))
				rc = set_str(&c->seal_reason, v);
			else
				rc = -1;
		} else if (!strcmp(section, "limits")) {
			rc = limit_key(c, k, v);
			if (rc == -2) {
				rc = conf_err(err, errsz, "%s:%d: [limits] %s: \"%s\" is not a valid number", path, lineno, k, v);
				break;
			}
		} else if (!strcmp(section, "smtp")) {
			if (!strcmp(k, "url")) {
				if (strncmp(v, "smtp://", 7) && strncmp(v, "smtps://", 8)) {
					rc = conf_err(err, errsz, "%s:%d: [smtp] url must start with smtp:// or smtps://", path, lineno);
					break;
				}
				rc = set_str(&c->smtp_url, v);
			} else if (!strcmp(k, "sendmail"))
				rc = set_str(&c->sendmail, v);
			else if (!strcmp(k, "from"))
				rc = set_str(&c->smtp_from, v);
			else if (!strcmp(k, "username"))
				rc = set_str(&c->smtp_username, v);
			else if (!strcmp(k, "password_file"))
				rc = set_str(&c->smtp_password_file, v);
			else
				rc = -1;
		} else if (!strcmp(section, "webhooks") || !strcmp(section, "otp") || !strcmp(section, "worker")) {
			long long lo = 0, hi = 0;
			rc = num_key_set(c, section, k, v, &lo, &hi);
			if (rc == -2) {
				rc = conf_err(err, errsz, "%s:%d: [%s] %s must be a number from %lld to %lld, not \"%s\"", path,
					lineno, section, k, lo, hi, v);
				break;
			}
		} else {
			rc = *section ? conf_err(err, errsz, "%s:%d: unknown section [%s]", path, lineno, section) :
				conf_err(err, errsz, "%s:%d: \"%s\" is outside a [section]", path, lineno, k);
			break;
		}
		if (rc)
			rc = conf_err(err, errsz, "%s:%d: unknown key \"%s\" in [%s]", path, lineno, k, section);
	}
	fclose(f);
	free(path);
	return rc;
}

void api_conf_free(api_conf *c)
{
	size_t i;

	free(c->data_dir);
	free(c->base_url);
	free(c->library);
	free(c->font_dir);
	free(c->seal_p12);
	free(c->seal_password_file);
	free(c->seal_level);
	free(c->seal_reason);
	free(c->product_name);
	free(c->smtp_url);
	free(c->smtp_from);
	free(c->smtp_username);
	free(c->smtp_password_file);
	free(c->sendmail);
	for (i = 0; i < c->tsa_count; i++)
		free(c->tsa[i]);
	free(c->tsa);
	for (i = 0; i < c->trust_count; i++)
		free(c->trust[i]);
	free(c->trust);
	memset(c, 0, sizeof *c);
}
