/*
 * Time zones (TZif files from the system's zoneinfo) and date formatting.
 *
 * The C library's localtime() reads the process-wide TZ variable, which a
 * library serving several threads (and several zones) must not touch, so
 * zone files are read here directly.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
	int std_off, dst_off;         /* seconds east of UTC */
	char std_name[16], dst_name[16];
	int has_dst;
	struct { char kind; int m, w, d, n; int secs; } rule[2]; /* start, end */
} posix_tz;

/* ------------------------------------------------------------- calendar */

static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, int *y, int *m, int *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ------------------------------------------------------- POSIX TZ rules */

static const char *parse_name(const char *s, char *out, size_t n)
{
	size_t i = 0;

	if (*s == '<') {
		for (s++; *s && *s != '>'; s++)
			if (i + 1 < n)
				out[i++] = *s;
		if (*s == '>')
			s++;
	} else {
		while (isalpha((unsigned char)*s)) {
			if (i + 1 < n)
				out[i++] = *s;
			s++;
		}
	}
	out[i] = 0;
	return s;
}

/* [+-]hh[:mm[:ss]] -> seconds */
static const char *parse_hms(const char *s, int *out)
{
	int sign = 1, h = 0, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)*s))
		return NULL;
	h = (int)strtol(s, (char **)&s, 10);
	if (*s == ':') {
		m = (int)strtol(s + 1, (char **)&s, 10);
		if (*s == ':')
			sec = (int)strtol(s + 1, (char **)&s, 10);
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return s;
}

static const char *parse_rule(const char *s, posix_tz *tz, int i)
{
	tz->rule[i].secs = 7200;
	if (*s == 'M') {
		tz->rule[i].kind = 'M';
		tz->rule[i].m = (int)strtol(s + 1, (char **)&s, 10);
		if (*s++ != '.')
			return NULL;
		tz->rule[i].w = (int)strtol(s, (char **)&s, 10);
		if (*s++ != '.')
			return NULL;
		tz->rule[i].d = (int)strtol(s, (char **)&s, 10);
	} else if (*s == 'J') {
		tz->rule[i].kind = 'J';
		tz->rule[i].n = (int)strtol(s + 1, (char **)&s, 10);
	} else if (isdigit((unsigned char)*s)) {
		tz->rule[i].kind = 'N';
		tz->rule[i].n = (int)strtol(s, (char **)&s, 10);
	} else {
		return NULL;
	}
	if (*s == '/')
		s = parse_hms(s + 1, &tz->rule[i].secs);
	return s;
}

static int parse_posix(const char *s, posix_tz *tz)
{
	int off;

	memset(tz, 0, sizeof *tz);
	s = parse_name(s, tz->std_name, sizeof tz->std_name);
	if (!tz->std_name[0] || !(s = parse_hms(s, &off)))
		return -1;
	tz->std_off = -off; /* POSIX counts west of UTC */
	if (!*s)
		return 0;
	s = parse_name(s, tz->dst_name, sizeof tz->dst_name);
	if (!tz->dst_name[0])
		return -1;
	tz->has_dst = 1;
	tz->dst_off = tz->std_off + 3600;
	if (*s && *s != ',') {
		if (!(s = parse_hms(s, &off)))
			return -1;
		tz->dst_off = -off;
	}
	if (*s != ',' || !(s = parse_rule(s + 1, tz, 0)) || *s != ',' || !(s = parse_rule(s + 1, tz, 1)))
		return -1;
	return 0;
}

/* Local (wall clock, in the zone's offset OFF) instant of rule R in year Y. */
static long long rule_time(const posix_tz *tz, int r, int y, int off)
{
	long long day;

	if (tz->rule[r].kind == 'M') {
		static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
		int m = tz->rule[r].m, w = tz->rule[r].w, d = tz->rule[r].d;
		long long first = days_from_civil(y, (unsigned)m, 1);
		int wd = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
		int dim = mdays[m - 1] + (m == 2 && is_leap(y));
		int mday = 1 + (d - wd + 7) % 7 + (w - 1) * 7;
		while (mday > dim)
			mday -= 7;
		day = first + mday - 1;
	} else if (tz->rule[r].kind == 'J') {
		int n = tz->rule[r].n;
		day = days_from_civil(y, 1, 1) + n - 1 + (is_leap(y) && n >= 60);
	} else {
		day = days_from_civil(y, 1, 1) + tz->rule[r].n;
	}
	return day * 86400 + tz->rule[r].secs - off;
}

