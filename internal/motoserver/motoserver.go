// Package motoserver starts a DynamoDB-compatible server for tests — moto's
// server (moto[server] from PyPI, installed by make into a venv in bin/) —
// on a free port of the loopback.
package motoserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/coworks-go/cws/internal/testutil"
)

// EnvBinary names the moto_server binary (make sets it to the one in its
// venv in bin/).
const EnvBinary = "MOTO_SERVER"

// Binary finds moto_server: $MOTO_SERVER, else moto_server on the PATH,
// else bin/moto-*/bin/moto_server above the working directory.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if ps, _ := filepath.Glob(filepath.Join(d, "bin", "moto-*", "bin", "moto_server")); len(ps) > 0 {
			return ps[len(ps)-1], nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", errors.New("no moto_server: `make tools` installs moto[server] into bin/ (or set MOTO_SERVER)")
}

// Server is a running moto server.
type Server struct {
	// Endpoint is its base URL, for every AWS service it serves.
	Endpoint string
	cmd      *exec.Cmd
	logs     *testutil.SyncBuffer
}

// Start starts a moto server; Stop stops it.
func Start(ctx context.Context) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &testutil.SyncBuffer{}}
	s.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Stop()
			return nil, fmt.Errorf("moto_server did not start: %s", s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops the server.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Logs is what the server printed.
func (s *Server) Logs() string { return s.logs.String() }
