// Package mailpit starts a real SMTP server for tests — Mailpit
// (github.com/axllent/mailpit, installed by make into bin/) — and reads
// what it received through its HTTP API.
package mailpit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// EnvBinary names the Mailpit binary (make sets it to bin/mailpit).
const EnvBinary = "MAILPIT"

// Binary finds the Mailpit binary: $MAILPIT, else mailpit on the PATH, else
// bin/mailpit above the working directory.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if p := filepath.Join(d, "bin", "mailpit"); fileExists(p) {
			return p, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", errors.New("no Mailpit: `make tools` installs it into bin/ (or set MAILPIT)")
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Options configure a Mailpit.
type Options struct {
	// TLS is "" (plain), "starttls" (required) or "tls" (implicit).
	TLS string
	// Users are SMTP AUTH users (name → password); none: any login is
	// accepted, and none is needed.
	Users map[string]string
}

// Server is a running Mailpit.
type Server struct {
	// SMTPHost and SMTPPort are where it takes mail; API is its HTTP API's
	// base URL.
	SMTPHost string
	SMTPPort int
	API      string
	// CAFile is the PEM of the certificate it presents (with TLS).
	CAFile string
	cmd    *exec.Cmd
	logs   *bytes.Buffer
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start starts a Mailpit with its database in dir; Stop stops it.
func Start(ctx context.Context, dir string, o Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	smtpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{SMTPHost: "127.0.0.1", SMTPPort: smtpPort, API: fmt.Sprintf("http://127.0.0.1:%d", httpPort), logs: &bytes.Buffer{}}
	args := []string{"--smtp", fmt.Sprintf("127.0.0.1:%d", smtpPort), "--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--database", filepath.Join(dir, "mailpit.db"), "--disable-version-check", "--smtp-disable-rdns", "--quiet"}
	if o.TLS != "" {
		cert, key, err := selfSigned(dir)
		if err != nil {
			return nil, err
		}
		s.CAFile = cert
		args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key)
		switch o.TLS {
		case "starttls":
			args = append(args, "--smtp-require-starttls")
		case "tls":
			args = append(args, "--smtp-require-tls")
		default:
			return nil, fmt.Errorf("mailpit: TLS %q is neither starttls nor tls", o.TLS)
		}
	}
	if len(o.Users) > 0 {
		var b strings.Builder
		for u, p := range o.Users {
			fmt.Fprintf(&b, "%s:%s\n", u, p)
		}
		file := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--smtp-auth-file", file)
		if o.TLS == "" {
			args = append(args, "--smtp-auth-allow-insecure")
		}
	} else {
		args = append(args, "--smtp-auth-accept-any")
		if o.TLS == "" {
			args = append(args, "--smtp-auth-allow-insecure")
		}
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.API + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", smtpPort)); err == nil {
				c.Close()
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Stop()
			return nil, fmt.Errorf("mailpit did not start: %s", s.logs)
		}
		time.Sleep(50 * time.Millisecond)
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

// Address is a mail address as Mailpit reports it.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Attachment is an attachment as Mailpit reports it.
type Attachment struct {
	PartID      string `json:"PartID"`
	FileName    string `json:"FileName"`
	ContentType string `json:"ContentType"`
	Size        int    `json:"Size"`
}

// Message is a received message.
type Message struct {
	ID          string       `json:"ID"`
	MessageID   string       `json:"MessageID"`
	From        Address      `json:"From"`
	To          []Address    `json:"To"`
	Cc          []Address    `json:"Cc"`
	Bcc         []Address    `json:"Bcc"`
	ReplyTo     []Address    `json:"ReplyTo"`
	Subject     string       `json:"Subject"`
	Text        string       `json:"Text"`
	HTML        string       `json:"HTML"`
	Attachments []Attachment `json:"Attachments"`
}

func (s *Server) get(path string, v any) error {
	resp, err := http.Get(s.API + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s %s", path, resp.Status, b)
	}
	if b, ok := v.(*[]byte); ok {
		*b, err = io.ReadAll(resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Messages returns the received messages, whole, newest first.
func (s *Server) Messages() ([]Message, error) {
	var list struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	if err := s.get("/api/v1/messages", &list); err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(list.Messages))
	for _, m := range list.Messages {
		var full Message
		if err := s.get("/api/v1/message/"+m.ID, &full); err != nil {
			return nil, err
		}
		out = append(out, full)
	}
	return out, nil
}

// Await waits until a message satisfies ok, and returns it.
func (s *Server) Await(ctx context.Context, ok func(Message) bool) (Message, error) {
	for {
		msgs, err := s.Messages()
		if err != nil {
			return Message{}, err
		}
		for _, m := range msgs {
			if ok(m) {
				return m, nil
			}
		}
		select {
		case <-ctx.Done():
			return Message{}, fmt.Errorf("no such message among %d: %w", len(msgs), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Headers returns a message's headers.
func (s *Server) Headers(id string) (map[string][]string, error) {
	var h map[string][]string
	return h, s.get("/api/v1/message/"+id+"/headers", &h)
}

// Raw returns a message's source, as the server received it.
func (s *Server) Raw(id string) ([]byte, error) {
	var b []byte
	return b, s.get("/api/v1/message/"+id+"/raw", &b)
}

// Part returns the bytes of a message's part (an attachment).
func (s *Server) Part(id, part string) ([]byte, error) {
	var b []byte
	return b, s.get("/api/v1/message/"+id+"/part/"+part, &b)
}

// selfSigned writes a certificate and key for 127.0.0.1 and localhost.
func selfSigned(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cws test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "smtp-cert.pem"), filepath.Join(dir, "smtp-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}
