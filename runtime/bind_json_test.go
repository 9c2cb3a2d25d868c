package runtime

import (
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// everyKind holds a field of every kind a keyword struct can have, for the
// body decoder to be compared with encoding/json's.
type everyKind struct {
	embeddedKind
	Flag    bool              `json:"flag"`
	IDs     []int             `json:"ids"`
	N       int               `json:"n"`
	I8      int8              `json:"i8"`
	U8      uint8             `json:"u8"`
	Ratio   float64           `json:"ratio"`
	F32     float32           `json:"f32"`
	Name    *string           `json:"name"`
	When    time.Time         `json:"when"`
	Raw     json.RawMessage   `json:"raw"`
	Nested  *nested           `json:"nested"`
	Labels  map[string]string `json:"labels"`
	ByInt   map[int]string    `json:"by_int"`
	Any     any               `json:"any"`
	Num     json.Number       `json:"num"`
	Bytes   []byte            `json:"bytes"`
	Addr    netip.Addr        `json:"addr"`
	Pair    [2]int            `json:"pair"`
	Custom  customJSON        `json:"custom"`
	Omitted string            `json:"omitted,omitempty"`
	Plain   string
	Skip    string `json:"-"`
}

type embeddedKind struct {
	E int `json:"e"`
}

type nested struct {
	A int    `json:"a"`
	B string `json:"b"`
}

// customJSON takes only a JSON string of "yes" or "no".
type customJSON bool

func (c *customJSON) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"yes"`:
		*c = true
	case `"no"`:
		*c = false
	default:
		return errors.New("custom takes yes or no")
	}
	return nil
}

// bindWithEncodingJSON is how the binder decoded a JSON body before it used
// the JSON v2 decoder: the reference it must keep answering as.
func bindWithEncodingJSON(dst reflect.Value, body []byte, errs *[]ParamError) error {
	if isJSONNull(body) {
		*errs = append(*errs, nullBody)
		return nil
	}
	return decodeWithEncodingJSON(dst, body, errs)
}

// bodyVerdict is what binding a body came to: the value bound, or the
// status of the refusal and what it named.
type bodyVerdict struct {
	value  any
	status int
	named  []string
}

func verdictOf(v reflect.Value, err error, errs []ParamError) bodyVerdict {
	switch {
	case err != nil:
		var p *Problem
		if !errors.As(err, &p) {
			return bodyVerdict{status: 500, named: []string{err.Error()}}
		}
		return bodyVerdict{status: p.Status}
	case len(errs) > 0:
		var named []string
		for _, e := range errs {
			named = append(named, e.Name)
		}
		return bodyVerdict{status: 422, named: named}
	}
	return bodyVerdict{value: v.Interface()}
}

// checkBinding fails when the body decoder does not answer body as
// encoding/json's Decoder did. A body that is not one JSON text must be a
// 400 (encoding/json's Decoder, reading a stream, could find a type error
// in a first value before the syntax error after it: a 422 for "0000").
func checkBinding(t *testing.T, body []byte) {
	t.Helper()
	got, want := bindBoth(t, body)
	if !json.Valid(body) {
		if got.status != 400 {
			t.Errorf("%q is not JSON:\n got %+v\nwant 400", body, got)
		}
		return
	}
	if !sameVerdict(got, want) {
		t.Errorf("%q:\n got %+v\nwant %+v", body, got, want)
	}
}

func bindBoth(t *testing.T, body []byte) (got, want bodyVerdict) {
	t.Helper()
	return bindBothAs(t, reflect.TypeFor[everyKind](), body)
}

// bindBothAs is bindBoth into a struct of type typ.
func bindBothAs(t *testing.T, typ reflect.Type, body []byte) (got, want bodyVerdict) {
	t.Helper()
	b, err := newStructBinder(typ)
	if err != nil {
		t.Fatal(err)
	}
	var gotErrs, wantErrs []ParamError
	gotV, wantV := reflect.New(b.typ).Elem(), reflect.New(b.typ).Elem()
	gotErr := b.json(gotV, body, &gotErrs)
	wantErr := bindWithEncodingJSON(wantV, body, &wantErrs)
	return verdictOf(gotV, gotErr, gotErrs), verdictOf(wantV, wantErr, wantErrs)
}

// sameVerdict: the same value bound, or a refusal with the same status
// naming the same parameters. A name may be more precise than encoding/json's
// (the element of a list or map: ids.1 for ids; e for embeddedKind.e, the
// embedded struct's name being Go's, not the client's), as the client
// spelled it (FLAG for flag), and a parameter
// encoding/json left unnamed (a bad base64 or ",string" value) may be named.
func sameVerdict(got, want bodyVerdict) bool {
	if got.status != want.status || !reflect.DeepEqual(got.value, want.value) {
		return false
	}
	if len(want.named) == 1 && want.named[0] == "" {
		return len(got.named) == 1
	}
	if len(got.named) != len(want.named) {
		return false
	}
	for i, w := range want.named {
		// Names match as the decoder matches them: without case (a name
		// may say what the client sent, FLAG for flag).
		g, w := strings.ToLower(got.named[i]), strings.ToLower(w)
		if g != w && !strings.HasPrefix(g, w+".") && !strings.HasSuffix(w, "."+g) {
			return false
		}
	}
	return true
}

var bodySeeds = []string{
	`{}`, `{"e":1,"flag":true,"ids":[1,2],"n":-3,"i8":-128,"u8":255,"ratio":1.5e3,"f32":0.1,"name":"a","when":"2024-01-01T00:00:00Z",` +
		`"raw":{"x": [1, 2]},"nested":{"a":1,"b":"c"},"labels":{"k":"v"},"by_int":{"7":"seven"},"any":[1,"x",{"y":null}],` +
		`"num":12.50,"bytes":"aGk=","addr":"10.0.0.1","pair":[1,2],"custom":"yes","omitted":"o","Plain":"p"}`,
	`{"FLAG":true,"Ids":[3],"plain":"case"}`, `{"n":1,"n":2}`, `{"n":1,"N":2}`, `{"unknown":1}`, `{"Skip":"x"}`, `{"-":"x"}`,
	`{"n":"1"}`, `{"n":1.5}`, `{"n":1e400}`, `{"i8":128}`, `{"u8":-1}`, `{"ids":{}}`, `{"ids":[1,"2"]}`, `{"name":null}`,
	`{"when":"yesterday"}`, `{"nested":[]}`, `{"nested":{"a":"x"}}`, `{"nested":{"c":1}}`, `{"labels":{"k":1}}`,
	`{"by_int":{"x":"y"}}`, `{"num":"12"}`, `{"num":"x"}`, `{"num":true}`, `{"num":null}`, `{"bytes":"%%%"}`,
	`{"addr":"nope"}`, `{"pair":[1,2,3]}`, `{"pair":[1]}`, `{"custom":"maybe"}`,
	`{"custom":true}`, `[1]`, `"s"`, `1`, `true`, `null`, ` null `, `{`, `{"n":1} x`, `{"n":1}{}`, `{"n":1}  `, `{"n":}`,
	`{"name":"\ud800"}`, `{"name":"\ud83d\ude00"}`, "{\"name\":\"\xff\"}", `{"name":"a\u0000b"}`, `{"raw":"\udc00"}`,
	`{"n":1,"unknown":{"deep":[1,2,3]}}`, `{"unknown":1,"n":"x"}`, `{"n":"x","unknown":1}`, `{"e":"x"}`, `{"any":1e400}`,
	"\ufeff{}", `{"n":01}`, `{"n":-0}`, `{"ratio":-0.0}`, `{"nested":null,"labels":null,"ids":null}`,
}

// TestBodyDecoderAnswersAsEncodingJSON: the body decoder binds what
// encoding/json's Decoder bound, and refuses what it refused, with the same
// status and naming the same parameters.
func TestBodyDecoderAnswersAsEncodingJSON(t *testing.T) {
	if b, err := newStructBinder(reflect.TypeFor[everyKind]()); err != nil || b.quoted {
		t.Fatalf("everyKind must bind through the JSON v2 decoder (no \",string\" field): %v", err)
	}
	for _, body := range bodySeeds {
		checkBinding(t, []byte(body))
	}
}

// FuzzBodyDecoderAnswersAsEncodingJSON is the same comparison on arbitrary
// bodies.
func FuzzBodyDecoderAnswersAsEncodingJSON(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if strings.TrimSpace(body) == "" {
			return // no body: not bound as JSON
		}
		checkBinding(t, []byte(body))
	})
}

// quotedKinds holds fields with the ",string" option, which
// go-json-experiment's v1 semantics parse as Go numbers (+1, .5, NaN, Inf
// taken) where encoding/json refuses anything but a JSON number.
type quotedKinds struct {
	N     int      `json:"n,string"`
	U     uint     `json:"u,string"`
	F     float64  `json:"f,string"`
	P     *int     `json:"p,string"`
	B     bool     `json:"b,string"`
	S     string   `json:"s,string"`
	Inner []quoted `json:"inner"`
}

type quoted struct {
	F float32 `json:"f,string"`
}

// TestQuotedAnswersAsEncodingJSON: a struct with ",string" fields binds
// as encoding/json binds it (it binds through encoding/json).
func TestQuotedAnswersAsEncodingJSON(t *testing.T) {
	for _, body := range []string{`{"n":"1","u":"2","f":"1.5","p":"3","b":"true","s":"\"x\""}`, `{"n":1}`, `{"n":"x"}`, `{"n":"+1"}`, `{"n":" 1"}`,
		`{"n":"null"}`, `{"u":"+1"}`, `{"f":"+1"}`, `{"f":".5"}`, `{"f":"NaN"}`, `{"f":"Infinity"}`, `{"f":"-Inf"}`, `{"f":"1e400"}`,
		`{"p":"+1"}`, `{"p":"null"}`, `{"p":null}`, `{"b":"x"}`, `{"s":"x"}`, `{"inner":[{"f":"+1"}]}`, `{"inner":[{"f":"2"}]}`,
		`{"n":"1","x":1}`, `{"n":"1"} x`} {
		got, want := bindBothAs(t, reflect.TypeFor[quotedKinds](), []byte(body))
		if !sameVerdict(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", body, got, want)
		}
	}
}
