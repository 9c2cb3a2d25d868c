package runtime_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"testing"

	"github.com/coworks-go/cws/runtime"
)

// fuzzApp builds the test service once per fuzz target.
func fuzzApp(f *testing.F) *runtime.App {
	app, err := runtime.New(svc{}, runtime.WithAuthorizer(runtime.TokenAuthorizer(testToken)),
		runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		f.Fatal(err)
	}
	return app
}

// checkAnswer accepts a 200 with JSON or a problem with one of the allowed
// statuses, and fails on anything else.
func checkAnswer(t *testing.T, what string, r result, allowed ...int) {
	t.Helper()
	if r.status == 200 {
		if !json.Valid(r.body) {
			t.Fatalf("%s: 200 with invalid JSON %q", what, r.body)
		}
		return
	}
	for _, s := range allowed {
		if r.status == s {
			r.problem(t)
			return
		}
	}
	t.Fatalf("%s: status %d %s", what, r.status, r.body)
}

// FuzzQueryBinding feeds arbitrary query strings to a typed entry: the
// answer is a 200 with JSON, or a 400 or 422 problem, never a 500.
func FuzzQueryBinding(f *testing.F) {
	for _, s := range []string{"", "flag=yes&ids=1&ids=2&n=3", "n=%zz", "a;b", "n=1&n=2", "when=2024-01-01T00:00:00Z",
		"raw=%7B%7D", "nested=%7B%22a%22:1%7D", "u8=300", "name=", "=x", "&&&", "Plain=p&PLAIN=q"} {
		f.Add(s)
	}
	app := fuzzApp(f)
	f.Fuzz(func(t *testing.T, raw string) {
		checkAnswer(t, "query "+raw, do(t, app, call{method: "GET", target: "/params?" + raw}), 400, 422)
	})
}

// FuzzQueryRoundTrip checks that values encoded into a query come back from
// binding unchanged.
func FuzzQueryRoundTrip(f *testing.F) {
	f.Add(int64(3), "bob", 1.5, true)
	f.Add(int64(-1), "", 0.0, false)
	f.Add(int64(1<<62), "a&b=c d%", -2.25e10, true)
	app := fuzzApp(f)
	f.Fuzz(func(t *testing.T, n int64, name string, ratio float64, flag bool) {
		if n != int64(int(n)) || ratio != ratio {
			return
		}
		q := url.Values{"n": {strconv.FormatInt(n, 10)}, "name": {name}, "ratio": {strconv.FormatFloat(ratio, 'g', -1, 64)},
			"flag": {strconv.FormatBool(flag)}}
		r := do(t, app, call{method: "GET", target: "/params?" + q.Encode()})
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q.Encode(), r.status, r.body)
		}
		var got params
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if int64(got.N) != n || got.Name == nil || *got.Name != name || got.Ratio != ratio || got.Flag != flag {
			if !validUTF8(name) {
				return // JSON replaces invalid UTF-8 on the way out
			}
			t.Fatalf("%s: bound %+v", q.Encode(), got)
		}
	})
}

func validUTF8(s string) bool {
	b, _ := json.Marshal(s)
	var back string
	_ = json.Unmarshal(b, &back)
	return back == s
}

// FuzzBodyBinding feeds arbitrary JSON bodies to a typed entry.
func FuzzBodyBinding(f *testing.F) {
	for _, s := range []string{`{}`, `{"n":1}`, `{"n":"x"}`, `[1]`, `{"nested":{"a":"b"}}`, `{"when":"x"}`, `{`, `{} x`, `null`, `"s"`} {
		f.Add(s)
	}
	app := fuzzApp(f)
	f.Fuzz(func(t *testing.T, body string) {
		if body == "" {
			return
		}
		checkAnswer(t, "body "+body, do(t, app, call{method: "POST", target: "/params", body: body}), 400, 422)
	})
}

// FuzzPathBinding feeds arbitrary path segments to typed positional
// parameters.
func FuzzPathBinding(f *testing.F) {
	f.Add("1", "yes", "1.5", "1,2", "2024-01-01T00:00:00Z", "3")
	f.Add("x", "", "%zz", ",", "now", "-1")
	app := fuzzApp(f)
	f.Fuzz(func(t *testing.T, n, b, fl, ids, when, opt string) {
		path := "/path/" + n + "/" + b + "/" + fl + "/" + ids + "/" + when + "/" + opt
		checkAnswer(t, path, do(t, app, call{method: "GET", target: path}), 400, 404, 405, 422)
	})
}

// FuzzFormBinding feeds arbitrary form and multipart bodies to a typed
// entry: a 200 with JSON, or a 400, 413, 415 or 422 problem, never a 500.
func FuzzFormBinding(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "n=1&ids=2&ids=3&name=a")
	f.Add("application/x-www-form-urlencoded", "n=%zz&a;b")
	f.Add("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n1\r\n--b--\r\n")
	f.Add("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"raw\"; filename=\"f\"\r\n\r\n{}\r\n--b--\r\n")
	f.Add("multipart/form-data", "x")
	app := fuzzApp(f)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		if body == "" {
			return
		}
		for _, target := range []string{"/params", "/upload"} {
			checkAnswer(t, contentType+" "+body, do(t, app, call{method: "POST", target: target, body: body, contentType: contentType}), 400, 413, 415, 422)
		}
	})
}
