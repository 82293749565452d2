# Sourced by .ci/install-*: apt_update fetches apt's package lists once per CI run. .ci/run names
# a stamp file in CI_APT_UPDATED, created by the first install script that fetched them; the
# others then install straight away. Run alone (no CI_APT_UPDATED), a script fetches them itself.
apt_update() {  # apt_update [sudo]
    if [ -n "${CI_APT_UPDATED:-}" ] && [ -e "$CI_APT_UPDATED" ]; then
        return 0
    fi
    "$@" apt-get update -qq || return 1
    if [ -n "${CI_APT_UPDATED:-}" ]; then
        touch "$CI_APT_UPDATED"
    fi
}
