package lambdaenv

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// childAttr makes the runtime die with the environment, even killed.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }

// pending is how many bytes the pipe holds, unread (FIONREAD, which Linux
// names TIOCINQ). It asks through the file's raw connection, which holds
// the descriptor against a concurrent Close (the runtime may exit and its
// pipe be closed meanwhile): a closed pipe answers false.
func pending(f *os.File) (int, bool) {
	if f == nil {
		return 0, false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	var n int
	var ioErr error
	if err := rc.Control(func(fd uintptr) { n, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }); err != nil {
		return 0, false
	}
	return n, ioErr == nil
}
