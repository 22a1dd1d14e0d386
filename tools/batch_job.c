/*
 * signcore batch: one job of a manifest, from its JSON object to the output.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "batch.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *batch_strdup(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d) {
		cli_error("batch: out of memory");
		exit(EXIT_FAILED);
	}
	return d;
}

char *batch_fmt(const char *f, ...)
{
	va_list ap;
	char buf[2048];

	va_start(ap, f);
	vsnprintf(buf, sizeof buf, f, ap);
	va_end(ap);
	return batch_strdup(buf);
}


/* ------------------------------------------------------------------ a job */


int batch_err(char *err, size_t errsz, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(err, errsz, f, ap);
	va_end(ap);
	return -1;
}

static int get_path(json_t *o, const char *key, const char **out, char *err, size_t errsz)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v) || !*json_string_value(v))
		return batch_err(err, errsz, "\"%s\": expected a file name", key);
	*out = json_string_value(v);
	return 0;
}

/* Per-job signing options over the batch's defaults. With AP NULL only the
 * shape is checked (no image is read). */
static int sign_options(const batch *b, json_t *sign, signcore_sign_options *o, signcore_sig_appearance *ap,
	char **image, size_t *image_len, char *err, size_t errsz)
{
	json_t *v;
	const char *key;
	size_t i;

	*o = b->setup.o;
	if (json_is_string(sign)) {
		if (cli_level_from_name(json_string_value(sign), &o->level))
			return batch_err(err, errsz, "sign: unknown level \"%s\" (B-B, B-T, B-LT or B-LTA)",
				json_string_value(sign));
	} else if (json_is_object(sign)) {
		json_object_foreach(sign, key, v) {
			if (!strcmp(key, "level")) {
				if (!json_is_string(v) || cli_level_from_name(json_string_value(v), &o->level))
					return batch_err(err, errsz, "sign.level: expected B-B, B-T, B-LT or B-LTA");
			} else if (!strcmp(key, "page")) {
				if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000)
					return batch_err(err, errsz, "sign.page: expected a page number from 1");
				o->page = (int)json_integer_value(v);
			} else if (!strcmp(key, "rect")) {
				if (!json_is_array(v) || json_array_size(v) != 4)
					return batch_err(err, errsz, "sign.rect: expected [x, y, width, height]");
				for (i = 0; i < 4; i++) {
					if (!json_is_number(json_array_get(v, i)))
						return batch_err(err, errsz, "sign.rect[%zu]: expected a number", i);
					o->rect[i] = json_number_value(json_array_get(v, i));
				}
			} else if (!strcmp(key, "units")) {
				const char *u = json_string_value(v);
				if (u && !strcmp(u, "pt"))
					o->units = SIGNCORE_UNITS_PT;
				else if (u && !strcmp(u, "percent"))
					o->units = SIGNCORE_UNITS_PERCENT;
				else
					return batch_err(err, errsz, "sign.units: expected \"pt\" or \"percent\"");
			} else if (!strcmp(key, "invisible")) {
				if (!json_is_boolean(v))
					return batch_err(err, errsz, "sign.invisible: expected true or false");
				if (json_is_true(v))
					o->page = 0;
			} else if (!strcmp(key, "appearance")) {
				if (!json_is_object(v))
					return batch_err(err, errsz, "sign.appearance: expected an object");
				if (ap) {
					*ap = b->setup.o.appearance ? *b->setup.o.appearance
								    : (signcore_sig_appearance)SIGNCORE_SIG_APPEARANCE_INIT;
					if (cli_appearance_from_json(v, b->base, ap, image, image_len, err, errsz)) {
						char why[1024];
						snprintf(why, sizeof why, "%s", err);
						return batch_err(err, errsz, "sign.appearance: %s", why);
					}
					o->appearance = ap;
				}
			} else {
				const char **slot = !strcmp(key, "field") ? &o->field
					: !strcmp(key, "reason") ? &o->reason
					: !strcmp(key, "location") ? &o->location
					: !strcmp(key, "contact") ? &o->contact_info
					: !strcmp(key, "name") ? &o->name : NULL;
				if (!slot)
					continue; /* unknown keys are the caller's own data */
				if (!json_is_string(v))
					return batch_err(err, errsz, "sign.%s: expected a string", key);
				*slot = json_string_value(v);
			}
		}
		if (json_object_get(sign, "page") && !json_object_get(sign, "rect") && !b->sa.rect)
			return batch_err(err, errsz, "sign.page needs sign.rect (or --rect)");
	} else if (!json_is_true(sign)) {
		return batch_err(err, errsz, "\"sign\": expected true, a level (\"B-B\") or an object");
	}
	if (o->level >= SIGNCORE_LEVEL_B_T && !o->tsa_count)
		return batch_err(err, errsz, "sign: level %s needs a time-stamp authority: give --tsa URL to signcore batch",
			o->level == SIGNCORE_LEVEL_B_T ? "B-T" : o->level == SIGNCORE_LEVEL_B_LT ? "B-LT" : "B-LTA");
	return 0;
}

