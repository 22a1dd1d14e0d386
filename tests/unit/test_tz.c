/* Time zones and date formatting. SPDX-License-Identifier: AGPL-3.0-or-later */
#include "testutil.h"

static const char *fmt(long long t, const char *zone, const char *f)
{
	static char buf[128];
	int rc = signcore_format_time(ctx, buf, sizeof buf, t, zone, f);

	ck_assert_msg(rc == SIGNCORE_OK, "%s: %s", zone, signcore_ctx_last_error(ctx));
	return buf;
}

/* 2026-11-21T10:10:00Z */
#define T_NOV 1795255800LL
/* 2026-07-01T12:00:00Z */
#define T_JUL 1782907200LL
/* 2040-07-01T12:00:00Z: past the zone files' transition tables on some
 * builds, where the POSIX rule in the file's footer decides. */
#define T_2040 2224756800LL

START_TEST(tz_fixed_offsets)
{
	ck_assert_str_eq(fmt(T_NOV, "UTC", "%Y-%m-%d %H:%M:%S %z"), "2026-11-21 10:10:00 +0000");
	ck_assert_str_eq(fmt(T_NOV, "Asia/Kolkata", "%Y-%m-%d %H:%M %Z %z"), "2026-11-21 15:40 IST +0530");
	ck_assert_str_eq(fmt(T_NOV, "Asia/Kathmandu", "%H:%M %z"), "15:55 +0545");
}
END_TEST

START_TEST(tz_daylight_saving)
{
	ck_assert_str_eq(fmt(T_JUL, "America/New_York", "%H:%M %Z"), "08:00 EDT");
	ck_assert_str_eq(fmt(T_NOV, "America/New_York", "%H:%M %Z"), "05:10 EST");
	ck_assert_str_eq(fmt(T_JUL, "Europe/London", "%H:%M %Z"), "13:00 BST");
	/* Southern hemisphere: summer time spans the new year. */
	ck_assert_str_eq(fmt(T_NOV, "Australia/Sydney", "%H:%M %Z"), "21:10 AEDT");
	ck_assert_str_eq(fmt(T_JUL, "Australia/Sydney", "%H:%M %Z"), "22:00 AEST");
	ck_assert_str_eq(fmt(T_2040, "America/New_York", "%Y %H:%M %Z"), "2040 08:00 EDT");
	ck_assert_str_eq(fmt(T_2040 + 180LL * 86400, "America/New_York", "%H:%M %Z"), "07:00 EST");
}
END_TEST

START_TEST(tz_format_directives)
{
	ck_assert_str_eq(fmt(T_NOV, "UTC", "%d %b %Y"), "21 Nov 2026");
	ck_assert_str_eq(fmt(T_NOV, "UTC", "%A, %e %B %y"), "Saturday, 21 November 26");
	ck_assert_str_eq(fmt(T_NOV, "UTC", "%I:%M %p, day %j, 100%%"), "10:10 AM, day 325, 100%");
	ck_assert_str_eq(fmt(0, "UTC", "%a %Y-%m-%d"), "Thu 1970-01-01");
	ck_assert_str_eq(fmt(951782400LL, "UTC", "%Y-%m-%d"), "2000-02-29");
}
END_TEST

START_TEST(tz_errors)
{
	char buf[8];

	ck_assert_int_eq(signcore_format_time(ctx, buf, sizeof buf, 0, "Mars/Olympus", "%Y"), SIGNCORE_ENOTFOUND);
	ck_assert(contains(signcore_ctx_last_error(ctx), "Mars/Olympus"));
	ck_assert_int_eq(signcore_format_time(ctx, buf, sizeof buf, 0, "../../etc/passwd", "%Y"), SIGNCORE_EINVAL);
	ck_assert_int_eq(signcore_format_time(ctx, buf, sizeof buf, 0, "UTC", "%Q"), SIGNCORE_EINVAL);
	ck_assert_int_eq(signcore_format_time(ctx, buf, sizeof buf, 0, "UTC", "%B %B %B"), SIGNCORE_ETOOSMALL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tz");
	TCase *tc = tcase_create("tz");

	tcase_add_checked_fixture(tc, setup, teardown);
	ADD(tc, tz_fixed_offsets);
	ADD(tc, tz_daylight_saving);
	ADD(tc, tz_format_directives);
	ADD(tc, tz_errors);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
