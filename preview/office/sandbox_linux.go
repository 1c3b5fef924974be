package office

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// On Linux a conversion is a /bin/sh running sandboxScript, which sets up
// the sandbox from inside the new namespaces (Go can create namespaces but
// cannot mount in the child between clone and exec) and then runs
// LibreOffice. The document arrives on its stdin and the PDF leaves on its
// stdout; nothing else crosses.
//
// Modes, in the order Auto tries them (probe):
//
//  1. Namespaces: CLONE_NEWUSER (the calling user mapped to root inside,
//     so that it may mount; it is still the calling user outside),
//     CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS.
//     Works unprivileged on Debian, Fedora, Arch and on Ubuntu before
//     24.04; Ubuntu 24.04 (AppArmor's restrict_unprivileged_userns) lets
//     the namespace be made but not mounted in, which the probe sees.
//  2. RootNamespaces: the same without CLONE_NEWUSER, when running as
//     root where user namespaces are refused.
//  3. SharedMemory: /dev/shm, if it is a tmpfs; no namespaces.
//  4. TempFolder: the temp folder, on disk (RAMBacked false).
//
// In the namespace modes the script makes mounts private, mounts a tmpfs
// of bounded size on /tmp (the work folder) and small empty ones over the
// folders where people's files live (hidden: the homes, /media, /mnt,
// /srv, /opt …) and over /var/tmp, /dev/shm and /run, then remounts every
// other mount read-only and mounts a /proc of its own PID namespace (the
// host's processes unseen; where the system allows). Then LibreOffice
// starts without any capability (setpriv: no inheritable ones, an empty
// bounding set, no new privileges), so it cannot remount anything
// writable or take away a tmpfs to see what it hides, as the shell, root
// of the outer namespace, could; and where a user namespace can be nested
// (unshare), in one nested with its own mount namespace, where the kernel
// also locks the mounts made above (mount_namespaces(7)) against a root
// namespace it would make of its own. Both need only util-linux's
// setpriv and unshare, of any version since 2013. The shell is PID 1 of its PID namespace: when
// it exits or is killed, the kernel kills every process left in it, and
// the tmpfs goes with the last of them. Pdeathsig kills the shell if
// Coffer dies.

