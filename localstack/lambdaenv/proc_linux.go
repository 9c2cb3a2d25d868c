package lambdaenv

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// childAttr makes the runtime die with the environment, even killed.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }

// pending is how many bytes the pipe holds, unread (FIONREAD, which Linux
// names TIOCINQ).
func pending(f *os.File) (int, bool) {
	if f == nil {
		return 0, false
	}
	n, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCINQ)
	return n, err == nil
}
