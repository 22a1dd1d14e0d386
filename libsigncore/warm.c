/*
 * The first signature in a process pays for OpenSSL's one-time set-up:
 * its tables of digest, signature and cipher implementations are built on
 * first use, and the primary random generator (which RSA blinding draws
 * on) is seeded. In a fresh process the first RSA-2048 signature took
 * 1.0-1.5 ms here, against 0.25 ms for the next. All of that state is
 * global, so a helper thread builds it on another CPU while the caller
 * lays out the appearance and writes the PDF, and the signature finds it
 * ready. Nothing waits for the helper: OpenSSL's caches are locked, and a
 * caller that gets there first builds what it needs itself.
 *
 * Only the first signature in a process starts a helper, and only when
 * the process may run on more than one CPU. The helper is bound to the
 * CPUs other than the caller's: left to itself, Linux often queues a new
 * thread behind its parent on the parent's CPU, where it would start only
 * after the work it was meant to overlap.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#define _GNU_SOURCE
#include "internal.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

enum { WARM_IDLE, WARM_BUSY, WARM_SKIP };

struct sc_warm {
	pthread_t thread;
	int state;          /* WARM_*, changed atomically */
	cpu_set_t cpus;     /* the CPUs the caller may run on */
	EVP_PKEY *key;
	const EVP_MD *md;
};

static void *warm_up(void *arg)
{
	sc_warm *w = arg;
	unsigned char b[1];
	EVP_PKEY_CTX *pc;
	EVP_MD *md;
	int idle = WARM_IDLE;

	if (!__atomic_compare_exchange_n(&w->state, &idle, WARM_BUSY, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return NULL; /* the caller is done already */
	(void)RAND_priv_bytes(b, sizeof b);
	if ((md = EVP_MD_fetch(NULL, EVP_MD_get0_name(w->md), NULL)))
		EVP_MD_free(md);
	if ((pc = EVP_PKEY_CTX_new_from_pkey(NULL, w->key, NULL))) {
		(void)EVP_PKEY_sign_init(pc);
		EVP_PKEY_CTX_free(pc);
	}
	ERR_clear_error();
	OPENSSL_thread_stop();
	return NULL;
}

sc_warm *signcore__warm_start(const signcore_signer *s, const EVP_MD *md)
{
	static int started;
	sc_warm *w;
	cpu_set_t others;
	pthread_attr_t attr;
	sigset_t all, old;
	int cpu, ok = 0;

	if (!s || !s->key || !md || __atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL))
		return NULL;
	if (!(w = calloc(1, sizeof *w)))
		return NULL;
	if (sched_getaffinity(0, sizeof w->cpus, &w->cpus) != 0 || (cpu = sched_getcpu()) < 0)
		goto fail;
	others = w->cpus;
	CPU_CLR(cpu, &others);
	if (CPU_COUNT(&others) == 0 || !EVP_PKEY_up_ref(s->key))
		goto fail;
	w->key = s->key;
	w->md = md;
	w->state = WARM_IDLE;
	if (pthread_attr_init(&attr) != 0)
		goto fail_key;
	/* The helper takes no signals: they stay with the caller's threads. */
	sigfillset(&all);
	if (pthread_attr_setaffinity_np(&attr, sizeof others, &others) == 0 &&
	    pthread_sigmask(SIG_SETMASK, &all, &old) == 0) {
		ok = pthread_create(&w->thread, &attr, warm_up, w) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&attr);
	if (ok)
		return w;
fail_key:
	EVP_PKEY_free(w->key);
fail:
	free(w);
	return NULL;
}

void signcore__warm_join(sc_warm *w)
{
	int idle = WARM_IDLE;

	if (!w)
		return;
	/* A helper that has not started yet (its CPUs busy) now does nothing,
	 * and may run on this CPU while the caller waits for it. */
	__atomic_compare_exchange_n(&w->state, &idle, WARM_SKIP, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	pthread_setaffinity_np(w->thread, sizeof w->cpus, &w->cpus);
	pthread_join(w->thread, NULL);
	EVP_PKEY_free(w->key);
	free(w);
}