static int posix_offset(const posix_tz *tz, long long t, int *isdst)
{
	int y, m, d;
	long long start, end;

	*isdst = 0;
	if (!tz->has_dst)
		return tz->std_off;
	civil_from_days((t + tz->std_off) / 86400 - ((t + tz->std_off) % 86400 < 0), &y, &m, &d);
	start = rule_time(tz, 0, y, tz->std_off);
	end = rule_time(tz, 1, y, tz->dst_off);
	if (start < end)
		*isdst = t >= start && t < end;
	else /* southern hemisphere: DST spans the new year */
		*isdst = !(t >= end && t < start);
	return *isdst ? tz->dst_off : tz->std_off;
}

/* ------------------------------------------------------------ TZif files */

/* A big-endian signed integer of N (4 or 8) bytes. */
static long long be(const unsigned char *p, int n)
{
	unsigned long long v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (long long)v;
}

static int zone_name_ok(const char *z)
{
	const char *p;

	if (!*z || *z == '/' || strstr(z, ".."))
		return 0;
	for (p = z; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return 0;
	return 1;
}

int signcore__tz_offset(signcore_ctx *ctx, const char *zone, long long t, int *offset,
	char *abbr, size_t abbr_size)
{
	const char *dir = getenv("TZDIR");
	char path[1024];
	unsigned char *data = NULL;
	long size;
	FILE *f;
	int code = SIGNCORE_OK;

	if (!zone || !*zone || !strcmp(zone, "UTC") || !strcmp(zone, "Etc/UTC") || !strcmp(zone, "Z")) {
		*offset = 0;
		snprintf(abbr, abbr_size, "UTC");
		return SIGNCORE_OK;
	}
	if (!zone_name_ok(zone))
		return signcore__err(ctx, SIGNCORE_EINVAL, "time zone \"%s\" is not a valid zone name", zone);
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	f = fopen(path, "rb");
	if (!f)
		return signcore__err(ctx, SIGNCORE_ENOTFOUND,
			"unknown time zone \"%s\" (no zoneinfo file; is tzdata installed?)", zone);
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 44 || fseek(f, 0, SEEK_SET) != 0 ||
		!(data = malloc((size_t)size + 1)) || fread(data, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		free(data);
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "time zone \"%s\": unreadable zoneinfo file", zone);
	}
	fclose(f);
	data[size] = 0;

	{
		const unsigned char *p = data, *end = data + size;
		long long cnt[6], timecnt, typecnt, charcnt, i, lo, hi, idx = -1;
		const unsigned char *times, *types, *infos, *chars;
		int tsize = 4, utoff, desig;
		posix_tz ptz;

		if (memcmp(p, "TZif", 4) != 0) {
			code = signcore__err(ctx, SIGNCORE_EBADINPUT, "time zone \"%s\": not a TZif file", zone);
			goto done;
		}
		for (i = 0; i < 6; i++)
			cnt[i] = be(p + 20 + 4 * i, 4);
		if (p[4] >= '2') {
			/* Skip the 32-bit block; use the 64-bit one that follows. */
			p += 44 + cnt[3] * 5 + cnt[4] * 6 + cnt[5] + cnt[2] * 8 + cnt[1] + cnt[0];
			if (p + 44 > end || memcmp(p, "TZif", 4) != 0) {
				code = signcore__err(ctx, SIGNCORE_EBADINPUT, "time zone \"%s\": damaged TZif file", zone);
				goto done;
			}
			for (i = 0; i < 6; i++)
				cnt[i] = be(p + 20 + 4 * i, 4);
			tsize = 8;
		}
		timecnt = cnt[3];
		typecnt = cnt[4];
		charcnt = cnt[5];
		times = p + 44;
		types = times + timecnt * tsize;
		infos = types + timecnt;
		chars = infos + typecnt * 6;
		if (typecnt < 1 || chars + charcnt > end) {
			code = signcore__err(ctx, SIGNCORE_EBADINPUT, "time zone \"%s\": damaged TZif file", zone);
			goto done;
		}
		if (timecnt > 0 && t >= be(times, tsize)) {
			lo = 0;
			hi = timecnt - 1;
			while (lo < hi) {
				long long mid = (lo + hi + 1) / 2;
				if (be(times + mid * tsize, tsize) <= t)
					lo = mid;
				else
					hi = mid - 1;
			}
			idx = types[lo];
			/* Past the last transition the footer's rule governs. */
			if (lo == timecnt - 1 && tsize == 8) {
				const unsigned char *foot = chars + charcnt + cnt[2] * 12 + cnt[1] + cnt[0];
				if (foot < end && *foot == '\n') {
					char rule[128];
					size_t n = 0;
					int isdst;
					for (foot++; foot < end && *foot != '\n' && n + 1 < sizeof rule; foot++)
						rule[n++] = (char)*foot;
					rule[n] = 0;
					if (n && parse_posix(rule, &ptz) == 0) {
						*offset = posix_offset(&ptz, t, &isdst);
						snprintf(abbr, abbr_size, "%s", isdst ? ptz.dst_name : ptz.std_name);
						goto done;
					}
				}
			}
		} else {
			idx = 0;
		}
		if (idx >= typecnt)
			idx = 0;
		utoff = (int)be(infos + idx * 6, 4);
		desig = infos[idx * 6 + 5];
		*offset = utoff;
		snprintf(abbr, abbr_size, "%s", desig < charcnt ? (const char *)chars + desig : "");
	}
done:
	free(data);
	return code;
}

