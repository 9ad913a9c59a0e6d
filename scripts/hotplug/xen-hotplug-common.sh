# xen-hotplug-common.sh: what xsagent's hotplug scripts share (bash, sourced).
#
#   . "${0%/*}/xen-hotplug-common.sh"
#   hotplug_init "$@"
#
# The environment is the conventional one, whether xsagent or udev runs the
# script: XENBUS_PATH (the backend, "backend/vbd/5/51712" relative to the
# caller's /local/domain/N, or absolute "/local/domain/0/backend/..."),
# XENBUS_TYPE (vbd|vif), XENBUS_BASE_PATH (backend); the action is $1 (or
# ACTION when $1 is empty).  Optional knobs: HOTPLUG_DEBUG=1 logs debug lines,
# HOTPLUG_LOCK_DIR (default /run/xen-hotplug), HOTPLUG_LOCK_TIMEOUT (seconds
# an add or online waits for a lock, default 30; a remove, offline or cleanup
# waits as long as it takes: giving up would leak what it frees), HOTPLUG_LOG
# (default /var/log/xen/xen-hotplug.log).
#
# Rules the scripts keep, because bash's ERR trap has holes:
#   - a function that may fail is never called as `f || ...`, `if f` or
#     `! f` unless every command in it is checked explicitly: inside such a
#     call bash turns the ERR trap off, so a failure in f would go unseen.
#     Functions report an expected failure in HP_RC (0 ok, 1 failed) and
#     return 0; the script exits "$HP_RC".
#   - logging never fails: once the agent that reads stdout/stderr is gone
#     (EPIPE, SIGPIPE ignored), log() sends them to /dev/null and keeps
#     writing the log file; a dead reader must not turn a connected device
#     into hotplug-status=error.
#   - nothing is written into a backend that is gone (the toolstack removed
#     it, e.g. a rollback while this script ran): xenstore-write creates
#     parents, so writes go through _hp_be_write, which checks the backend
#     before and after and takes back what it recreated.
#
# Why bash rather than POSIX sh: a failure anywhere must end as
# hotplug-status=error with a message that names the command, and only bash
# has an ERR trap (with errtrace for functions, $BASH_COMMAND and $LINENO);
# plain sh would need set -e, which is silently off inside any function
# called from a condition.  bash also gives fd-variables for the flock lock
# ({fd}>file), associative arrays for the sharing check, printf's %(...)T
# for log time stamps without forking date, and PATH lookup: dom0's busybox
# sh prefers its own applets, so under it `losetup` is busybox's (no --show,
# no -j) even where util-linux's is installed.  Every Xen dom0 has bash (Xen's
# own scripts need it).  It costs ~0.1 s more per start than busybox sh under
# TCG; each xenstore-* call costs about as much, so the scripts batch those.
#
# Exit status: 0 done, 1 failed (the reason is on stderr and, for add/online,
# in the backend's hotplug-error with hotplug-status=error or busy).

[ "${BASH_SOURCE[0]}" != "$0" ] || {
	echo "xen-hotplug-common.sh: source it from a hotplug script, do not run it" >&2
	exit 2
}

HOTPLUG_LOCK_DIR=${HOTPLUG_LOCK_DIR:-/run/xen-hotplug}
HOTPLUG_LOCK_TIMEOUT=${HOTPLUG_LOCK_TIMEOUT:-30}
HOTPLUG_LOG=${HOTPLUG_LOG:-/var/log/xen/xen-hotplug.log}