/* Check the shape of a job object and borrow its parts into D. */
int batch_job_parse(const batch *b, json_t *root, job_desc *d, char *err, size_t errsz)
{
	json_t *v;
	signcore_sign_options o;

	memset(d, 0, sizeof *d);
	d->root = root;
	if (!json_is_object(root))
		return batch_err(err, errsz, "expected a JSON object (one job a line)");
	if (get_path(root, "input", &d->input, err, errsz) || get_path(root, "output", &d->output, err, errsz))
		return -1;
	if (!d->input)
		return batch_err(err, errsz, "\"input\" is missing");
	if (!d->output)
		return batch_err(err, errsz, "\"output\" is missing");
	if (!strcmp(d->output, "-") || !strcmp(d->input, "-"))
		return batch_err(err, errsz, "\"input\" and \"output\" must be files, not standard input or output");
	if ((v = json_object_get(root, "spec"))) {
		if (!(json_is_string(v) && *json_string_value(v)) && !json_is_array(v) && !json_is_object(v))
			return batch_err(err, errsz, "\"spec\": expected a file name, an array of fields or a field spec object");
		d->spec = v;
	}
	if ((v = json_object_get(root, "values"))) {
		if (!(json_is_string(v) && *json_string_value(v)) && !json_is_object(v))
			return batch_err(err, errsz, "\"values\": expected a file name or an object");
		d->values = v;
	}
	if ((v = json_object_get(root, "mode"))) {
		const char *m = json_string_value(v);
		if (!m || (strcmp(m, "stamp") && strcmp(m, "place")))
			return batch_err(err, errsz, "\"mode\": expected \"stamp\" or \"place\"");
		if (!d->spec)
			return batch_err(err, errsz, "\"mode\" needs a \"spec\"");
		d->place_only = !strcmp(m, "place");
	}
	if ((v = json_object_get(root, "flatten"))) {
		if (!json_is_boolean(v))
			return batch_err(err, errsz, "\"flatten\": expected true or false");
		d->flatten = json_is_true(v);
	}
	if ((v = json_object_get(root, "sign")) && !json_is_false(v) && !json_is_null(v)) {
		if (sign_options(b, v, &o, NULL, NULL, NULL, err, errsz))
			return -1;
		d->sign = v;
	}
	d->audit = json_object_get(root, "audit");
	if (!d->spec && !d->values && !d->sign && !d->audit)
		return batch_err(err, errsz, "nothing to do: give \"spec\", \"values\" or \"sign\"");
	return 0;
}

/* Load JSON from a path (relative to the manifest) or take it inline. */
static json_t *load_json(const batch *b, json_t *v, const char *what, char **dir, char *err, size_t errsz)
{
	json_error_t je;
	json_t *j;
	char *path;

	*dir = NULL;
	if (!json_is_string(v))
		return json_incref(v);
	if (!(path = cli_path_join(b->base, json_string_value(v)))) {
		batch_err(err, errsz, "out of memory");
		return NULL;
	}
	j = json_load_file(path, 0, &je);
	if (!j)
		batch_err(err, errsz, "%s %s: %s (line %d, column %d)", what, path, je.text, je.line, je.column);
	else
		*dir = batch_strdup(dirname(path));
	free(path);
	return j;
}

/* The field spec (or values file) the job hands to signcore_spec_parse: the
 * spec with the job's values merged into its fields, or the values alone.
 * *BASE_DIR is where its image paths are relative to. */
