# Shared by the benchmark scripts (sourced, bash).
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# resolve_signcore: find the signcore to time. In: $signcore (may be empty),
# $root, $work, note(), die(). Out: $signcore (an absolute path to the real
# program), $libdir (the library path a libtool wrapper would set, or
# empty) and $wrapped (1 when $signcore was such a wrapper); exports
# LD_LIBRARY_PATH accordingly. The wrapper itself is a shell script whose
# start-up would be timed with the program, so it is resolved away.
resolve_signcore()
{
	local prog real
	libdir=
	wrapped=
	if [ -z "$signcore" ]; then
		if [ -x "$root/tools/signcore" ]; then
			signcore="$root/tools/signcore"
		elif command -v signcore >/dev/null; then
			signcore=$(command -v signcore)
		else
			note "no signcore given or found: building one in $work/build"
			( cd "$root" && { [ -x configure ] || autoreconf -fi; } ) >"$work/build.log" 2>&1 ||
				die "autoreconf failed, see $work/build.log"
			mkdir -p "$work/build"
			( cd "$work/build" && "$root/configure" && make -j"$(nproc)" tools/signcore ) >>"$work/build.log" 2>&1 ||
				die "build failed, see $work/build.log"
			signcore="$work/build/tools/signcore"
		fi
	fi
	[ -x "$signcore" ] || die "signcore not executable: $signcore"
	signcore=$(cd "$(dirname "$signcore")" && pwd)/$(basename "$signcore")
	if head -c 4096 "$signcore" | grep -q 'temporary wrapper script for'; then
		# libtool wrapper: time the real program, with the library path
		# the wrapper would have set (it execs "$progdir/$program").
		prog=$(sed -n "s/^  program='\{0,1\}\([^']*\)'\{0,1\}\$/\1/p; s/^  program=lt-'\([^']*\)'\$/lt-\1/p" "$signcore" | head -n1)
		# shellcheck disable=SC2016 # the $ is literal text in the wrapper
		libdir=$(sed -n 's/^ *LD_LIBRARY_PATH="\(.*\):\$LD_LIBRARY_PATH"$/\1/p' "$signcore" | head -n1)
		real="$(dirname "$signcore")/.libs/${prog:-signcore}"
		[ -x "$real" ] || real="$(dirname "$signcore")/.libs/signcore"
		[ -x "$real" ] || die "libtool wrapper $signcore: cannot find the real binary"
		note "$signcore is a libtool wrapper; timing $real (LD_LIBRARY_PATH=$libdir)"
		signcore=$real
		wrapped=1
		export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	fi
}

# check_busy: set $busy to how busy the CPUs are (percent, all CPUs over
# 1 s) and warn when other work would make the numbers noisy. (The load
# average would also count this script's own set-up work.)
check_busy()
{
	busy=$(python3 -c '
import time
def snap():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle + iowait
t0, i0 = snap(); time.sleep(1); t1, i1 = snap()
print(round(100.0 * (1 - (i1 - i0) / max(1, t1 - t0))))')
	if [ "$busy" -gt 15 ]; then
		note "warning: the CPUs were ${busy}% busy with other work just before timing: numbers will be noisy"
	fi
}
