#!/usr/bin/env bash
# Installs the system packages afk needs on Debian or Ubuntu: git (mirrors, worktrees, push) and
# ca-certificates (git's HTTPS to GitHub), bubblewrap (the agent's sandbox), slirp4netns, iproute2
# and util-linux (a network of its own for network-on commands: slirp4netns, ip, unshare, setpriv).
# With --tests also chromium (the setup page is tested in a real browser) and python3 (the eval
# suite's Python tasks).
#
# One script for every place that installs them: .ci/run (CI on a fresh machine), the Dockerfile
# (the image's runtime stage) and an operator preparing a host. Idempotent: when every program is
# already there it installs nothing and needs neither root nor apt-get.
#
# Usage: scripts/install-system-packages.sh [--tests] [--check] [--clean]
#   --tests  also chromium and python3
#   --check  install nothing; exit 1 and name the missing packages when any is missing
#   --clean  delete apt's package lists after installing (for an image; a host keeps them)
set -euo pipefail

with_tests=0
check_only=0
clean=0
for argument in "$@"; do
  case "$argument" in
    --tests) with_tests=1 ;;
    --check) check_only=1 ;;
    --clean) clean=1 ;;
    -h | --help)
      sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-system-packages: unknown option ${argument} (use --tests, --check, --clean or --help)" >&2
      exit 2
      ;;
  esac
done

# ip and setpriv often live in /usr/sbin or /sbin, off an ordinary user's PATH.
PATH="$PATH:/usr/sbin:/sbin"

# program:package pairs; a package is installed when one of its programs is missing.
programs=(git:git bwrap:bubblewrap slirp4netns:slirp4netns ip:iproute2 unshare:util-linux setpriv:util-linux)
if [ "$with_tests" = 1 ]; then programs+=(chromium:chromium); fi

missing=()
for pair in "${programs[@]}"; do
  program="${pair%%:*}"
  package="${pair#*:}"
  if ! command -v "$program" >/dev/null 2>&1; then
    case " ${missing[*]-} " in
      *" ${package} "*) ;;
      *) missing+=("$package") ;;
    esac
  fi
done
# The eval suite's Python tasks run python3 in the sandbox, which sees only the system's directories
# (a python3 of pyenv or a virtualenv on PATH is not there).
if [ "$with_tests" = 1 ] && [ ! -x /usr/bin/python3 ] && [ ! -x /usr/local/bin/python3 ]; then missing+=(python3); fi
# Node carries its own certificate store; git needs the system's to fetch from GitHub over HTTPS.
if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then missing+=(ca-certificates); fi

if [ "${#missing[@]}" = 0 ]; then
  echo "install-system-packages: everything is installed (${programs[*]%%:*})"
  exit 0
fi

install_line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$check_only" = 1 ]; then
  echo "install-system-packages: missing ${missing[*]}; install with: sudo ${install_line}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-packages: missing ${missing[*]}, and there is no apt-get here (this script knows Debian and Ubuntu)." >&2
  echo "Install the same programs with your distribution's package manager (Fedora: sudo dnf install git bubblewrap slirp4netns iproute util-linux)." >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-system-packages: missing ${missing[*]}; installing needs root. Run: sudo $0 $*" >&2
  echo "or install them yourself: sudo ${install_line}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-system-packages: installing ${missing[*]}"
apt-get update -qq
# shellcheck disable=SC2086 # the package names are single words
apt-get install -y -qq --no-install-recommends ${missing[*]} >/dev/null
# The package lists are only needed to install; an image should not carry them.
if [ "$clean" = 1 ]; then rm -rf /var/lib/apt/lists/*; fi

still_missing=()
for pair in "${programs[@]}"; do
  if ! command -v "${pair%%:*}" >/dev/null 2>&1; then still_missing+=("${pair%%:*}"); fi
done
if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then still_missing+=(/etc/ssl/certs/ca-certificates.crt); fi
if [ "${#still_missing[@]}" != 0 ]; then
  echo "install-system-packages: installed ${missing[*]}, but ${still_missing[*]} still cannot be found" >&2
  exit 1
fi
echo "install-system-packages: installed ${missing[*]}"