// sandboxScript runs in /bin/sh (dash on Debian, any POSIX shell). Its
// exit status: 0 the PDF was written to stdout, 10 the sandbox could not
// be set up, 11 LibreOffice wrote no PDF, 12 LibreOffice failed, 13 the
// document could not be written.
const sandboxScript = `
set -u
W=$COFFER_WORK
run=
if [ "$COFFER_NS" = 1 ]; then
	mount --make-rprivate / || exit 10
	mount -t tmpfs -o "size=${COFFER_WORK_KB}k,mode=0700,nosuid,nodev" coffer "$W" || exit 10
	printf '%s\n' "$COFFER_HIDE" | while IFS= read -r d; do
		[ -n "$d" ] && [ -d "$d" ] || continue
		mount -t tmpfs -o "size=${COFFER_HIDE_KB}k,mode=0700,nosuid,nodev" coffer-hidden "$d" || exit 10
	done || exit 10
	# No terminal of the user's: the session has none, and the
	# pseudo-terminals are hidden (a tmpfs where they were).
	[ -d /dev/pts ] && mount -t tmpfs -o size=4k,mode=0755,nosuid,noexec coffer-hidden /dev/pts
	mount -o remount,bind,ro / || exit 10
	while read -r _ _ _ _ mp _; do
		case "$mp" in
		/|/proc|/proc/*|/sys|/sys/*|/dev|/dev/*|"$W"|"$W"/*) continue ;;
		esac
		mount -o remount,bind,ro "$mp" 2>/dev/null
	done < /proc/self/mountinfo
	# A /proc of its own, where the system lets one be mounted (a
	# container's /proc with masked parts may not).
	mount -t proc -o nosuid,nodev,noexec proc /proc 2>/dev/null
	# LibreOffice runs without any capability, so it can change no mount;
	# and where the system allows, in a user and mount namespace nested in
	# this one, where the kernel locks the mounts made here as well.
	command -v setpriv >/dev/null 2>&1 || exit 10
	run="setpriv --no-new-privs --inh-caps -all --bounding-set -all"
	setpriv --help 2>/dev/null | grep -q pdeathsig && run="$run --pdeathsig KILL"
	run="$run --"
	if unshare --user --mount --map-root-user -- /bin/true 2>/dev/null; then
		run="unshare --user --mount --map-root-user -- $run"
	fi
elif command -v setpriv >/dev/null 2>&1; then
	run="setpriv --pdeathsig KILL --"
fi
if [ "${COFFER_PROBE:-0}" = 1 ]; then
	[ "$COFFER_NS" != 1 ] || $run /bin/sh -c 'mount -o remount,bind,rw / 2>/dev/null && exit 1; exit 0' || exit 10
	exit 0
fi
umask 077
C=$W/c
mkdir -p "$C/profile/user" "$C/home" "$C/tmp" "$C/out" "$C/cache" "$C/config" || exit 13
printf '%s' "$COFFER_XCU" > "$C/profile/user/registrymodifications.xcu" || exit 13
cat > "$C/$COFFER_NAME" || exit 13
export HOME="$C/home" TMPDIR="$C/tmp" TMP="$C/tmp" TEMP="$C/tmp"
export XDG_CACHE_HOME="$C/cache" XDG_CONFIG_HOME="$C/config" XDG_DATA_HOME="$C/config" XDG_RUNTIME_DIR="$C/tmp"
export SAL_USE_VCLPLUGIN=svp
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 ftp_proxy=http://127.0.0.1:9 no_proxy=
ulimit -v "$COFFER_VM_KB" 2>/dev/null
n=0
while :; do
	$run "$COFFER_SOFFICE" "-env:UserInstallation=file://$C/profile" --headless --invisible --nodefault \
		--nologo --norestore --nolockcheck --convert-to pdf --outdir "$C/out" "$C/$COFFER_NAME" >&2
	rc=$?
	n=$((n + 1))
	# 81: LibreOffice made its new profile and asks to be started again.
	[ "$rc" = 81 ] && [ "$n" -lt 3 ] || break
done
if [ "$rc" != 0 ]; then
	echo "coffer-sandbox: LibreOffice exited with status $rc" >&2
	exit 12
fi
[ -s "$C/out/${COFFER_NAME%.*}.pdf" ] || exit 11
exec cat "$C/out/${COFFER_NAME%.*}.pdf"
`

// Sizes of the namespace modes' tmpfs mounts.
const (
	workSlack = 64 << 20 // bytes of the work tmpfs beyond the document and the PDF: the profile, LibreOffice's temp files
	hideSize  = 64 << 20 // bytes of each tmpfs hiding a folder (/dev/shm may be used for shared memory)
	// vmSlack is how much address space LibreOffice may reserve beyond
	// Options.MaxMemory (RLIMIT_AS): it maps about 300 MB more than it
	// touches (libraries, fonts, thread stacks). The resident limit is
	// enforced by polling; this catches an allocation too fast for it.
	vmSlack = 1 << 30
	// pollEvery is how often memory is measured.
	pollEvery = 50 * time.Millisecond
)

