//go:build !linux

package motoserver

import "os/exec"

// dieWithParent does nothing outside Linux: Stop stops the server.
func dieWithParent(*exec.Cmd) {}