/* ------------------------------------------------------------ formatting */

static const char *const months[12] = { "January", "February", "March", "April", "May", "June",
	"July", "August", "September", "October", "November", "December" };
static const char *const wdays[7] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
	"Friday", "Saturday" };

int signcore_format_time(signcore_ctx *ctx, char *buf, size_t size, long long when,
	const char *zone, const char *format)
{
	char abbr[32], tmp[64];
	long long local, days, secs;
	int off = 0, y, m, d, code, wd, yday;
	size_t n = 0;
	const char *f;

	if (!ctx || !buf || !size || !format)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_format_time: NULL argument")
			   : SIGNCORE_EINVAL;
	code = signcore__tz_offset(ctx, zone, when, &off, abbr, sizeof abbr);
	if (code)
		return code;
	local = when + off;
	days = local / 86400 - (local % 86400 < 0);
	secs = local - days * 86400;
	civil_from_days(days, &y, &m, &d);
	wd = (int)(((days % 7) + 11) % 7);
	yday = (int)(days - days_from_civil(y, 1, 1));

	for (f = format; *f; f++) {
		const char *piece = tmp;
		if (*f != '%') {
			tmp[0] = *f;
			tmp[1] = 0;
		} else {
			switch (*++f) {
			case 'Y': snprintf(tmp, sizeof tmp, "%04d", y); break;
			case 'y': snprintf(tmp, sizeof tmp, "%02d", y % 100); break;
			case 'm': snprintf(tmp, sizeof tmp, "%02d", m); break;
			case 'd': snprintf(tmp, sizeof tmp, "%02d", d); break;
			case 'e': snprintf(tmp, sizeof tmp, "%d", d); break;
			case 'b': snprintf(tmp, sizeof tmp, "%.3s", months[m - 1]); break;
			case 'B': piece = months[m - 1]; break;
			case 'a': snprintf(tmp, sizeof tmp, "%.3s", wdays[wd]); break;
			case 'A': piece = wdays[wd]; break;
			case 'H': snprintf(tmp, sizeof tmp, "%02d", (int)(secs / 3600)); break;
			case 'I': snprintf(tmp, sizeof tmp, "%02d", (int)((secs / 3600 + 11) % 12 + 1)); break;
			case 'M': snprintf(tmp, sizeof tmp, "%02d", (int)(secs / 60 % 60)); break;
			case 'S': snprintf(tmp, sizeof tmp, "%02d", (int)(secs % 60)); break;
			case 'p': piece = secs < 43200 ? "AM" : "PM"; break;
			case 'j': snprintf(tmp, sizeof tmp, "%03d", yday + 1); break;
			case 'Z': piece = abbr; break;
			case 'z':
				snprintf(tmp, sizeof tmp, "%c%02d%02d", off < 0 ? '-' : '+',
					abs(off) / 3600, abs(off) / 60 % 60);
				break;
			case '%': piece = "%"; break;
			default:
				return signcore__err(ctx, SIGNCORE_EINVAL,
					"date format \"%s\": unsupported conversion %%%c", format, *f ? *f : ' ');
			}
		}
		if (n + strlen(piece) + 1 > size)
			return signcore__err(ctx, SIGNCORE_ETOOSMALL, "formatted date does not fit in %zu bytes", size);
		memcpy(buf + n, piece, strlen(piece));
		n += strlen(piece);
	}
	buf[n] = 0;
	return SIGNCORE_OK;
}

int signcore__parse_when(const char *s, long long now, long long *out, int *date_only)
{
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0, oh = 0, om = 0;
	char sign;

	*date_only = 0;
	if (!strcmp(s, "now")) {
		*out = now;
		return 0;
	}
	if (!strcmp(s, "today")) {
		*out = now;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	{
		static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
		if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
			return -1;
	}
	if (s[10] == 0) {
		*date_only = 1;
		*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400;
		return 0;
	}
	if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		sscanf(s + 11, "%2d:%2d:%2d%n", &h, &mi, &se, &n) != 3 || n != 8)
		return -1;
	s += 19;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	if (h > 23 || mi > 59 || se > 60)
		return -1;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s;
		if (sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
			return -1;
		*out -= (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
		s += 6;
	} else {
		return -1; /* a time without a zone is ambiguous */
	}
	return *s ? -1 : 0;
}
