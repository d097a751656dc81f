# Man pages and completions are generated from the tools' option definitions; this fails when
# the committed ones drift (run scripts/gen-docs.sh) or when they do not render or parse.
source "$(dirname "$0")/lib.bash"
src=${GM_SOURCE_DIR:?}

for tool in gm-train gm-distill gm-sample gm-eval gm-convert; do
  "$tool" --gm-man | diff -q - "$src/man/$tool.1" >/dev/null \
    && pass "man/$tool.1 matches $tool's options" || fail "man/$tool.1 is stale: run scripts/gen-docs.sh"
  "$tool" --gm-completion bash | diff -q - "$src/completions/bash/$tool" >/dev/null \
    && pass "bash completion for $tool" || fail "completions/bash/$tool is stale: run scripts/gen-docs.sh"
  "$tool" --gm-completion zsh | diff -q - "$src/completions/zsh/_$tool" >/dev/null \
    && pass "zsh completion for $tool" || fail "completions/zsh/_$tool is stale: run scripts/gen-docs.sh"
  "$tool" --gm-completion fish | diff -q - "$src/completions/fish/$tool.fish" >/dev/null \
    && pass "fish completion for $tool" || fail "completions/fish/$tool.fish is stale: run scripts/gen-docs.sh"
  # Every option that --help lists is in the man page and each completion.
  man_text=$(groff -man -Tascii -P-cbou "$src/man/$tool.1" 2>/dev/null)
  options=$("$tool" --help | sed '/^Examples:/,$d' | grep -E '^ +-' | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' | tr -d ' ,' | sort -u)
  [[ -n $options ]] || fail "no options found in $tool --help"
  for option in $options; do
    grep -qF -- "$option" <<<"$man_text" || fail "$option missing from man/$tool.1"
    grep -qF -- "$option" "$src/completions/bash/$tool" || fail "$option missing from the bash completion of $tool"
    grep -qF -- "$option" "$src/completions/zsh/_$tool" || fail "$option missing from the zsh completion of $tool"
    name=${option#-}; name=${name#-}
    grep -qE -- "-[ls] $name( |$)" "$src/completions/fish/$tool.fish" || fail "$option missing from the fish completion of $tool"
  done
  bash -n "$src/completions/bash/$tool" && pass "bash parses $tool's completion" || fail "bash completion of $tool"
  if command -v zsh >/dev/null; then zsh -n "$src/completions/zsh/_$tool" || fail "zsh completion of $tool"; fi
  if command -v fish >/dev/null; then fish -n "$src/completions/fish/$tool.fish" || fail "fish completion of $tool"; fi
done

# Every page renders without a groff warning, gm.7 included.
for page in "$src"/man/*.[17]; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  [[ -z $warnings ]] && pass "$(basename "$page") renders cleanly" || fail "$(basename "$page"): $warnings"
  if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q . && pass "man -l $(basename "$page")" || fail "man -l $(basename "$page") printed nothing"
  fi
done
[[ -f $src/man/gm.7 ]] && pass "gm.7 exists" || fail "man/gm.7 is missing"

# Sourcing the bash completion really completes an option.
(
  source "$src/completions/bash/gm-sample"
  COMP_WORDS=(gm-sample --sh); COMP_CWORD=1
  _gm_sample
  [[ " ${COMPREPLY[*]} " == *" --shard "* ]]
) && pass "bash completes --sh to --shard" || fail "bash completion does not complete --shard"
finish
