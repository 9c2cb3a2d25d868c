package events_test

import (
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
)

// A copy's setters change the copy only; Copy's data is its own,
// CopyAttributes' data bytes are the original's until SetData replaces
// them.
func TestCopies(t *testing.T) {
	orig := event.New()
	orig.SetID("1")
	orig.SetSource("test")
	orig.SetType("t")
	orig.SetExtension("tag", "a")
	if err := orig.SetData(event.ApplicationJSON, []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		copy       func(event.Event) event.Event
		sharesData bool
	}{{"Copy", events.Copy, false}, {"CopyAttributes", events.CopyAttributes, true}} {
		cp := c.copy(orig)
		if &cp.Data()[0] == &orig.Data()[0] != c.sharesData {
			t.Errorf("%s: shares the data's bytes: %v, want %v", c.name, !c.sharesData, c.sharesData)
		}
		cp.SetID("2")
		cp.SetSubject("s")
		cp.SetExtension("tag", "b")
		cp.SetExtension("more", "c")
		if err := cp.SetData(event.ApplicationJSON, []byte(`{"n":2}`)); err != nil {
			t.Fatal(err)
		}
		if orig.ID() != "1" || orig.Subject() != "" || orig.Extensions()["tag"] != "a" || len(orig.Extensions()) != 1 || string(orig.Data()) != `{"n":1}` {
			t.Errorf("%s: the original changed with its copy: %s", c.name, orig)
		}
	}
}