// probe finds the strongest sandbox that works here (want Auto) or checks
// that want does.
func probe(ctx context.Context, program string, want Isolation) (Isolation, error) {
	modes := []Isolation{Namespaces, RootNamespaces, SharedMemory, TempFolder}
	if want != Auto {
		modes = []Isolation{want}
	}
	var errs []error
	for _, m := range modes {
		err := probeMode(ctx, program, m)
		if err == nil {
			return m, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", m, err))
	}
	return 0, fmt.Errorf("%w: %w", ErrSandbox, errors.Join(errs...))
}

func probeMode(ctx context.Context, program string, m Isolation) error {
	switch m {
	case Namespaces, RootNamespaces:
		if m == RootNamespaces && os.Geteuid() != 0 {
			return errors.New("not root")
		}
		res, err := runScript(ctx, m, job{program: program, timeout: 10 * time.Second, maxMemory: 64 << 20, maxOutput: 1}, nsWork(program), true)
		if err != nil {
			return err
		}
		if res.status != statusOK {
			return fmt.Errorf("setting up the sandbox failed: %s %s", res.exit, bytes.TrimSpace(res.stderr))
		}
		return nil
	case SharedMemory:
		var st unix.Statfs_t
		if err := unix.Statfs("/dev/shm", &st); err != nil {
			return err
		}
		if st.Type != unix.TMPFS_MAGIC {
			return errors.New("/dev/shm is not a tmpfs")
		}
		_, remove, err := privateFolder("/dev/shm")
		if err != nil {
			return err
		}
		remove()
		return nil
	case TempFolder:
		_, remove, err := privateFolder(os.TempDir())
		if err != nil {
			return err
		}
		remove()
		return nil
	}
	return fmt.Errorf("no such sandbox %d", m)
}

// privateBases are the folders the folder modes make private folders in.
func privateBases() []string { return []string{"/dev/shm", os.TempDir()} }

// convertIn runs one conversion in the sandbox iso.
func convertIn(ctx context.Context, iso Isolation, j job) (result, error) {
	switch iso {
	case Namespaces, RootNamespaces:
		return runScript(ctx, iso, j, nsWork(j.program), false)
	case SharedMemory, TempFolder:
		base := "/dev/shm"
		if iso == TempFolder {
			base = os.TempDir()
		}
		dir, remove, err := privateFolder(base)
		if err != nil {
			return result{}, fmt.Errorf("%w: %v", ErrSandbox, err)
		}
		defer remove()
		return runScript(ctx, iso, j, dir, false)
	}
	return result{}, fmt.Errorf("%w: no such sandbox %d", ErrSandbox, iso)
}

// runScript starts sandboxScript in mode iso with its work folder work,
// feeds it the document, and watches time, memory and output until it
// ends.
func runScript(ctx context.Context, iso Isolation, j job, work string, probeOnly bool) (result, error) {
	ns := iso == Namespaces || iso == RootNamespaces
	cmd := exec.Command("/bin/sh", "-c", sandboxScript, "coffer-sandbox")
	cmd.Env = scriptEnv(iso, j, work, probeOnly)
	cmd.Stdin = bytes.NewReader(j.data)
	cmd.SysProcAttr = sysProcAttr(iso)
	cmd.WaitDelay = 2 * time.Second

	var (
		mu     sync.Mutex
		killed killReason
	)
	kill := func(why killReason) {
		mu.Lock()
		defer mu.Unlock()
		if killed != notKilled || cmd.Process == nil {
			return
		}
		killed = why
		// The shell leads its process group; in the namespace modes it is
		// also PID 1 of its PID namespace, whose death kills the rest.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
	}
	out := &capped{max: max(j.maxOutput, 0), over: func() { go kill(killedOutput) }}
	errOut := &tail{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		return result{}, fmt.Errorf("%w: %s: %v", ErrSandbox, iso, err)
	}
	stop, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		ticker := time.NewTicker(pollEvery)
		defer ticker.Stop()
		deadline := time.NewTimer(j.timeout)
		defer deadline.Stop()
		cancelled := ctx.Done()
		for {
			select {
			case <-ticker.C:
				used := treeRSS(cmd.Process.Pid)
				if !ns && work != "" {
					used += folderBytes(work)
				}
				if used > j.maxMemory {
					kill(killedMemory)
				}
			case <-deadline.C:
				kill(killedTime)
			case <-cancelled:
				kill(killedCancel)
				cancelled = nil
			case <-stop:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	<-watched
	mu.Lock()
	res := result{pdf: out.Bytes(), killed: killed, stderr: errOut.Bytes()}
	mu.Unlock()
	var exit *exec.ExitError
	switch {
	case err == nil:
		res.status = statusOK
	case errors.As(err, &exit):
		res.exit = exit.ProcessState.String()
		switch exit.ExitCode() {
		case 10:
			res.status = statusSandbox
		case 11:
			res.status = statusNoPDF
		default:
			res.status = statusFailed
		}
	default:
		res.status, res.exit = statusFailed, err.Error()
	}
	if res.status == statusSandbox && !probeOnly {
		return res, fmt.Errorf("%w: %s: %s", ErrSandbox, iso, bytes.TrimSpace(res.stderr))
	}
	return res, nil
}

// sysProcAttr gives the shell its namespaces (when iso has them), its own
// session (so no controlling terminal: LibreOffice could otherwise push
// keystrokes into the user's terminal with TIOCSTI, which its shell would
// run after Coffer exits, outside every sandbox), and death with Coffer.
// The session's leader leads its process group too, which a kill names.
func sysProcAttr(iso Isolation) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	switch iso {
	case Namespaces:
		a.Cloneflags = syscall.CLONE_NEWUSER
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
		a.GidMappingsEnableSetgroups = false
		fallthrough
	case RootNamespaces:
		a.Cloneflags |= syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
	}
	return a
}

// scriptEnv is the whole environment of the shell (nothing of Coffer's is
// inherited but the locale, which sets how dates and numbers read).
func scriptEnv(iso Isolation, j job, work string, probeOnly bool) []string {
	ns := "0"
	if iso == Namespaces || iso == RootNamespaces {
		ns = "1"
	}
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"COFFER_NS=" + ns,
		"COFFER_WORK=" + work,
		"COFFER_WORK_KB=" + strconv.FormatInt((int64(len(j.data))+max(j.maxOutput, 0)+workSlack)>>10, 10),
		"COFFER_HIDE=" + strings.Join(hidden(j.program, work), "\n"),
		"COFFER_HIDE_KB=" + strconv.Itoa(hideSize>>10),
		"COFFER_VM_KB=" + strconv.FormatInt((j.maxMemory+vmSlack)>>10, 10),
		"COFFER_SOFFICE=" + j.program,
		"COFFER_XCU=" + j.profile,
		"COFFER_NAME=" + workName(j.ext),
	}
	if probeOnly {
		env = append(env, "COFFER_PROBE=1")
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "LANG" || k == "LANGUAGE" || strings.HasPrefix(k, "LC_") {
			env = append(env, kv)
		}
	}
	return env
}

// nsWork is where the namespace modes mount their work tmpfs: /tmp, unless
// the program lives there (a LibreOffice unpacked in /tmp, a test's
// stand-in in a checkout under /tmp), which the mount would hide; then
// /var/tmp, and /tmp is only made read-only like the rest.
func nsWork(program string) string {
	if within(program, "/tmp") {
		return "/var/tmp"
	}
	return "/tmp"
}

// hidden lists the folders the namespace modes cover with empty private
// ones: where LibreOffice, or a document that subverted it (or only asked
// for a linked picture, which an RTF field does as it loads), could
// otherwise write to disk or read people's files. A folder holding the
// program itself, and the work folder, are left to themselves.
func hidden(program, work string) []string {
	dirs := []string{"/var/tmp", "/dev/shm", "/run", "/home", "/root", "/media", "/mnt", "/srv", "/opt", "/var/mail", "/var/spool"}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, home)
	}
	if cache, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, cache) // usually under home; elsewhere when XDG_CACHE_HOME says so
	}
	var out []string
	for _, d := range dirs {
		d = filepath.Clean(d)
		if d == "/" || d == "/tmp" || d == work || strings.ContainsAny(d, "\n") || within(program, d) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// treeRSS returns the resident memory, in bytes, of pid and all its
// descendants (read from /proc; a process that exits meanwhile counts 0).
func treeRSS(pid int) int64 {
	var total int64
	seen := map[int]bool{}
	queue := []int{pid}
	page := int64(os.Getpagesize())
	for len(queue) > 0 && len(seen) < 4096 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		if statm, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", p)); err == nil {
			if f := strings.Fields(string(statm)); len(f) > 1 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				total += n * page
			}
		}
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
		for _, t := range tasks {
			kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", p, t.Name()))
			if err != nil {
				continue
			}
			for _, k := range strings.Fields(string(kids)) {
				if c, err := strconv.Atoi(k); err == nil {
					queue = append(queue, c)
				}
			}
		}
	}
	return total
}

// folderBytes is the size of the files under dir, which in the folder
// modes lives in RAM and counts against the memory limit.
func folderBytes(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}
