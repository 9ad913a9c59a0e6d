# test/xenvm/lib.sh: helpers shared by the xenvm bed scripts (bash, sourced).
#
# Knobs (environment):
#   XENVM_CACHE       package cache and built images (default /var/cache/xsagent-xenvm)
#   XENVM_NO_INSTALL  set to 1: never apt-get install missing host tools, fail instead
#   XENVM_REFRESH     set to 1: re-resolve and re-download the Debian packages

XENVM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
XENVM_REPO=$(cd "$XENVM_DIR/../.." && pwd)
XENVM_CACHE=${XENVM_CACHE:-/var/cache/xsagent-xenvm}
XENVM_XEN_SERIES=4.17
XENVM_XEN_BIN=/usr/lib/xen-$XENVM_XEN_SERIES/bin
XENVM_MULTIARCH=x86_64-linux-gnu

xenvm_log() { printf 'xenvm: %s\n' "$*" >&2; }

# die [-s STATUS] MESSAGE: one clear line on stderr, then exit (default 2).
xenvm_die() {
	local st=2
	if [[ ${1:-} == -s ]]; then st=$2; shift 2; fi
	printf 'xenvm: error: %s\n' "$*" >&2
	exit "$st"
}

_xenvm_apt_updated=
xenvm_apt_update() {
	[[ -n $_xenvm_apt_updated ]] && return 0
	[[ $(id -u) -eq 0 ]] || xenvm_die "need root to run apt-get update"
	xenvm_log "apt-get update"
	apt-get update -qq >/dev/null 2>&1 || xenvm_die "apt-get update failed"
	_xenvm_apt_updated=1
}

