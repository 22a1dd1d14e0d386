/*
 * Webhook URLs: parsing, and the addresses a live webhook may not reach
 * (loopback, private, link-local, ... : server-side request forgery).
 * Used when a webhook is saved (signcore.cgi) and again at connect time
 * (signcore-worker), so a name that later resolves elsewhere is caught.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static int v4_forbidden(uint32_t a)
{
	return (a >> 24) == 0 ||                  /* 0.0.0.0/8 "this network" */
		(a >> 24) == 10 ||                    /* 10/8 */
		(a >> 24) == 127 ||                   /* loopback */
		(a & 0xffc00000u) == 0x64400000u ||   /* 100.64/10 carrier-grade NAT */
		(a & 0xffff0000u) == 0xa9fe0000u ||   /* 169.254/16 link-local, cloud metadata */
		(a & 0xfff00000u) == 0xac100000u ||   /* 172.16/12 */
		(a & 0xffffff00u) == 0xc0000000u ||   /* 192.0.0/24 protocol assignments */
		(a & 0xffff0000u) == 0xc0a80000u ||   /* 192.168/16 */
		(a & 0xfffe0000u) == 0xc6120000u ||   /* 198.18/15 benchmarking */
		(a >> 28) >= 14;                      /* multicast, reserved, broadcast */
}

int api_addr_forbidden(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_forbidden(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const unsigned char zero[16];
		if (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1))
			return 1;                         /* :: and ::1 */
		if (!memcmp(b, zero, 10) && b[10] == 0xff && b[11] == 0xff)   /* ::ffff:a.b.c.d */
			return v4_forbidden((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
		if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)   /* 64:ff9b::/96 NAT64 */
			return v4_forbidden((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
		return (b[0] & 0xfe) == 0xfc ||       /* fc00::/7 unique local */
			(b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||   /* fe80::/10 link-local */
			(b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) ||   /* fec0::/10 site-local */
			b[0] == 0xff ||                   /* multicast */
			(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8);  /* documentation */
	}
	return 1;
}

int api_addr_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

int api_url_parse(const char *url, api_url *u)
{
	const char *p, *host, *end;
	size_t n;

	memset(u, 0, sizeof *u);
	if (!strncasecmp(url, "https://", 8)) {
		u->https = 1;
		p = url + 8;
	} else if (!strncasecmp(url, "http://", 7))
		p = url + 7;
	else
		return -1;
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)))
		return -1;                            /* no user:password@ */
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb)
			return -1;
		host = p + 1;
		n = (size_t)(rb - host);
		p = rb + 1;
	} else {
		host = p;
		n = strcspn(p, ":/?#");
		p += n;
	}
	if (!n || n >= sizeof u->host)
		return -1;
	memcpy(u->host, host, n);
	u->host[n] = 0;
	u->port = u->https ? 443 : 80;
	if (*p == ':') {
		char *e;
		long port = strtol(p + 1, &e, 10);
		if (e == p + 1 || e != end || port < 1 || port > 65535)
			return -1;
		u->port = (int)port;
	} else if (p != end)
		return -1;
	for (n = 0; u->host[n]; n++)
		if ((unsigned char)u->host[n] <= ' ' || u->host[n] == '%' || u->host[n] == '\\')
			return -1;
	return 0;
}

int api_url_check(const char *url, int test, char *err, size_t errsz)
{
	struct addrinfo hints, *res = NULL, *ai;
	api_url u;
	int rc, loopback_only = 1, any = 0;

	if (strlen(url) > 2048 || api_url_parse(url, &u)) {
		snprintf(err, errsz, "url must be an absolute http(s) URL without user name or password");
		return -1;
	}
	if (!u.https && !test) {
		snprintf(err, errsz, "live-mode webhooks must use https://");
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(u.host, NULL, &hints, &res))) {
		snprintf(err, errsz, "the host %s cannot be resolved: %s", u.host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		any = 1;
		if (!api_addr_loopback(ai->ai_addr))
			loopback_only = 0;
		if (!test && api_addr_forbidden(ai->ai_addr)) {
			char ip[INET6_ADDRSTRLEN] = "?";
			if (ai->ai_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, ip, sizeof ip);
			else if (ai->ai_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, ip, sizeof ip);
			snprintf(err, errsz, "%s resolves to %s, a private, loopback or reserved address: live-mode"
				" webhooks must reach a public address", u.host, ip);
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	if (!any) {
		snprintf(err, errsz, "the host %s has no address", u.host);
		return -1;
	}
	if (!u.https && !loopback_only) {
		snprintf(err, errsz, "http:// is allowed only for loopback addresses (in test mode); use https://");
		return -1;
	}
	return 0;
}
