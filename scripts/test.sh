#!/usr/bin/env bash
# test.sh: the project's full check, as CI runs it.
#
#   1. gofmt: every tracked .go file is formatted
#   2. go mod tidy -diff: go.mod and go.sum are tidy; staticcheck ./...
#      (default and tensorflow builds), at the version pinned below
#      (installed with go install when missing or another version)
#   2b. go vet ./... (default build)
#   3. CGO_ENABLED=0 go build ./... (the default build needs no cgo)
#   4. go test -race ./... (default build: the pure-Go engine)
#  4b. the beam/ module (tfseg-beam, Apache Beam): go vet, build, test
#   5. real TensorFlow: go vet and go test with -tags tensorflow, against the
#      libtensorflow that scripts/install-libtensorflow.sh installed
#      (missing library = failure, never a skip)
#   6. goldens: scripts/check-goldens.sh, when present; generated files:
#      scripts/check-generated.sh (go generate ./... changes nothing)
#   7. fuzz (bounded): scripts/fuzz.sh runs every fuzz target for FUZZTIME
#      (default 15s) each; crashers land in testdata/fuzz/<Target>/
#
# Run from anywhere: scripts/test.sh (or bash scripts/test.sh).
# Extra arguments are passed to both `go test` runs (e.g. -count=1, -run X).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

total_start=$SECONDS
step_start=$SECONDS
step() {
	printf '\n==== %s ====\n' "$*"
	step_start=$SECONDS
}
done_step() { printf -- '---- ok (%ds)\n' "$((SECONDS - step_start))"; }
fail() {
	printf '\nFAIL: %s\n' "$*" >&2
	exit 1
}

command -v go >/dev/null 2>&1 || fail "go not found on PATH"

step "1/7 gofmt"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -d '' gofiles < <(git ls-files -z -- '*.go')
else
	mapfile -d '' gofiles < <(find . -name '*.go' -not -path './.git/*' -print0)
fi
if ((${#gofiles[@]} > 0)); then
	unformatted="$(gofmt -l "${gofiles[@]}")"
	[[ -z "$unformatted" ]] || fail "gofmt: these files need gofmt -w:
$unformatted"
fi
done_step

staticcheck_module=honnef.co/go/tools/cmd/staticcheck@v0.8.2 # staticcheck 2026.2.2, supports Go 1.26
step "2/7 go mod tidy -diff; staticcheck ($staticcheck_module)"
go mod tidy -diff || fail "go mod tidy would change go.mod/go.sum (diff above): run go mod tidy"
staticcheck_bin="$(go env GOPATH)/bin/staticcheck"
if ! "$staticcheck_bin" -version 2>/dev/null | grep -q "(${staticcheck_module##*@v})"; then
	GOFLAGS= go install "$staticcheck_module"
fi
"$staticcheck_bin" ./...
done_step

step "2b/7 go vet ./... (default build)"
go vet ./...
done_step

step "3/7 CGO_ENABLED=0 go build ./..."
CGO_ENABLED=0 go build ./...
done_step

step "4/7 go test -race ./... (default build)"
go test -race "$@" ./...
done_step

step "4b/7 beam module (beam/: its own go.mod; the Beam SDK comes from the module proxy)"
(
	cd beam
	# No go.work: a workspace would build the core module with Beam's
	# dependency versions. -mod=readonly: go.mod and go.sum are complete.
	# CGO_ENABLED=0 for every command: the workers are static binaries, and
	# one build configuration compiles the Beam SDK once.
	export GOWORK=off GOFLAGS="$(go env GOFLAGS) -mod=readonly" GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}" CGO_ENABLED=0
	go mod download
	GOFLAGS= go mod tidy -diff || fail "beam/: go mod tidy would change go.mod/go.sum (diff above): run (cd beam && GOWORK=off go mod tidy)"
	go vet ./...
	go build ./...
	# Builds tfseg-beam and Beam's cmd/prism, runs pipelines on Prism in
	# process and through a standalone Prism job server (LOOPBACK, PROCESS).
	go test "$@" ./...
)
done_step

step "5/7 real TensorFlow: go vet / go test -tags tensorflow ./..."
tf_env="$(scripts/install-libtensorflow.sh --check --env)" ||
	fail "libtensorflow is not installed: run scripts/install-libtensorflow.sh first (the tensorflow tests are never skipped)"
eval "$tf_env"
# graft and tfgo each register TensorFlow's .proto files; the one binary
# linking both (tfgobridge's tests) relaxes the conflict policy itself, by
# importing tfgobridge (see its package doc): nothing to set here.
# TensorFlow's INFO log lines (CPU features, SavedModel loading) drown the test output.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-1}"
go vet -tags tensorflow ./...
"$staticcheck_bin" -tags tensorflow ./...
go test -tags tensorflow "$@" ./...
done_step

step "6/7 goldens; generated files"
if [ -x scripts/check-goldens.sh ]; then scripts/check-goldens.sh; else echo "scripts/check-goldens.sh not present: nothing to check"; fi
scripts/check-generated.sh
done_step

step "7/7 fuzz (bounded): FUZZTIME=${FUZZTIME:-15s} per target"
FUZZTIME="${FUZZTIME:-15s}" scripts/fuzz.sh
done_step

printf '\nALL CHECKS PASSED (%ds)\n' "$((SECONDS - total_start))"