HP_NAME=${0##*/}   # the script's name, the log prefix
HP_ACTION=         # add, remove, online, offline
HP_PREFIX=         # "" (relative XENBUS_PATH) or "/local/domain/N/"
HP_REL=            # the backend relative to its domain: backend/TYPE/DOMID/DEVID
HP_TYPE=           # vbd, vif
HP_DOMID=          # the frontend's domain
HP_DEVID=          # the device number
HP_ERROR_PATH=     # where xenbus writes the kernel's errors for this device
HP_REPORTED=99     # status of a subshell whose failure fatal already reported
HP_RC=0            # the exit status an action ends with (see the rules above)
_hp_wout=          # _hp_be_write's error output
HOTPLUG_ON_FATAL=  # name of a function fatal runs first (undo a half-done add)
declare -A _hp_lockfd=()

# _hp_xen_bindir: set _hp_xen_bin to Xen's own tools directory, whatever the
# Xen version:
# Debian installs them as /usr/lib/xen-X.Y/bin, several versions side by side.
# That of the running hypervisor (/sys/hypervisor/version, as Debian's
# xen-dir reads it) when installed, else the highest installed; empty when
# none is.  Builtins only, no command substitution: no fork per script run.
_hp_xen_bin=
_hp_xen_bindir() {
	local major= minor= d best= bmaj=-1 bmin=-1 v
	if [ -r /sys/hypervisor/version/major ] && [ -r /sys/hypervisor/version/minor ]; then
		read -r major </sys/hypervisor/version/major || major=
		read -r minor </sys/hypervisor/version/minor || minor=
		if [ -n "$major" ] && [ -d "/usr/lib/xen-$major.$minor/bin" ]; then
			_hp_xen_bin=/usr/lib/xen-$major.$minor/bin
			return 0
		fi
	fi
	for d in /usr/lib/xen-[0-9]*.[0-9]*/bin; do
		[ -d "$d" ] || continue
		v=${d#/usr/lib/xen-}
		v=${v%/bin}
		major=${v%%.*} minor=${v#*.}
		[[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || continue
		if ((10#$major > bmaj || (10#$major == bmaj && 10#$minor > bmin))); then
			best=$d bmaj=$((10#$major)) bmin=$((10#$minor))
		fi
	done
	_hp_xen_bin=$best
}
# The agent runs the scripts with a plain PATH; Xen's tools go first, as
# in Xen's own scripts.
_hp_xen_bindir
case ":$PATH:" in
*":$_hp_xen_bin:"*) ;;
*) [ -z "$_hp_xen_bin" ] || PATH=$_hp_xen_bin:$PATH ;;
esac
export PATH

# Where log lines go besides stderr: the log file if we may write it.
_hp_logfile=
if [ -w "$HOTPLUG_LOG" ] || { [ ! -e "$HOTPLUG_LOG" ] && [ -w "${HOTPLUG_LOG%/*}" ]; }; then
	_hp_logfile=$HOTPLUG_LOG
fi

# log LEVEL MSG...: one line to stderr and the log file; LEVEL debug|info|warn|error
log() {
	local level=$1 msg
	shift
	if [ "$level" = debug ] && [ -z "${HOTPLUG_DEBUG:-}" ]; then
		return 0
	fi
	msg="$*"
	msg=${msg//$'\n'/; }
	# A failed write here (the reader died: EPIPE) is no failure of the
	# script: stdout and stderr go to /dev/null from then on.
	if ! printf '%s: %s %s: %s: %s\n' "$HP_NAME" "${HP_ACTION:-?}" "${HP_REL:-${XENBUS_PATH:-?}}" \
		"$level" "$msg" >&2 2>/dev/null; then
		exec >/dev/null 2>&1
	fi
	if [ -n "$_hp_logfile" ]; then
		printf '%(%F %T)T %s[%d]: %s %s: %s: %s\n' -1 "$HP_NAME" "$$" "${HP_ACTION:-?}" \
			"${HP_REL:-${XENBUS_PATH:-?}}" "$level" "$msg" >>"$_hp_logfile" 2>/dev/null || true
	fi
	return 0
}

# _hp_exit STATUS: exit; from a subshell with HP_REPORTED, so that the parent
# knows the failure was reported already and exits 1 without a second message
_hp_exit() {
	if [ "$BASH_SUBSHELL" -gt 0 ]; then
		exit "$HP_REPORTED"
	fi
	exit "$1"
}

# _hp_fail STATUS MSG: log MSG, run the undo hook, publish STATUS and MSG, exit 1
_hp_fail() {
	local status=$1 msg=$2 hook=$HOTPLUG_ON_FATAL
	trap - ERR
	HOTPLUG_ON_FATAL=
	log error "$msg"
	if [ -n "$hook" ]; then
		"$hook" || log warn "undoing the partial $HP_ACTION failed"
	fi
	# Only add/online publish a status: a device being removed must not get
	# its backend directory back because a status was written into it.
	case $HP_ACTION in
	add | online)
		_hp_be_write "$XENBUS_PATH/hotplug-error" "$msg" "$XENBUS_PATH/hotplug-status" "$status"
		case $? in
		1) log warn "backend $XENBUS_PATH is gone: no hotplug-status written" ;;
		2) log error "could not write hotplug-status=$status to $XENBUS_PATH: $_hp_wout" ;;
		esac
		;;
	esac
	_hp_exit 1
}

# _hp_be_write PATH VAL [PATH VAL]...: write nodes of this backend in one
# transaction, only while the backend exists (its frontend node is there:
# only the toolstack writes it); 0 written, 1 the backend is gone (nothing of
# it left recreated), 2 the write failed (why in _hp_wout).  Every command in
# it is checked: callers may test its status.
_hp_be_write() {
	local frontend=$XENBUS_PATH/frontend
	_hp_wout=
	if ! xenstore-exists "$frontend" 2>/dev/null; then
		return 1
	fi
	if ! _hp_wout=$(xenstore-write "$@" 2>&1); then
		return 2
	fi
	# Removed between the check and the write: the write made the backend
	# directory again, with only our nodes in it.  Take it back (and the
	# parents it left empty), or blkback/netback would probe a backend
	# nobody will ever remove.
	if ! xenstore-exists "$frontend" 2>/dev/null; then
		xenstore-rm -t "$XENBUS_PATH" 2>/dev/null || true
		return 1
	fi
	return 0
}

# fatal MSG...: hotplug-error=MSG, hotplug-status=error (add/online only), exit 1
fatal() { _hp_fail error "$*"; }

# ebusy MSG...: hotplug-error=MSG, hotplug-status=busy (the resource is in use), exit 1
ebusy() { _hp_fail busy "$*"; }

# success [PATH VAL]...: write the given nodes and hotplug-status=connected in one transaction; fatal (undo hook first) when the backend is gone
success() {
	local rc=0
	_hp_be_write "$@" "$XENBUS_PATH/hotplug-status" connected || rc=$?
	case $rc in
	0) log debug "hotplug-status=connected" ;;
	1) fatal "backend $XENBUS_PATH was removed meanwhile: not recreated" ;;
	*) fatal "could not write xenstore node $1: $_hp_wout" ;;
	esac
}

# xs_read PATH: print the node's value; fatal if it cannot be read (missing)
xs_read() {
	local v
	if ! v=$(xenstore-read "$1" 2>/dev/null); then
		fatal "xenstore node $1 is missing"
	fi
	printf '%s\n' "$v"
}

# xs_read_default PATH DEFAULT: print the node's value, or DEFAULT if it cannot be read
xs_read_default() {
	xenstore-read "$1" 2>/dev/null || printf '%s\n' "$2"
}

# xs_rm [-t] PATH...: remove the nodes (-t: and parents left empty); a node already gone is fine; HP_RC=1 if one stays
xs_rm() {
	local tidy='' p
	if [ "${1:-}" = -t ]; then
		tidy=-t
		shift
	fi
	for p in "$@"; do
		[ -n "$p" ] || continue
		# A missing node whose parent is missing too fails to remove.
		if ! xenstore-rm $tidy "$p" 2>/dev/null && xenstore-exists "$p" 2>/dev/null; then
			log warn "could not remove xenstore node $p"
			HP_RC=1
		fi
	done
}

# claim_lock NAME [SECONDS]: take the exclusive flock on $HOTPLUG_LOCK_DIR/NAME
# (blocks, no polling); with SECONDS fatal after that long, without it wait
# as long as it takes.  Locks are taken in one order: the backend's own
# (lock_backend), then the disk's, then "loop-alloc": no two scripts wait for
# each other in a circle.
claim_lock() {
	local name=$1 wait=${2:-} path=$HOTPLUG_LOCK_DIR/$1 fd tries=0
	if [ ! -d "$HOTPLUG_LOCK_DIR" ]; then
		mkdir -p "$HOTPLUG_LOCK_DIR" || fatal "cannot create the lock directory $HOTPLUG_LOCK_DIR"
	fi
	# Lock files are removed by their holder (drop_lock, and Xen's own
	# locking.sh, same directory): a lock taken on a file unlinked meanwhile
	# guards nothing, so check that the locked fd is still the file at
	# $path (test -ef: same inode) and else lock the new file.  Each turn
	# blocks in flock; it only repeats when the file was replaced.
	while :; do
		exec {fd}>>"$path" || fatal "cannot open the lock $path"
		if ! flock ${wait:+-w "$wait"} "$fd"; then
			exec {fd}>&-
			fatal "no lock on $path after $wait s (another hotplug script holds it)"
		fi
		if [ ! -e "/proc/self/fd/$fd" ] || [ "/proc/self/fd/$fd" -ef "$path" ]; then
			break
		fi
		exec {fd}>&-
		tries=$((tries + 1))
		if [ "$tries" -ge 1000 ]; then
			fatal "lock file $path keeps being replaced"
		fi
	done
	_hp_lockfd[$name]=$fd
	log debug "lock $name taken"
}

# lock_backend [SECONDS]: claim_lock for this backend alone: every script
# acting on one backend (add, remove, cleanup) runs alone, scripts of
# different backends side by side
lock_backend() {
	claim_lock "be-$HP_TYPE-$HP_DOMID-$HP_DEVID" "$@"
}

# drop_lock NAME: remove the lock file, then release the lock; for the last
# script of a backend, so that lock files do not pile up (waiters on the old
# file see it replaced and lock the new one)
drop_lock() {
	[ -n "${_hp_lockfd[$1]:-}" ] || return 0
	rm -f "$HOTPLUG_LOCK_DIR/$1"
	release_lock "$1"
}

# release_lock NAME: drop a lock claim_lock took (exit drops it too)
release_lock() {
	local fd=${_hp_lockfd[$1]:-}
	[ -n "$fd" ] || return 0
	exec {fd}>&-
	unset "_hp_lockfd[$1]"
	log debug "lock $1 released"
}

# _hp_on_err STATUS WHERE COMMAND: the ERR trap: an unexpected failure becomes fatal
_hp_on_err() {
	if [ "$1" = "$HP_REPORTED" ]; then
		_hp_exit 1
	fi
	fatal "$2: '$3' failed (exit $1)"
}

# _hp_on_signal NAME: a TERM/INT/HUP (e.g. the agent's timeout) becomes fatal
_hp_on_signal() { fatal "stopped by SIG$1"; }

# hotplug_init ACTION...: check the environment, set HP_*, arm the traps; every script calls it first
hotplug_init() {
	local p
	HP_ACTION=${1:-${ACTION:-}}
	if [ -z "${XENBUS_PATH:-}" ]; then
		log error "XENBUS_PATH is not set: run me as a Xen hotplug script (action '$HP_ACTION')"
		exit 1
	fi
	p=${XENBUS_PATH%/}
	case $p in
	/local/domain/*/*)
		HP_REL=${p#/local/domain/*/}
		HP_PREFIX=${p%"$HP_REL"}
		;;
	/*)
		log error "XENBUS_PATH $XENBUS_PATH is neither relative nor under /local/domain/N"
		exit 1
		;;
	*)
		HP_REL=$p
		HP_PREFIX=
		;;
	esac
	XENBUS_PATH=$p
	IFS=/ read -r p HP_TYPE HP_DOMID HP_DEVID _ <<<"$HP_REL"
	case $p/$HP_TYPE/$HP_DOMID/$HP_DEVID in
	backend/?*/?*/?*) ;;
	*)
		log error "XENBUS_PATH $XENBUS_PATH is not [/local/domain/N/]backend/TYPE/DOMID/DEVID"
		exit 1
		;;
	esac
	case $HP_DOMID$HP_DEVID in *[!0-9]*)
		log error "XENBUS_PATH $XENBUS_PATH: domain and device must be numbers"
		exit 1
		;;
	esac
	if [ -n "$HP_PREFIX" ]; then
		p=${HP_PREFIX#/local/domain/}
		case ${p%/} in '' | *[!0-9]*)
			log error "XENBUS_PATH $XENBUS_PATH: bad domain in /local/domain/N"
			exit 1
			;;
		esac
	fi
	if [ -n "${XENBUS_TYPE:-}" ] && [ "$XENBUS_TYPE" != "$HP_TYPE" ]; then
		log warn "XENBUS_TYPE=$XENBUS_TYPE but the path says $HP_TYPE; using $HP_TYPE"
	fi
	HP_ERROR_PATH=${HP_PREFIX}error/$HP_REL
	set -o errtrace -o pipefail
	trap '_hp_on_err $? "${BASH_SOURCE[0]##*/}:$LINENO" "$BASH_COMMAND"' ERR
	trap '_hp_on_signal TERM' TERM
	trap '_hp_on_signal INT' INT
	trap '_hp_on_signal HUP' HUP
	log debug "start (XENBUS_TYPE=${XENBUS_TYPE:-} XENBUS_BASE_PATH=${XENBUS_BASE_PATH:-})"
}
