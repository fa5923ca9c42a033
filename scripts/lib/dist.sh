# Sourced by the scripts that build what is shipped (scripts/build-wheel,
# scripts/install --portable, scripts/build-release): one place says which
# target, which glibc floor and which tools make a shipped artefact, so the
# wheel, the release tarball and the jar carry the same library.
#
# Cargo.toml's dist profile: fat LTO, one codegen unit, no symbol table.
# cargo-zigbuild links against glibc 2.17's symbol versions (zig ships the
# stubs), so what it builds loads on Amazon Linux 2, RHEL/Rocky 7 and 8,
# Ubuntu 18.04 and newer.

DIST_TARGET=x86_64-unknown-linux-gnu
DIST_GLIBC=2.17
DIST_PLATFORM=manylinux2014_x86_64
DIST_TOOLS_PINS="cargo-zigbuild==0.24.1 ziglang==0.17.1 auditwheel==6.8.2 build==1.6.1 setuptools==84.2.1 setuptools-rust==1.13.0 wheel==0.48.0"

# dist_tools ROOT: the pinned tools in a private virtual environment,
# ROOT/target/wheel-tools/venv (made on first use), put first on PATH.
dist_tools() {
    local tools=$1/target/wheel-tools/venv
    if [ ! -f "$tools/.pins" ] || [ "$(cat "$tools/.pins")" != "$DIST_TOOLS_PINS" ]; then
        rm -rf "$tools"
        "${PYTHON:-python3}" -m venv "$tools"
        # shellcheck disable=SC2086  # one word per pin
        "$tools/bin/python" -m pip install -q --disable-pip-version-check $DIST_TOOLS_PINS
        echo "$DIST_TOOLS_PINS" > "$tools/.pins"
    fi
    export PATH="$tools/bin:$PATH"
}

# dist_cargo ARGS...: cargo zigbuild with the dist profile for the glibc
# floor; the artefacts land in TARGET_DIR/$DIST_TARGET/dist/.
dist_cargo() {
    nice cargo zigbuild --profile dist --locked --target "$DIST_TARGET.$DIST_GLIBC" "$@"
}

# dist_max_glibc FILE: the highest GLIBC_x.y symbol version FILE needs.
dist_max_glibc() {
    objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -t. -k1,1n -k2,2n -k3,3n | tail -1
}

# dist_check_glibc FILE...: fails naming each file that needs a glibc newer
# than the floor.
dist_check_glibc() {
    local f max bad=0
    for f in "$@"; do
        max=$(dist_max_glibc "$f")
        if [ "$(printf '%s\n%s\n' "$max" "$DIST_GLIBC" | sort -t. -k1,1n -k2,2n | tail -1)" != "$DIST_GLIBC" ]; then
            echo "$f needs GLIBC_$max, above the floor $DIST_GLIBC" >&2
            bad=1
        else
            echo "$f: highest glibc symbol version $max (floor $DIST_GLIBC)"
        fi
    done
    return $bad
}
