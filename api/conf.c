/*
 * signcore.conf: an INI file in the data directory.
 *
 *   [server]  base_url, library, font_dir
 *   [seal]    p12, password_file, level, tsa (space-separated, or repeated),
 *             trust (PEM files, likewise), reason
 *   [limits]  max_upload_bytes, max_json_bytes, max_pages, upload_url_ttl,
 *             signing_link_ttl, <plan>_rate_per_minute, <plan>_documents_per_month
 *
 * Sections the API does not read ([smtp], [webhooks], ...) are left to the
 * programs that do; an unknown key in a section read here is an error, so
 * a typo does not silently fall back to a default.
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
			else
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
		} else
			continue;
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
	for (i = 0; i < c->tsa_count; i++)
		free(c->tsa[i]);
	free(c->tsa);
	for (i = 0; i < c->trust_count; i++)
		free(c->trust[i]);
	free(c->trust);
	memset(c, 0, sizeof *c);
}
