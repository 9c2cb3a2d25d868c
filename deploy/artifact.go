package deploy

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Artifact is a function's code: the zip of its bootstrap, and the S3 key
// it goes under (its content hash: the same code, the same key).
type Artifact struct {
	Zip []byte
	Key string
}

// zipTime is the modification time of the zip's only file: fixed, so that
// the same binary gives the same zip.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// NewArtifact zips a Lambda bootstrap (an executable built for
// provided.al2023) deterministically and names it after its hash, under
// the service's name.
func NewArtifact(service string, bootstrap []byte) (Artifact, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(bootstrap)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return Artifact{}, fmt.Errorf("zipping the bootstrap: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return Artifact{Zip: buf.Bytes(), Key: service + "/" + hex.EncodeToString(sum[:]) + ".zip"}, nil
}

// GOARCH is the Go architecture of a Lambda architecture (arm64, x86_64).
func GOARCH(architecture string) string {
	if architecture == "x86_64" {
		return "amd64"
	}
	return architecture
}

// BuildFlags are the go build flags of a bootstrap: trimmed paths, no VCS
// stamp (the same source gives the same bytes whatever the checkout),
// stripped, without the RPC mode of the go1.x runtime (lambda.norpc).
var BuildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-tags", "lambda.norpc"}

// BuildEnv is the environment of go build for a bootstrap of an
// architecture, added to the process's.
func BuildEnv(architecture string) []string {
	return []string{"GOOS=linux", "GOARCH=" + GOARCH(architecture), "CGO_ENABLED=0"}
}
