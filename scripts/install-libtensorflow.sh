#!/usr/bin/env bash
# install-libtensorflow.sh: install the real TensorFlow C library (1.15, CPU)
# for the `tensorflow` build tag, where no TensorFlow 2.x C library exists.
#
# The library comes from the npm package tfjs-node-lambda-releases@1.6.1,
# whose file package/nodejs12.x-tf2.7.0.br is a brotli-compressed tar of a
# node_modules tree holding @tensorflow/tfjs-node/deps/{lib,include}. The Go
# bindings (github.com/wamuir/graft) compile against TensorFlow 2.18's C
# headers, taken from the Go module github.com/tensorflow/tensorflow@v2.18.0+incompatible,
# and link and run against this 1.15 library (string tensors excepted).
#
# Usage:
#   scripts/install-libtensorflow.sh            install (if needed), print a summary and the env
#   scripts/install-libtensorflow.sh --env      install (if needed); stdout holds only export lines:
#                                               eval "$(scripts/install-libtensorflow.sh --env)"
#   scripts/install-libtensorflow.sh --check    do not install; fail if the library is missing
#                                               (combine with --env to print the export lines)
#   scripts/install-libtensorflow.sh --force    reinstall even when the cache is complete
#
# Environment:
#   TFSEG_CACHE       cache root (default $HOME/.cache/tfseg); the library goes to
#                     $TFSEG_CACHE/libtensorflow/{lib,include}, outside the git tree
#   TFSEG_LD=bfd      keep the default linker (otherwise gold is used when available)
#   TFSEG_TFJS_TGZ    path of an already downloaded tfjs-node-lambda-releases-1.6.1.tgz
#                     (checked against its SHA-256); without it the script runs `npm pack`
#
# Requires: bash, tar, sha256sum, node (>= 11.7, for zlib.createBrotliDecompress),
# npm (unless TFSEG_TFJS_TGZ is given), go.
set -euo pipefail

readonly NPM_PKG="tfjs-node-lambda-releases"
readonly NPM_VERSION="1.6.1"
readonly NPM_TGZ_SHA256="b7c30d059063526e0adb372652870685c573dacf04107ee57abe37c8d8b6d011"
readonly BR_MEMBER="package/nodejs12.x-tf2.7.0.br"
readonly DEPS_PREFIX="node_modules/@tensorflow/tfjs-node/deps"
readonly TF_VERSION="1.15.0"
readonly HEADERS_MODULE="github.com/tensorflow/tensorflow@v2.18.0+incompatible"
# The marker records what a complete install holds; a different marker means reinstall.
readonly MARKER_TEXT="${NPM_PKG}@${NPM_VERSION} ${BR_MEMBER} libtensorflow ${TF_VERSION}"

mode_env=0
mode_check=0
mode_force=0
for arg in "$@"; do
	case "$arg" in
	--env) mode_env=1 ;;
	--check) mode_check=1 ;;
	--force) mode_force=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "install-libtensorflow.sh: unknown argument $arg (see --help)" >&2
		exit 2
		;;
	esac
done
if ((mode_check && mode_force)); then
	echo "install-libtensorflow.sh: --check and --force exclude each other" >&2
	exit 2
fi

cache_root="${TFSEG_CACHE:-${HOME:?HOME is not set; set TFSEG_CACHE}/.cache/tfseg}"
dest="$cache_root/libtensorflow"
marker="$dest/.installed"

log() { echo "install-libtensorflow: $*" >&2; }
die() {
	echo "install-libtensorflow: FAILED: $*" >&2
	exit 1
}
need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH ($2)"
}

installed() {
	[[ -f "$marker" ]] && [[ "$(cat "$marker")" == "$MARKER_TEXT" ]] &&
		[[ -e "$dest/lib/libtensorflow.so" ]] && [[ -e "$dest/lib/libtensorflow_framework.so.1" ]]
}

