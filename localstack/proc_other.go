//go:build !unix

package localstack

import (
	"errors"
	"syscall"
)

var errNoHost = errors.New("the LocalStack host process is only supported on Unix; use Docker or LOCALSTACK_ENDPOINT")

func signalGroup(pid int, sig syscall.Signal) error { return errNoHost }

func alive(pid int) bool { return false }

func lockFile(path string) (func(), error) { return nil, errNoHost }

func procAttr(detached bool) *syscall.SysProcAttr { return nil }
