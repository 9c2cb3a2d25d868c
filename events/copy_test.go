package events_test

import (
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
)

// A copy's setters change the copy only, and so do writes into its data's
// bytes, small (kept beside the copy's context) or not.
func TestCopies(t *testing.T) {
	orig := event.New()
	orig.SetID("1")
	orig.SetSource("test")
	orig.SetType("t")
	orig.SetExtension("tag", "a")
	// Data of each size Copy keeps apart, at the edges of its sizes: beside
	// the context (up to 64 bytes, up to 128) and on its own.
	var datas []string
	for _, n := range []int{8, 64, 65, 128, 129, 208} {
		datas = append(datas, `{"n":"`+strings.Repeat("x", n-8)+`"}`) // n bytes
	}
	for _, data := range datas {
		if err := orig.SetData(event.ApplicationJSON, []byte(data)); err != nil {
			t.Fatal(err)
		}
		cp := events.Copy(orig)
		if string(cp.Data()) != data {
			t.Fatalf("the copy's data: %s", cp.Data())
		}
		cp.Data()[0] = '['
		if string(orig.Data()) != data {
			t.Errorf("a write into the copy's data changed the original's: %s", orig.Data())
		}
		cp.SetID("2")
		cp.SetSubject("s")
		cp.SetExtension("tag", "b")
		cp.SetExtension("more", "c")
		if err := cp.SetData(event.ApplicationJSON, []byte(`{"n":2}`)); err != nil {
			t.Fatal(err)
		}
		if orig.ID() != "1" || orig.Subject() != "" || orig.Extensions()["tag"] != "a" || len(orig.Extensions()) != 1 || string(orig.Data()) != data {
			t.Errorf("the original changed with its copy: %s", orig)
		}
	}
}