# link_sonames makes libX.so.MAJOR and libX.so point at each libX.so.MAJOR.MINOR.PATCH.
link_sonames() {
	local lib="$1" f base rest major
	for f in "$lib"/lib*.so.*.*.*; do
		[[ -f "$f" && ! -L "$f" ]] || continue
		f="${f##*/}"
		base="${f%%.so.*}.so"
		rest="${f#"$base".}"
		major="${rest%%.*}"
		[[ -e "$lib/$base.$major" ]] || ln -s "$f" "$lib/$base.$major"
		[[ -e "$lib/$base" ]] || ln -s "$base.$major" "$lib/$base"
	done
}

install_lib() {
	need tar "GNU tar"
	need sha256sum "coreutils"
	need node "Node.js >= 11.7 decompresses the brotli archive; install nodejs"
	node -e 'process.exit(typeof require("zlib").createBrotliDecompress === "function" ? 0 : 1)' ||
		die "node $(node --version) has no zlib.createBrotliDecompress (need Node.js >= 11.7)"

	mkdir -p "$cache_root" || die "cannot create cache dir $cache_root"
	local work
	work="$(mktemp -d "$cache_root/.install.XXXXXX")" || die "cannot create a temp dir in $cache_root"
	# shellcheck disable=SC2064 # expand $work now
	trap "rm -rf '$work'" EXIT

	local tgz
	if [[ -n "${TFSEG_TFJS_TGZ:-}" ]]; then
		[[ -f "$TFSEG_TFJS_TGZ" ]] || die "TFSEG_TFJS_TGZ=$TFSEG_TFJS_TGZ is not a file"
		tgz="$TFSEG_TFJS_TGZ"
		log "using $tgz (TFSEG_TFJS_TGZ)"
	else
		need npm "npm downloads ${NPM_PKG}@${NPM_VERSION}; install npm or set TFSEG_TFJS_TGZ"
		log "downloading ${NPM_PKG}@${NPM_VERSION} with npm pack (about 190 MB)"
		local name
		name="$(cd "$work" && npm pack --loglevel=warn "${NPM_PKG}@${NPM_VERSION}" </dev/null | tail -n 1)" ||
			die "npm pack ${NPM_PKG}@${NPM_VERSION} failed (network or registry problem?)"
		tgz="$work/$name"
		[[ -f "$tgz" ]] || die "npm pack did not produce $tgz"
	fi
	log "checking SHA-256 of $tgz"
	local sum
	sum="$(sha256sum "$tgz" | cut -d' ' -f1)" || die "sha256sum $tgz failed"
	[[ "$sum" == "$NPM_TGZ_SHA256" ]] ||
		die "$tgz has SHA-256 $sum, expected $NPM_TGZ_SHA256 (corrupt or wrong file)"

	log "extracting $BR_MEMBER"
	tar -xzf "$tgz" -C "$work" "$BR_MEMBER" || die "cannot extract $BR_MEMBER from $tgz"
	[[ "$tgz" == "$work"/* ]] && rm -f "$tgz"

	log "decompressing (brotli) and extracting $DEPS_PREFIX/{lib,include}"
	mkdir -p "$work/tree"
	# The inline node script streams the brotli payload to tar; a failure on
	# either side fails the pipeline (pipefail).
	node -e '
		const fs = require("fs"), zlib = require("zlib");
		const fail = (what) => (err) => { console.error("brotli " + what + ": " + err.message); process.exit(1); };
		fs.createReadStream(process.argv[1]).on("error", fail("read"))
			.pipe(zlib.createBrotliDecompress()).on("error", fail("decompress"))
			.pipe(process.stdout).on("error", fail("write"));
	' "$work/$BR_MEMBER" |
		tar -x -f - -C "$work/tree" --wildcards "$DEPS_PREFIX/lib/*" "$DEPS_PREFIX/include/*" ||
		die "decompressing $BR_MEMBER or untarring $DEPS_PREFIX failed"
	rm -f "$work/$BR_MEMBER"

	local deps="$work/tree/$DEPS_PREFIX"
	[[ -d "$deps/lib" && -d "$deps/include" ]] || die "$DEPS_PREFIX/{lib,include} missing from $BR_MEMBER"
	mkdir -p "$work/out/lib"
	cp -a "$deps"/lib/libtensorflow*.so* "$work/out/lib/" || die "no libtensorflow*.so* in $DEPS_PREFIX/lib"
	cp -a "$deps/include" "$work/out/include" || die "cannot copy $DEPS_PREFIX/include"
	chmod -R u+w "$work/out"
	link_sonames "$work/out/lib"
	[[ -e "$work/out/lib/libtensorflow.so" && -e "$work/out/lib/libtensorflow_framework.so.1" ]] ||
		die "libtensorflow.so or libtensorflow_framework.so.1 missing after extraction"
	echo "$MARKER_TEXT" >"$work/out/.installed"

	rm -rf "$dest"
	mv "$work/out" "$dest" || die "cannot move the library into $dest"
	rm -rf "$work"
	trap - EXIT
	log "installed libtensorflow $TF_VERSION in $dest"
}

# Recreate sonames a copy without symlinks lost (a no-op when present).
if [[ -f "$marker" && -d "$dest/lib" ]]; then
	link_sonames "$dest/lib"
fi
if ((mode_force)) || ! installed; then
	if ((mode_check)); then
		die "libtensorflow is not installed in $dest; run scripts/install-libtensorflow.sh (TFSEG_CACHE=${TFSEG_CACHE:-unset})"
	fi
	install_lib
else
	log "cache hit: $dest"
fi

# TensorFlow 2.18's C headers, which graft compiles against. Run outside any
# module so that go.mod/go.sum of the caller are never touched.
need go "the Go toolchain fetches the TensorFlow C headers"
json="$(cd / && GOWORK=off GOFLAGS= go mod download -json "$HEADERS_MODULE" 2>&1)" ||
	die "go mod download $HEADERS_MODULE failed: $json"
hdr="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)"
[[ -n "$hdr" && -f "$hdr/tensorflow/c/c_api.h" ]] ||
	die "go mod download $HEADERS_MODULE gave no usable Dir (no tensorflow/c/c_api.h): $json"

lib="$dest/lib"
want_cflags="-I$hdr -I$hdr/third_party/xla/third_party/tsl -I$hdr/third_party/xla"
want_ldflags="-L$lib -Wl,-rpath,$lib"
# GNU ld (bfd) 2.40+ warns ".dynsym local symbol at index ..." for every link
# against this 2019 library; gold links it silently. Use gold when the C
# compiler can (TFSEG_LD=bfd keeps the default linker).
if [[ "${TFSEG_LD:-}" != "bfd" ]] &&
	printf 'int main(void){return 0;}\n' | "${CC:-gcc}" -x c - -fuse-ld=gold -o /dev/null >/dev/null 2>&1; then
	want_ldflags="$want_ldflags -fuse-ld=gold"
fi

# prepend adds want before current unless current already holds it.
prepend() {
	local want="$1" current="$2" sep="$3"
	case "$sep$current$sep" in
	*"$sep$want$sep"*) printf '%s' "$current" ;;
	"$sep$sep") printf '%s' "$want" ;;
	*) printf '%s%s%s' "$want" "$sep" "$current" ;;
	esac
}
# Unset CGO_CFLAGS/CGO_LDFLAGS mean Go's default "-O2 -g"; keep it.
cflags="$(prepend "$want_cflags" "${CGO_CFLAGS-"-O2 -g"}" " ")"
ldflags="$(prepend "$want_ldflags" "${CGO_LDFLAGS-"-O2 -g"}" " ")"
ldpath="$(prepend "$lib" "${LD_LIBRARY_PATH:-}" ":")"

# quote single-quotes a value for the shell.
quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
exports() {
	echo "export CGO_ENABLED=1"
	echo "export CGO_CFLAGS=$(quote "$cflags")"
	echo "export CGO_LDFLAGS=$(quote "$ldflags")"
	echo "export LD_LIBRARY_PATH=$(quote "$ldpath")"
}

if ((mode_env)); then
	exports
else
	cat <<EOF
libtensorflow $TF_VERSION (CPU) is in $dest
TensorFlow 2.18 C headers are in $hdr

Build and test with real TensorFlow after exporting:
$(exports)

  or: eval "\$(scripts/install-libtensorflow.sh --env)"
then: go test -tags tensorflow ./...
EOF
fi
