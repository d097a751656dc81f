#!/usr/bin/env bash
# Regenerates man/gm-*.1 and completions/ from the tools' own option definitions.
# Usage: scripts/gen-docs.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
for tool in gm-train gm-distill gm-sample gm-eval gm-convert; do
  bin="$build/cmd/$tool/$tool"
  "$bin" --gm-man >"man/$tool.1"
  "$bin" --gm-completion bash >"completions/bash/$tool"
  "$bin" --gm-completion zsh >"completions/zsh/_$tool"
  "$bin" --gm-completion fish >"completions/fish/$tool.fish"
done
echo "regenerated man/ and completions/ from $build"