static char *spec_text(const batch *b, const job_desc *d, char **base_dir, char *err, size_t errsz)
{
	json_t *spec = NULL, *vals = NULL, *map, *fields, *f, *v;
	char *sdir = NULL, *vdir = NULL, *text = NULL;
	const char *name;
	size_t i;

	*base_dir = NULL;
	if (d->spec && !(spec = load_json(b, d->spec, "spec", &sdir, err, errsz)))
		goto done;
	if (d->values && !(vals = load_json(b, d->values, "values", &vdir, err, errsz)))
		goto done;
	if (spec && json_is_array(spec)) {
		json_t *wrap = json_pack("{sO}", "fields", spec);
		json_decref(spec);
		spec = wrap;
	}
	if (!spec) {
		text = json_dumps(vals, JSON_COMPACT);
		*base_dir = vdir ? vdir : batch_strdup(b->base);
		vdir = NULL;
		goto done;
	}
	fields = json_object_get(spec, "fields");
	if (vals && !json_is_array(fields)) {
		batch_err(err, errsz, "spec: expected an object with a \"fields\" array");
		goto done;
	}
	if (vals) {
		/* {"values": {...}}, a bare {"name": value}, or a spec with values */
		map = json_object_get(vals, "values");
		if (!map && json_is_array(json_object_get(vals, "fields"))) {
			json_t *flds = json_object_get(vals, "fields");
			map = json_object();
			json_array_foreach(flds, i, f)
				if (json_is_string(json_object_get(f, "name")) && json_object_get(f, "value"))
					json_object_set(map, json_string_value(json_object_get(f, "name")),
						json_object_get(f, "value"));
		} else {
			map = json_incref(map ? map : vals);
		}
		if (!json_is_object(map)) {
			json_decref(map);
			batch_err(err, errsz, "values: expected an object of field names and values");
			goto done;
		}
		json_object_foreach(map, name, v) {
			json_t *hit = NULL;
			json_array_foreach(fields, i, f)
				if (json_is_string(json_object_get(f, "name")) &&
				    !strcmp(json_string_value(json_object_get(f, "name")), name))
					hit = f;
			if (!hit) {
				batch_err(err, errsz, "values: the spec has no field \"%s\"", name);
				json_decref(map);
				goto done;
			}
			json_object_set(hit, "value", v);
		}
		json_decref(map);
		/* Images named by values are relative to the values file. */
		if (vdir && !sdir)
			sdir = batch_strdup(vdir);
	}
	text = json_dumps(spec, JSON_COMPACT);
	*base_dir = sdir ? sdir : batch_strdup(b->base);
	sdir = NULL;
done:
	if (!text && !*err)
		batch_err(err, errsz, "out of memory");
	json_decref(spec);
	json_decref(vals);
	free(sdir);
	free(vdir);
	return text;
}

/*
 * The job's audit step. Audit events are accepted in the manifest so that
 * jobs can be written for them now; this version has no audit trail to
 * append them to, so a job that asks for one fails here, before anything is
 * written, rather than produce an output without the trail it asked for.
 */
/*
 * The audit trail: "audit" is the events file (a path relative to the
 * manifest, or the log inline), or {"events": ..., "paper": "a4|letter|
 * match", "time_zone": "Asia/Kolkata"}. The stamped document is first
 * serialised and reopened, so the hash the audit page prints ("before this
 * audit trail") is that of bytes the output really starts with.
 */
