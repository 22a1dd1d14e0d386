#!/bin/sh
# Install what signcore needs on Debian 12 (when missing), then configure and
# build it in the source tree. Used by samples/demo.sh and tests/run.sh.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -eu
cd "$(dirname "$0")/.."

DEPS="build-essential autoconf automake libtool pkg-config python3 tzdata
 libmupdf-dev libmujs-dev libgumbo-dev libopenjp2-7-dev libjbig2dec0-dev libjpeg-dev
 libharfbuzz-dev libfreetype-dev zlib1g-dev libssl-dev libjansson-dev libcurl4-openssl-dev
 check qpdf poppler-utils libharfbuzz-bin mupdf-tools
 openssl lighttpd libnss3-tools curl
 libsqlite3-dev libfcgi-dev spawn-fcgi python3-yaml nodejs strace"

missing=""
for p in $DEPS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bootstrap: installing:$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
	./configure --enable-werror ${SIGNCORE_CONFIGURE_FLAGS:-} >/dev/null
fi
make -j"$(nproc)" >/dev/null
echo "bootstrap: built tools/signcore ($(./tools/signcore --version))"
