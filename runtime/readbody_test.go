package runtime_test

import (
	"io"
	"strings"
	"testing"

	"github.com/coworks-go/cws/runtime"
)

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestReadBody(t *testing.T) {
	if b, err := (&runtime.Response{Body: []byte("plain")}).ReadBody(); err != nil || string(b) != "plain" {
		t.Errorf("Body: %q %v", b, err)
	}
	s := &closeRecorder{Reader: strings.NewReader("streamed")}
	if b, err := (&runtime.Response{Stream: s}).ReadBody(); err != nil || string(b) != "streamed" || !s.closed {
		t.Errorf("Stream: %q %v, closed %v", b, err, s.closed)
	}
}