static int run_audit_step(const batch *b, signcore_ctx *ctx, signcore_doc **docp, json_t *audit, char *err,
	size_t errsz)
{
	signcore_audit_options o = SIGNCORE_AUDIT_OPTIONS_INIT;
	signcore_open_options oo = SIGNCORE_OPEN_OPTIONS_INIT;
	signcore_doc *nd = NULL;
	json_t *events = audit, *log = NULL;
	unsigned char *mem = NULL;
	char *dir = NULL, *text = NULL;
	size_t len = 0;
	int rc = -1, code;

	if (!audit || json_is_null(audit))
		return 0;
	if (json_is_object(audit) && json_object_get(audit, "events")) {
		json_t *p = json_object_get(audit, "paper"), *z = json_object_get(audit, "time_zone");
		const char *paper = json_is_string(p) ? json_string_value(p) : "a4";
		events = json_object_get(audit, "events");
		if (!strcmp(paper, "a4"))
			o.paper = SIGNCORE_PAPER_A4;
		else if (!strcmp(paper, "letter"))
			o.paper = SIGNCORE_PAPER_LETTER;
		else if (!strcmp(paper, "match"))
			o.paper = SIGNCORE_PAPER_MATCH;
		else
			return batch_err(err, errsz, "\"audit\": paper must be a4, letter or match, not \"%s\"", paper);
		if (z && !json_is_string(z))
			return batch_err(err, errsz, "\"audit\": time_zone must be a string");
		o.time_zone = z ? json_string_value(z) : NULL;
	}
	if (!json_is_string(events) && !json_is_object(events))
		return batch_err(err, errsz, "\"audit\" must be an events file, an events object, or {\"events\": ...}");
	if (!(log = load_json(b, events, "audit events", &dir, err, errsz)))
		return -1;
	if (!(text = json_dumps(log, JSON_COMPACT))) {
		batch_err(err, errsz, "out of memory");
		goto done;
	}
	o.base_dir = dir ? dir : b->base;
	o.events_name = json_is_string(events) ? json_string_value(events) : "audit events";
	if ((code = signcore_doc_save_memory(*docp, &mem, &len, NULL)))
		goto lib_error;
	oo.password = b->pdf_password;
	if ((code = signcore_doc_open_memory(ctx, &nd, mem, len, &oo)))
		goto lib_error;
	signcore_doc_free(*docp);
	*docp = nd;
	if ((code = signcore_audit_append(nd, text, strlen(text), &o)))
		goto lib_error;
	rc = 0;
	goto done;
lib_error:
	batch_err(err, errsz, "audit: %s", *signcore_ctx_last_error(ctx) ? signcore_ctx_last_error(ctx) : signcore_strerror(code));
done:
	signcore_free(mem);
	json_decref(log);
	free(text);
	free(dir);
	return rc;
}

int batch_run_job(batch *b, signcore_ctx *ctx, job *jb, char *err, size_t errsz)
{
	json_error_t je;
	json_t *root;
	job_desc d;
	signcore_open_options oo = SIGNCORE_OPEN_OPTIONS_INIT;
	signcore_sign_options so;
	signcore_sig_appearance ap;
	signcore_spec *spec = NULL;
	signcore_doc *doc = NULL;
	char *text = NULL, *sbase = NULL, *image = NULL;
	size_t image_len = 0;
	int code = 0, rc = -1;

	*err = 0;
	if (!(root = json_loads(jb->json, 0, &je)))
		return batch_err(err, errsz, "%s", je.text);
	if (batch_job_parse(b, root, &d, err, errsz))
		goto done;
	if (d.sign && sign_options(b, d.sign, &so, &ap, &image, &image_len, err, errsz))
		goto done;
	if (d.spec || d.values) {
		if (!(text = spec_text(b, &d, &sbase, err, errsz)))
			goto done;
		if ((code = signcore_spec_parse(ctx, &spec, text, strlen(text), sbase ? sbase : "."))) {
			batch_err(err, errsz, "%s: %s", d.spec ? "spec" : "values", signcore_ctx_last_error(ctx));
			goto done;
		}
	}
	oo.password = b->pdf_password;
	if ((code = signcore_doc_open(ctx, &doc, jb->in_path, &oo)))
		goto lib_error;
	if (d.spec)
		code = d.place_only ? signcore_spec_place(doc, spec) : signcore_spec_stamp(doc, spec);
	else if (d.values)
		code = signcore_spec_fill(doc, spec);
	if (!code && d.flatten)
		code = signcore_flatten(doc, NULL, 0);
	if (code)
		goto lib_error;
	if (run_audit_step(b, ctx, &doc, d.audit, err, errsz))
		goto done;
	if (d.sign)
		code = signcore_sign(doc, b->signer, jb->out_path, &so);
	else
		code = signcore_doc_save(doc, jb->out_path, NULL);
	if (code)
		goto lib_error;
	rc = 0;
	goto done;
lib_error:
	batch_err(err, errsz, "%s", *signcore_ctx_last_error(ctx) ? signcore_ctx_last_error(ctx) : signcore_strerror(code));
done:
	signcore_doc_free(doc);
	signcore_spec_free(spec);
	json_decref(root);
	free(text);
	free(sbase);
	free(image);
	return rc;
}