# xenvm_need CMD:PACKAGE ...: make sure host commands exist; apt-get install the
# packages of the missing ones (once), unless XENVM_NO_INSTALL=1.
xenvm_need() {
	local pair cmd pkg missing=() pkgs=()
	for pair in "$@"; do
		cmd=${pair%%:*} pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 && continue
		missing+=("$cmd") pkgs+=("$pkg")
	done
	((${#missing[@]})) || return 0
	if [[ ${XENVM_NO_INSTALL:-} == 1 || $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
		xenvm_die "missing host command(s): ${missing[*]} (apt-get install ${pkgs[*]})"
	fi
	xenvm_apt_update
	xenvm_log "installing host packages: ${pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 ||
		xenvm_die "apt-get install ${pkgs[*]} failed"
	for cmd in "${missing[@]}"; do
		command -v "$cmd" >/dev/null 2>&1 || xenvm_die "$cmd still missing after installing its package"
	done
}

# Read the fetch stamp (written by test/xenvm/fetch) into XENVM_* variables.
xenvm_load_stamp() {
	local stamp=$XENVM_CACHE/fetch.ok
	[[ -f $stamp ]] || xenvm_die "no package cache in $XENVM_CACHE (run test/xenvm/fetch)"
	# shellcheck disable=SC1090
	. "$stamp"
	XENVM_SYSROOT=$XENVM_CACHE/sysroot
	# The HVM set (qemu-system-xen and its firmware), a stamp of its own
	# (test/xenvm/build needs it; test/xenvm/fetch reads it when present).
	XENVM_HVM_DEBS=
	# shellcheck disable=SC1090
	[[ ! -f $XENVM_CACHE/fetch-hvm.ok ]] || . "$XENVM_CACHE/fetch-hvm.ok"
	XENVM_HVM_SYSROOT=$XENVM_CACHE/sysroot-hvm
}

# xenvm_hash FILE...: short content hash of files (and of stdin when "-" is given).
xenvm_hash() { cat "$@" | sha256sum | cut -c1-16; }

# xenvm_is_elf FILE: true for an ELF file.
xenvm_is_elf() { [[ -f $1 && ! -L $1 && $(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ') == '177ELF' ]]; }

# xenvm_ldd SYSROOTS FILE...: print the real paths of every shared library the
# files need, resolved against SYSROOTS (colon-separated, in order) first and
# then the host; fail on a missing one.
xenvm_ldd() {
	local sysroots=$1 sysroot f out line lp=; shift
	local -a srs
	IFS=: read -r -a srs <<<"$sysroots"
	for sysroot in "${srs[@]}"; do
		lp+=${lp:+:}$sysroot/lib/$XENVM_MULTIARCH:$sysroot/usr/lib/$XENVM_MULTIARCH:$sysroot/lib:$sysroot/usr/lib
	done
	for f in "$@"; do
		xenvm_is_elf "$f" || continue
		out=$(LD_LIBRARY_PATH=$lp ldd "$f" 2>&1) || {
			[[ $out == *"not a dynamic executable"* ]] && continue
			xenvm_die "ldd $f failed: $out"
		}
		while IFS= read -r line; do
			case $line in
			*"not found"*) xenvm_die "${f##*/} needs a library found neither in the sysroot nor on the host: ${line%%=>*}" ;;
			*"=> /"*) line=${line#*=> }; printf '%s\n' "${line%% (*}" ;;
			*/ld-linux*) line=${line#"${line%%[![:space:]]*}"}; printf '%s\n' "${line%% (*}" ;;
			esac
		done <<<"$out"
	done | sort -u
}

# xenvm_modules_closure MODDIR NAME...: print the .ko paths of the named
# modules and of everything they depend on (depends= in .modinfo), dependencies
# first. A module that is missing is an error unless the kernel has it built in.
xenvm_modules_closure() {
	local moddir=$1; shift
	declare -A _done=()
	local order=()
	_xenvm_mod_visit() {
		local name=$1 path deps d
		name=${name//_/-}
		[[ -n ${_done[$name]:-} ]] && return 0
		_done[$name]=1
		path=$(find "$moddir/kernel" \( -name "$name.ko" -o -name "${name//-/_}.ko" \) -print -quit)
		if [[ -z $path ]]; then
			if grep -qE "/(${name}|${name//-/_})\.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
				return 0
			fi
			xenvm_die "kernel module $name not found under $moddir"
		fi
		deps=$(tr '\0' '\n' <"$path" | sed -n 's/^depends=//p' | head -1)
		for d in ${deps//,/ }; do _xenvm_mod_visit "$d"; done
		order+=("$path")
	}
	local m
	for m in "$@"; do _xenvm_mod_visit "$m"; done
	printf '%s\n' "${order[@]}"
}

# xenvm_copy_module SRC DST: copy a kernel module without its appended
# signature: Debian's modules are signed, and checking a signature costs
# tenths of a second per module under TCG; an unsigned module loads all the
# same (module.sig_enforce is off), it only taints the kernel.
xenvm_copy_module() {
	local src=$1 dst=$2 size siglen
	size=$(stat -c %s "$src")
	if [[ $(tail -c 28 "$src") == '~Module signature appended~' ]]; then
		# struct module_signature (12 bytes, sig_len big-endian last) precedes the magic.
		siglen=$(tail -c 32 "$src" | head -c 4 | od -An -tu1 | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
		head -c $((size - 28 - 12 - siglen)) "$src" >"$dst"
	else
		cp "$src" "$dst"
	fi
}

# xenvm_newc_dev_archive: a tiny newc archive holding /dev/console and
# /dev/null as device nodes (no mknod or root needed to build it).
xenvm_newc_dev_archive() {
	local ino=700000
	_newc_entry() { # name mode rmaj rmin
		local name=$1 mode=$2 rmaj=$3 rmin=$4 namesize hdr pad
		namesize=$((${#name} + 1))
		hdr=$(printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
			"$ino" "$mode" 0 0 1 0 0 0 0 "$rmaj" "$rmin" "$namesize" 0)
		ino=$((ino + 1))
		printf '%s%s\0' "$hdr" "$name"
		pad=$(((4 - (110 + namesize) % 4) % 4))
		head -c "$pad" /dev/zero
	}
	_newc_entry dev $((0040755)) 0 0
	_newc_entry dev/console $((0020600)) 5 1
	_newc_entry dev/null $((0020666)) 1 3
	_newc_entry 'TRAILER!!!' 0 0 0
}

# xenvm_cpio DIR: newc archive of DIR's contents on stdout, owned by root.
xenvm_cpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
}
