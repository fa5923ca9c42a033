#!/bin/sh
# JMH: credchain's Java binding against the SDK's DefaultCredentialsProvider, on static dummy
# environment credentials, with IMDS disabled and a throw-away HOME (no ~/.aws of yours is read).
# Usage: benches/java/run.sh [JMH options, e.g. -wi 3 -i 3]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
lib=${CREDCHAIN_LIBRARY:-$root/target/release/libcredchain.so}
[ -f "$lib" ] || (cd "$root" && cargo build --release --lib)
mvn -B -q -f "$root/benches/java/pom.xml" package
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
env -i PATH="$PATH" HOME="$home" ${JAVA_HOME:+JAVA_HOME="$JAVA_HOME"} \
  AWS_EC2_METADATA_DISABLED=true \
  AWS_ACCESS_KEY_ID=AKIABENCHEXAMPLE0001 \
  AWS_SECRET_ACCESS_KEY=benchSecretKeyEXAMPLE/notARealSecret0000000 \
  CREDCHAIN_LIBRARY="$lib" \
  java -jar "$root/benches/java/target/credchain-jmh.jar" "$@"
