/*
 * Work done on another CPU while the caller goes on: the first signature
 * in a process has jobs that do not depend on the PDF, and a machine with
 * a second CPU can do them beside the appearance's layout.
 *
 * OpenSSL's one-time set-up: its tables of digest, signature and cipher
 * implementations are built on first use, and the primary random
 * generator (which RSA blinding draws on) is seeded. In a fresh process
 * the first RSA-2048 signature took 1.0-1.5 ms here, against 0.25 ms for
 * the next. All of that state is global, so a helper builds it and the
 * signature finds it ready. Nothing waits for the helper: OpenSSL's
 * caches are locked, and a caller that gets there first builds what it
 * needs itself.
 *
 * Helpers run only for the first signature in a process, and only when
 * the process may run on more than one CPU. A helper is bound to the CPUs
 * other than the caller's: left to itself, Linux often queues a new
 * thread behind its parent on the parent's CPU, where it would start only
 * after the work it was meant to overlap. A helper that has not started
 * when the caller needs its result does nothing; the caller does the job.
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

enum { SIDE_IDLE, SIDE_BUSY, SIDE_SKIP };

struct sc_side {
	pthread_t thread;
	int state;          /* SIDE_*, changed atomically */
	cpu_set_t cpus;     /* the CPUs the caller may run on */
	void (*fn)(void *);
	void *arg;
};

static void *side_main(void *arg)
{
	sc_side *s = arg;
	int idle = SIDE_IDLE;

	if (__atomic_compare_exchange_n(&s->state, &idle, SIDE_BUSY, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		s->fn(s->arg);
	return NULL;
}

sc_side *signcore__side_start(void (*fn)(void *), void *arg)
{
	sc_side *s;
	cpu_set_t others;
	pthread_attr_t attr;
	sigset_t all, old;
	int cpu, ok = 0;

	if (!(s = calloc(1, sizeof *s)))
		return NULL;
	if (sched_getaffinity(0, sizeof s->cpus, &s->cpus) != 0 || (cpu = sched_getcpu()) < 0)
		goto fail;
	others = s->cpus;
	CPU_CLR(cpu, &others);
	if (CPU_COUNT(&others) == 0)
		goto fail;
	s->fn = fn;
	s->arg = arg;
	s->state = SIDE_IDLE;
	if (pthread_attr_init(&attr) != 0)
		goto fail;
	/* The helper takes no signals: they stay with the caller's threads. */
	sigfillset(&all);
	if (pthread_attr_setaffinity_np(&attr, sizeof others, &others) == 0 &&
	    pthread_sigmask(SIG_SETMASK, &all, &old) == 0) {
		ok = pthread_create(&s->thread, &attr, side_main, s) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&attr);
	if (ok)
		return s;
fail:
	free(s);
	return NULL;
}

int signcore__side_join(sc_side *s)
{
	int idle = SIDE_IDLE, ran;

	if (!s)
		return 0;
	/* A helper that has not started yet (its CPUs busy) now does nothing,
	 * and may run on this CPU while the caller waits for it. */
	ran = !__atomic_compare_exchange_n(&s->state, &idle, SIDE_SKIP, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	pthread_setaffinity_np(s->thread, sizeof s->cpus, &s->cpus);
	pthread_join(s->thread, NULL);
	free(s);
	return ran;
}

/* ------------------------------------------------------ OpenSSL set-up */

struct sc_warm {
	sc_side *side;
	EVP_PKEY *key;
	const EVP_MD *md;
};

static void warm_up(void *arg)
{
	sc_warm *w = arg;
	unsigned char b[1];
	EVP_PKEY_CTX *pc;
	EVP_MD *md;

	(void)RAND_priv_bytes(b, sizeof b);
	if ((md = EVP_MD_fetch(NULL, EVP_MD_get0_name(w->md), NULL)))
		EVP_MD_free(md);
	if ((pc = EVP_PKEY_CTX_new_from_pkey(NULL, w->key, NULL))) {
		(void)EVP_PKEY_sign_init(pc);
		EVP_PKEY_CTX_free(pc);
	}
	ERR_clear_error();
	OPENSSL_thread_stop();
}

sc_warm *signcore__warm_start(const signcore_signer *s, const EVP_MD *md)
{
	static int started;
	sc_warm *w;

	if (!s || !s->key || !md || __atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL))
		return NULL;
	if (!(w = calloc(1, sizeof *w)))
		return NULL;
	if (!EVP_PKEY_up_ref(s->key)) {
		free(w);
		return NULL;
	}
	w->key = s->key;
	w->md = md;
	if (!(w->side = signcore__side_start(warm_up, w))) {
		EVP_PKEY_free(w->key);
		free(w);
		return NULL;
	}
	return w;
}

void signcore__warm_join(sc_warm *w)
{
	if (!w)
		return;
	signcore__side_join(w->side);
	EVP_PKEY_free(w->key);
	free(w);
}
