#!/usr/bin/env bash
# Installs the Debian packages the suite needs, only when they are absent.
# Each entry: "<command that must exist> <debian package>".
set -euo pipefail
needs=(
  "java openjdk-17-jre-headless"
  "chromium chromium"
  "npm npm"
)
missing=()
for entry in "${needs[@]}"; do
  cmd=${entry%% *}; pkg=${entry#* }
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
