package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Client calls the entries of an App in process, through App.Serve, as the
// service itself: its requests are marked Authorized (as the calls of
// reactors and of invocation events are), so the authorizer is not asked
// and guarded entries answer without a token. Routing, binding, validation,
// middleware and problems are those of every other door; an entry limited
// to other stages does not exist (404). Commands get one in their
// CommandEnv.
type Client struct {
	app *App
}

// Client returns a client of the App's entries.
func (a *App) Client() *Client { return &Client{app: a} }

// NewAuthorizedRequest returns a request for an entry called by the
// program itself — a Client's call, an invocation event, a reactor's call
// in process — marked Authorized: whoever made it (the binary itself, or
// the door that authorized the event's sender) answers for it, so the
// App does not ask its authorizer. path is escaped; body is JSON
// (Content-Type application/json), or nil for none.
func NewAuthorizedRequest(method, path, rawQuery string, body []byte) *Request {
	req := &Request{Method: method, Path: path, RawQuery: rawQuery, Header: http.Header{}, Authorized: true}
	if body != nil {
		req.Body = bytes.NewReader(body)
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// Do calls "METHOD target" (target is the escaped path, with its query
// string) with body as its JSON body: nil for none, []byte or
// json.RawMessage as they are, any other value encoded. It returns the
// entry's answer whatever its status, with its body read (Stream nil); the
// error is for a body that cannot be encoded or an answer that cannot be
// read.
func (c *Client) Do(ctx context.Context, method, target string, body any) (*Response, error) {
	var raw []byte
	if body != nil {
		switch b := body.(type) {
		case []byte:
			raw = b
		case json.RawMessage:
			raw = b
		default:
			var err error
			if raw, err = json.Marshal(body); err != nil {
				return nil, fmt.Errorf("%s %s: encoding the body: %w", method, target, err)
			}
		}
		if raw == nil {
			raw = []byte{} // a nil []byte is an empty body, as it is
		}
	}
	path, rawQuery, _ := strings.Cut(target, "?")
	resp := c.app.Serve(ctx, NewAuthorizedRequest(method, path, rawQuery, raw))
	data, err := resp.ReadBody()
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, target, err)
	}
	resp.Body, resp.Stream = data, nil
	return resp, nil
}

// Call is Do for the entries that answer JSON: an answer of 400 and above
// is an error wrapping the entry's *Problem (errors.As finds it, with its
// status and detail); otherwise the body is decoded into out — nil ignores
// it, a *string or *[]byte takes it as it is.
func (c *Client) Call(ctx context.Context, method, target string, body, out any) error {
	resp, err := c.Do(ctx, method, target, body)
	if err != nil {
		return err
	}
	if resp.Status >= 400 {
		p := &Problem{}
		if resp.ContentType != ProblemContentType || json.Unmarshal(resp.Body, p) != nil {
			p = &Problem{Title: http.StatusText(resp.Status), Detail: strings.TrimSpace(string(resp.Body))}
		}
		p.Status = resp.Status
		return fmt.Errorf("%s %s: %w", method, target, p)
	}
	switch o := out.(type) {
	case nil:
	case *string:
		*o = string(resp.Body)
	case *[]byte:
		*o = resp.Body
	default:
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not a %T: %w", method, target, out, err)
		}
	}
	return nil
}
