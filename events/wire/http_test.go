package wire_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
)

// request writes e as the SDK's HTTP protocol does (binary mode, or
// structured with structured set) and returns the request's header and
// body.
func request(t *testing.T, e event.Event, structured bool) (http.Header, []byte) {
	t.Helper()
	ctx := context.Background()
	if structured {
		ctx = binding.WithForceStructured(ctx)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://x/_cws/events", nil)
	if err := cehttp.WriteRequest(ctx, (*binding.EventMessage)(&e), req); err != nil {
		t.Fatal(err)
	}
	if req.Body == nil {
		return req.Header, nil
	}
	body, _ := io.ReadAll(req.Body)
	return req.Header, body
}

// DecodeHTTP reads what the SDK's HTTP protocol writes, as the SDK's own
// decoder reads it.
func TestDecodeHTTPAsTheSDK(t *testing.T) {
	for i, e := range sampleEvents(t) {
		for _, structured := range []bool{false, true} {
			header, body := request(t, e, structured)
			got, err := wire.DecodeHTTP(header, bytes.NewReader(body))
			if err != nil || len(got) != 1 {
				t.Fatalf("event %d (structured %v): %v %v", i, structured, got, err)
			}
			r, _ := http.NewRequest(http.MethodPost, "http://x", bytes.NewReader(body))
			r.Header = header
			want, err := cehttp.NewEventFromHTTPRequest(r)
			if err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := got[0].MarshalJSON()
			wantJSON, _ := want.MarshalJSON()
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("event %d (structured %v):\n got %s\nwant %s", i, structured, gotJSON, wantJSON)
			}
		}
	}
}

func TestDecodeHTTPBatchAndErrors(t *testing.T) {
	batch := `[{"specversion":"1.0","id":"1","source":"s","type":"t"},{"specversion":"1.0","id":"2","source":"s","type":"t","data":{"a":1}}]`
	evs, err := wire.DecodeHTTP(http.Header{"Content-Type": {wire.ContentTypeBatch}}, strings.NewReader(batch))
	if err != nil || len(evs) != 2 || evs[1].ID() != "2" || string(evs[1].Data()) != `{"a":1}` {
		t.Errorf("batch: %v %v", evs, err)
	}
	if _, err := wire.DecodeHTTP(http.Header{"Content-Type": {"application/json"}}, strings.NewReader(`{}`)); !errors.Is(err, wire.ErrNotCloudEvent) {
		t.Errorf("plain JSON: %v", err)
	}
	if _, err := wire.DecodeHTTP(http.Header{"Content-Type": {wire.ContentTypeStructured}}, strings.NewReader(`{`)); err == nil {
		t.Error("malformed structured event: no error")
	}
	if _, err := wire.DecodeHTTP(http.Header{"Content-Type": {wire.ContentTypeBatch}}, strings.NewReader(`{}`)); err == nil {
		t.Error("a batch that is not an array: no error")
	}
	evs, err = wire.DecodeHTTP(http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"7"}, "Ce-Source": {"s"}, "Ce-Type": {"t"},
		"Ce-Myext": {"v"}, "Content-Type": {"text/plain"}}, strings.NewReader("hello"))
	if err != nil || len(evs) != 1 || evs[0].Extensions()["myext"] != "v" || string(evs[0].Data()) != "hello" || evs[0].DataContentType() != "text/plain" {
		t.Errorf("binary mode: %v %v", evs, err)
	}
}

// FuzzDecodeHTTP: any body, in any mode, decodes or fails with an error,
// never a panic; a decoded event that validates encodes again.
func FuzzDecodeHTTP(f *testing.F) {
	f.Add(wire.ContentTypeStructured, `{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"a":[1,2]}}`)
	f.Add(wire.ContentTypeBatch, `[{"specversion":"1.0","id":"1","source":"s","type":"t"}]`)
	f.Add("application/json", `{"a":1}`)
	f.Add(wire.ContentTypeStructured+"; charset=utf-8", `{"specversion":"0.3","id":"1","source":"s","type":"t","datacontentencoding":"base64","data":"aGk="}`)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		for _, h := range []http.Header{
			{"Content-Type": {contentType}},
			{"Content-Type": {contentType}, "Ce-Specversion": {"1.0"}, "Ce-Id": {body}, "Ce-Source": {"s"}, "Ce-Type": {"t"}},
		} {
			evs, err := wire.DecodeHTTP(h, strings.NewReader(body))
			if err != nil {
				continue
			}
			for _, e := range evs {
				if e.Validate() == nil {
					if _, err := e.MarshalJSON(); err != nil && wire.CheckData(e) == nil {
						t.Errorf("a valid event does not encode: %v", err)
					}
				}
			}
		}
	})
}

// FuzzDecodeSQS: any message body and attributes decode to a valid event
// or fail with a Permanent error (the message is dead-lettered), never a
// panic.
func FuzzDecodeSQS(f *testing.F) {
	for _, name := range []string{"sqs-structured.json", "sqs-binary.json"} {
		m := loadSQS(f, name)
		f.Add(m.Body, m.Attributes["ce-specversion"], m.Attributes["content-type"])
	}
	for _, name := range []string{"eventbridge-scheduled.json", "eventbridge-cloudevent.json"} {
		b := readTestdata(f, name)
		f.Add(string(b), "", "")
	}
	f.Add(`{"specversion":"1.0"}`, "", "")
	f.Fuzz(func(t *testing.T, body, specversion, contentType string) {
		attrs := map[string]string{}
		if specversion != "" {
			attrs = map[string]string{"ce-specversion": specversion, "ce-id": "1", "ce-source": "s", "ce-type": "t", "content-type": contentType}
		}
		e, err := wire.DecodeSQS(body, attrs)
		if err != nil {
			if !events.IsPermanent(err) {
				t.Errorf("a decoding error that is not Permanent: %v", err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Errorf("decoded an invalid event: %v", err)
		}
	})
}
