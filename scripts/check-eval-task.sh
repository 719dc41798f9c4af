#!/usr/bin/env bash
# Validates tasks of afk's eval suite (eval/tasks/<id>/), one or more directories at a time.
# For each task: task.yml has its keys; the visible tests pass at the starting tree; the hidden tests
# fail there; solution.patch makes the hidden and visible tests pass; wrong.patch (if any) keeps the
# visible tests green and the hidden tests red; neither patch touches a hidden path.
# Prints one line per check (ok/FAIL) and exits 1 if any check failed.
# Usage: scripts/check-eval-task.sh eval/tasks/<id> [eval/tasks/<id> ...]
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 <task-dir>..." >&2
  exit 2
fi

failures=0
tasks=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ok() { echo "  ok    $1"; }
bad() {
  echo "  FAIL  $1"
  failures=$((failures + 1))
}

# The value of a top-level `key: value` line of a YAML file, with surrounding quotes removed.
yaml_value() {
  sed -n "s/^$1:[[:space:]]*//p" "$2" | head -n 1 | sed -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# A fresh git repository holding the task's repo/ tree, committed; prints its path.
fresh_copy() {
  local dest
  dest="$(mktemp -d "$work/copy.XXXXXX")"
  cp -R "$1/repo/." "$dest/"
  git -C "$dest" init -q
  git -C "$dest" add -A
  git -C "$dest" -c user.name=eval -c user.email=eval@localhost commit -q -m base
  echo "$dest"
}

# How a named test ended in a test log: ok, fail or missing. Reads node --test's TAP ("ok 3 - name",
# "not ok 3 - name") and python3 -m unittest -v ("name (module.Class.name) ... ok").
test_status() {
  local name="$1" log="$2" results
  results="$(sed -nE -e 's/^[[:space:]]*(not ok|ok) [0-9]+ - (.*)$/\1 - \2/p' \
    -e 's/^([A-Za-z0-9_]+) \(.*\) \.\.\. ok$/ok - \1/p' -e 's/^([A-Za-z0-9_]+) \(.*\) \.\.\. (FAIL|ERROR)$/not ok - \1/p' "$log")"
  if grep -qFx -- "not ok - $name" <<<"$results"; then
    echo fail
  elif grep -qFx -- "ok - $name" <<<"$results"; then
    echo ok
  else
    echo missing
  fi
}

# Checks that every test named in a task.yml list ended as expected in a log; prints what did not.
expect_tests() {
  local list="$1" want="$2" log="$3" name got wrong=""
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    got="$(test_status "$name" "$log")"
    if [ "$want" = ok ] && [ "$got" != ok ]; then wrong="$wrong '$name'($got)"; fi
    if [ "$want" = not-ok ] && [ "$got" = ok ]; then wrong="$wrong '$name'($got)"; fi
  done < <(names "$list")
  echo "$wrong"
}

# The names in a one-line YAML list (`key: ["a", "b"]`) of the current task.yml, one a line.
names() { sed -n "s/^$1:[[:space:]]*\[\(.*\)\][[:space:]]*$/\1/p" "$yml" | grep -oE '"[^"]+"' | tr -d '"' || true; }

# Runs a shell command in a directory with a time limit; its output goes to a log file.
run_in() {
  (cd "$1" && timeout 120 bash -c "$2") >"$3" 2>&1
}

for task in "$@"; do
  task="${task%/}"
  tasks=$((tasks + 1))
  id="$(basename "$task")"
  echo "$id"
  yml="$task/task.yml"

  if [[ ! "$id" =~ ^[a-z0-9]+(-[a-z0-9]+)*$ ]]; then bad "task id is lowercase letters, digits and dashes"; fi
  if [ ! -f "$yml" ] || [ ! -d "$task/repo" ] || [ ! -d "$task/hidden" ] || [ ! -f "$task/solution.patch" ]; then
    bad "task.yml, repo/, hidden/ and solution.patch exist"
    continue
  fi

  # 1. task.yml keys
  missing=""
  for key in title body hidden_test fail_to_pass pass_to_pass language source; do
    grep -q "^$key:" "$yml" || missing="$missing $key"
  done
  if [ -z "$missing" ]; then ok "task.yml has every key"; else bad "task.yml lacks:$missing"; fi
  unknown="$(grep -oE '^[a-z_]+:' "$yml" | tr -d ':' | grep -vxE 'title|body|hidden_test|fail_to_pass|pass_to_pass|language|source|tags' || true)"
  if [ -z "$unknown" ]; then ok "task.yml has no other key"; else bad "task.yml has unknown keys: $(echo "$unknown" | tr '\n' ' ')"; fi
  language="$(yaml_value language "$yml")"
  case "$language" in javascript | python) ok "language is $language" ;; *) bad "language is javascript or python (got '$language')" ;; esac
  if [ -f "$task/wrong.patch" ]; then
    if grep -qE '^tags:.*obvious-fix-wrong' "$yml"; then ok "tagged obvious-fix-wrong (has wrong.patch)"; else bad "has wrong.patch but is not tagged obvious-fix-wrong"; fi
  fi
  if [ -e "$task/repo/.git" ]; then bad "repo/ is a plain tree (no .git)"; else ok "repo/ is a plain tree"; fi

  hidden_test="$(yaml_value hidden_test "$yml")"
  visible_test="$(yaml_value test "$task/repo/.github/afk.yml")"
  if [ -z "$visible_test" ]; then
    bad "repo/.github/afk.yml names a test command"
    continue
  fi

  # Every test named in fail_to_pass is defined in hidden/; every pass_to_pass one in repo/ or hidden/.
  unnamed=""
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    grep -rqF -- "$name" "$task/hidden" || unnamed="$unnamed '$name'"
  done < <(names fail_to_pass)
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    grep -rqF -- "$name" "$task/hidden" "$task/repo" || unnamed="$unnamed '$name'"
  done < <(names pass_to_pass)
  if [ -z "$(names fail_to_pass)" ]; then bad "fail_to_pass names at least one test"; fi
  if [ -z "$unnamed" ]; then ok "every named test is defined"; else bad "named tests not found:$unnamed"; fi

  # 2. visible tests pass at base
  base="$(fresh_copy "$task")"
  if run_in "$base" "$visible_test" "$work/log"; then ok "visible tests pass at base ($visible_test)"; else bad "visible tests pass at base ($visible_test)" && tail -n 20 "$work/log"; fi

  # 3. hidden tests fail at base
  cp -R "$task/hidden/." "$base/"
  if run_in "$base" "$hidden_test" "$work/log"; then bad "hidden tests fail at base"; else ok "hidden tests fail at base"; fi
  wrong_names="$(expect_tests fail_to_pass not-ok "$work/log")"
  if [ -z "$wrong_names" ]; then ok "every fail_to_pass test fails at base"; else bad "fail_to_pass tests that pass at base:$wrong_names"; fi
  wrong_names="$(expect_tests pass_to_pass ok "$work/log")"
  if [ -z "$wrong_names" ]; then ok "every pass_to_pass test passes at base"; else bad "pass_to_pass tests that do not pass at base:$wrong_names"; fi

  # 4. solution.patch: hidden and visible tests pass
  solved="$(fresh_copy "$task")"
  if git -C "$solved" apply "$(realpath "$task/solution.patch")" 2>"$work/log"; then
    ok "solution.patch applies"
    if run_in "$solved" "$visible_test" "$work/log"; then ok "visible tests pass with solution.patch"; else bad "visible tests pass with solution.patch" && tail -n 20 "$work/log"; fi
    cp -R "$task/hidden/." "$solved/"
    started=$(date +%s%N)
    if run_in "$solved" "$hidden_test" "$work/log"; then
      ok "hidden tests pass with solution.patch ($(((($(date +%s%N) - started)) / 1000000)) ms)"
      wrong_names="$(expect_tests fail_to_pass ok "$work/log")$(expect_tests pass_to_pass ok "$work/log")"
      if [ -z "$wrong_names" ]; then ok "every named test passes with solution.patch"; else bad "named tests that do not pass with solution.patch:$wrong_names"; fi
    else
      bad "hidden tests pass with solution.patch" && tail -n 30 "$work/log"
    fi
  else
    bad "solution.patch applies" && cat "$work/log"
  fi

  # 5. wrong.patch: visible tests pass, hidden tests fail
  if [ -f "$task/wrong.patch" ]; then
    wrong="$(fresh_copy "$task")"
    if git -C "$wrong" apply "$(realpath "$task/wrong.patch")" 2>"$work/log"; then
      ok "wrong.patch applies"
      if run_in "$wrong" "$visible_test" "$work/log"; then ok "visible tests pass with wrong.patch"; else bad "visible tests pass with wrong.patch" && tail -n 20 "$work/log"; fi
      cp -R "$task/hidden/." "$wrong/"
      if run_in "$wrong" "$hidden_test" "$work/log"; then bad "hidden tests fail with wrong.patch"; else ok "hidden tests fail with wrong.patch"; fi
    else
      bad "wrong.patch applies" && cat "$work/log"
    fi
  fi

  # 6. no patch touches a hidden path
  touched=""
  for patch in "$task/solution.patch" "$task/wrong.patch"; do
    [ -f "$patch" ] || continue
    while IFS= read -r path; do
      if [ -e "$task/hidden/$path" ]; then touched="$touched $(basename "$patch"):$path"; fi
    done < <(sed -n 's|^diff --git a/\(.*\) b/.*$|\1|p' "$patch")
  done
  if [ -z "$touched" ]; then ok "patches touch no hidden path"; else bad "patches touch hidden paths:$touched"; fi
done

echo "$tasks task(s) checked, $failures failed check(s)"
[ "$failures" -eq 0 ]
