package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/coworks-go/cws/internal/jsonpool"
)

// The rules of CloudEvents 1.0.2 (the core specification and the JSON event
// format) that every door checks, as docs/cloudevents.md lists them: a
// RuleError names one.
const (
	RuleJSONObject      = "json-object"     // a structured event is one JSON object (JSON format §3)
	RuleDuplicate       = "json-duplicate"  // an attribute appears once in a JSON object (cws: RFC 8259 §4 leaves it open)
	RuleRequired        = "required"        // id, source, specversion, type present and non-empty (core, REQUIRED Attributes)
	RuleSpecVersion     = "specversion"     // specversion is "1.0" (core, specversion)
	RuleAttributeName   = "attribute-name"  // names are a-z and 0-9 (core, Attribute Naming Convention)
	RuleAttributeType   = "attribute-type"  // the JSON type of a value follows the type system mapping (JSON format §2.2)
	RuleInteger         = "integer"         // an Integer is whole and 32-bit (core, Type System; JSON format §2.2)
	RuleStringChars     = "string-chars"    // a String has no control characters or noncharacters (core, Type System)
	RuleNonEmpty        = "non-empty"       // subject, dataschema, datacontenttype not empty when present (core, OPTIONAL Attributes)
	RuleSource          = "source"          // source is a URI-reference (core, source; RFC 3986 §4.1)
	RuleDataSchema      = "dataschema"      // dataschema is an absolute URI (core, dataschema; RFC 3986 §4.3)
	RuleDataContentType = "datacontenttype" // datacontenttype is an RFC 2046 media type (core, datacontenttype)
	RuleTime            = "time"            // time is an RFC 3339 timestamp (core, time)
	RuleDataExclusive   = "data-exclusive"  // data and data_base64 are not both present (JSON format §3.1.1)
	RuleDataBase64      = "data-base64"     // data_base64 is a base64 string (JSON format §3.1.2)
	RuleDataString      = "data-string"     // the data of a non-JSON content type is a string (JSON format §3.1.2)
	RuleDataJSON        = "data-json"       // binary-mode data of a JSON content type is JSON (JSON format §3.1.2, as the binary modes read it)
	RuleHeaderValue     = "header-value"    // a ce- header value is percent-encoded UTF-8, quoted strings unescaped first (HTTP binding §3.1.3.2)
)

// maxRuleDetailLength bounds a value quoted in a RuleError.
const maxRuleDetailLength = 200

// A RuleError is an event refused for breaking a rule of CloudEvents: Rule
// names it (RuleRequired, RuleTime...), Detail says what broke it. The HTTP
// door answers it with a 400 problem; the queues dead-letter the message
// with it as the reason.
type RuleError struct {
	Rule   string
	Detail string
}

func (e *RuleError) Error() string { return "CloudEvents rule " + e.Rule + ": " + e.Detail }

func ruleErr(rule, format string, args ...any) error {
	return &RuleError{Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// quoteShort quotes a value for an error, cut to a readable length.
func quoteShort(s string) string {
	if len(s) > maxRuleDetailLength {
		s = s[:maxRuleDetailLength] + "…"
	}
	return strconv.Quote(s)
}

// The kinds of attribute values: binary modes carry strings only.
type valueKind byte

const (
	kindString valueKind = iota
	kindNumber
	kindBool
	kindNull
	kindOther // an object or an array
)

func (k valueKind) String() string {
	return [...]string{"a string", "a number", "a boolean", "null", "an object or array"}[k]
}

// The attributes of CloudEvents 1.0, all of them Strings in the JSON format.
func isCoreAttribute(name string) bool {
	switch name {
	case "specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time":
		return true
	}
	return false
}

// checkName checks an attribute's name: lower-case ASCII letters and
// digits. Names over 20 characters are accepted (the specification says
// SHOULD NOT).
func checkName(name string) error {
	if name == "" {
		return ruleErr(RuleAttributeName, "an attribute has an empty name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return ruleErr(RuleAttributeName, "attribute name %s is not only lower-case letters a-z and digits 0-9", quoteShort(name))
		}
	}
	return nil
}

// checkString checks a value of type String: valid UTF-8 with no control
// characters (U+0000-U+001F, U+007F-U+009F) and no noncharacters.
func checkString(name, s string) error {
	if !utf8.ValidString(s) {
		return ruleErr(RuleStringChars, "attribute %s is not valid UTF-8", name)
	}
	for _, r := range s {
		switch {
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return ruleErr(RuleStringChars, "attribute %s holds the control character %U", name, r)
		case (r >= 0xfdd0 && r <= 0xfdef) || r&0xfffe == 0xfffe:
			return ruleErr(RuleStringChars, "attribute %s holds the noncharacter %U", name, r)
		}
	}
	return nil
}

// checkAttribute checks one attribute as the wire carries it: its name,
// and its value of the given kind (s is a string's value or a number's or
// boolean's text). A null value is an absent attribute, and passes here.
func checkAttribute(name string, kind valueKind, s string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if kind == kindNull {
		return nil
	}
	if !isCoreAttribute(name) {
		switch kind {
		case kindString:
			return checkString(name, s)
		case kindBool:
			return nil
		case kindNumber:
			if _, err := strconv.ParseInt(s, 10, 32); err != nil {
				return ruleErr(RuleInteger, "extension %s is %s, not a whole number from -2147483648 to 2147483647", name, quoteShort(s))
			}
			return nil
		}
		return ruleErr(RuleAttributeType, "extension %s is %s: an attribute is a string, an integer or a boolean", name, kind)
	}
	if kind != kindString {
		return ruleErr(RuleAttributeType, "attribute %s is %s, not a string", name, kind)
	}
	if err := checkString(name, s); err != nil {
		return err
	}
	// Blank counts as empty, as the SDK's validation has it.
	blank := strings.TrimSpace(s) == ""
	switch name {
	case "specversion":
		if blank {
			return ruleErr(RuleRequired, "attribute specversion is empty")
		}
		if s != event.CloudEventsVersionV1 {
			return ruleErr(RuleSpecVersion, "specversion is %s: this runtime reads CloudEvents 1.0", quoteShort(s))
		}
	case "id", "type":
		if blank {
			return ruleErr(RuleRequired, "attribute %s is empty", name)
		}
	case "source":
		if blank {
			return ruleErr(RuleRequired, "attribute source is empty")
		}
		if _, err := parseURI(s); err != nil {
			return ruleErr(RuleSource, "source %s is not a URI-reference: %v", quoteShort(s), err)
		}
	case "subject":
		if blank {
			return ruleErr(RuleNonEmpty, "attribute subject is empty: absent or a non-empty string")
		}
	case "datacontenttype":
		if blank {
			return ruleErr(RuleNonEmpty, "attribute datacontenttype is empty: absent or a media type")
		}
		if err := checkMediaType(s); err != nil {
			return ruleErr(RuleDataContentType, "datacontenttype %s is not an RFC 2046 media type: %v", quoteShort(s), err)
		}
	case "dataschema":
		if blank {
			return ruleErr(RuleNonEmpty, "attribute dataschema is empty: absent or an absolute URI")
		}
		u, err := parseURI(s)
		if err == nil && u.Scheme == "" {
			err = errors.New("it has no scheme")
		}
		if err == nil && strings.Contains(s, "#") {
			err = errors.New("an absolute URI has no fragment")
		}
		if err != nil {
			return ruleErr(RuleDataSchema, "dataschema %s is not an absolute URI: %v", quoteShort(s), err)
		}
	case "time":
		if _, err := types.ParseTimestamp(s); err != nil || blank {
			return ruleErr(RuleTime, "time %s is not an RFC 3339 timestamp", quoteShort(s))
		}
	}
	return nil
}

// checkMediaType checks a media type: type/subtype and parameters
// (mime.ParseMediaType, which takes a Content-Disposition without a slash
// too).
func checkMediaType(s string) error {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil {
		return err
	}
	if typ, sub, ok := strings.Cut(mt, "/"); !ok || typ == "" || sub == "" {
		return errors.New("it is not type/subtype")
	}
	return nil
}

// parseURI parses a URI-reference of RFC 3986: its characters, then its
// parts (url.Parse).
func parseURI(s string) (*url.URL, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return nil, errors.New("a % not followed by two hexadecimal digits")
			}
		default:
			return nil, fmt.Errorf("the character %q is not allowed in a URI", c)
		}
	}
	return url.Parse(s)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// checkRequired checks that the required attributes are present.
func checkRequired(has func(name string) bool) error {
	for _, name := range [...]string{"specversion", "id", "source", "type"} {
		if !has(name) {
			return ruleErr(RuleRequired, "the required attribute %s is missing", name)
		}
	}
	return nil
}

// Validate checks a decoded event: the SDK's validation (event.Validate),
// its verdicts named as rules, and the rules it does not check
// (specversion 1.0, the characters of id, source, type, subject and the
// string extensions, source a URI-reference).
// The decoders (DecodeStructured, DecodeHTTP, DecodeSQS, ParseEnvelope)
// call it; what only the wire shows (an empty subject, a null, a JSON type)
// they check before.
func Validate(e event.Event) error {
	if err := validateDecoded(e); err != nil {
		return err
	}
	// What a native EventBridge event gives (Envelope.Event) reaches here
	// unchecked; a decoded event was checked on the wire.
	for _, a := range [...]struct{ name, v string }{{"id", e.ID()}, {"source", e.Source()}, {"type", e.Type()}, {"subject", e.Subject()}} {
		if a.v == "" {
			continue
		}
		if err := checkAttribute(a.name, kindString, a.v); err != nil {
			return err
		}
	}
	// The SDK's setters take extension names of a-z, A-Z and 0-9 only and
	// lower-case them: their values remain.
	for name, v := range e.Extensions() {
		if s, ok := v.(string); ok {
			if err := checkString(name, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateDecoded is Validate for an event a decoder made after checking
// its attributes' values on the wire: the specversion and the SDK's
// validation.
func validateDecoded(e event.Event) error {
	if e.Context == nil {
		return ruleErr(RuleRequired, "the required attribute specversion is missing")
	}
	if v := e.SpecVersion(); v != event.CloudEventsVersionV1 {
		return ruleErr(RuleSpecVersion, "specversion is %s: this runtime reads CloudEvents 1.0", quoteShort(v))
	}
	if err := e.Validate(); err != nil {
		var verr event.ValidationError
		if errors.As(err, &verr) {
			// The first attribute in the order of the specification.
			for _, name := range [...]string{"id", "source", "type", "datacontenttype", "dataschema", "subject", "time"} {
				if aerr, ok := verr[name]; ok {
					return &RuleError{Rule: sdkRule(name), Detail: fmt.Sprintf("attribute %s: %v", name, aerr)}
				}
			}
		}
		return fmt.Errorf("not a valid CloudEvent: %w", err)
	}
	return nil
}

// sdkRule is the rule of an attribute the SDK's validation refused.
func sdkRule(attr string) string {
	switch attr {
	case "id", "source", "type":
		return RuleRequired
	case "subject":
		return RuleNonEmpty
	case "datacontenttype":
		return RuleDataContentType
	case "dataschema":
		return RuleDataSchema
	}
	return RuleTime
}

// DecodeStructured decodes a CloudEvent in the JSON event format
// (structured mode: an SQS message's body, an EventBridge detail, an HTTP
// request of application/cloudevents+json, an element of a batch) with the
// SDK's decoder, checking on top of it the rules of the format it does not
// (a RuleError names the one broken): a JSON object, each attribute once,
// names of a-z and 0-9, the JSON type of each value (strings for the
// attributes of the specification; strings, 32-bit integers and booleans
// for extensions), no empty subject, dataschema or datacontenttype, not
// both data and data_base64, data_base64 in base64, the data of a content
// type that is not JSON a string. An attribute that is null is absent.
func DecodeStructured(data []byte) (event.Event, error) {
	cleaned, err := checkStructured(data)
	if err != nil {
		return event.Event{}, err
	}
	var e event.Event
	if err := e.UnmarshalJSON(cleaned); err != nil {
		return e, fmt.Errorf("decoding the event: %w", err)
	}
	return e, validateDecoded(e)
}

// checkStructured checks the rules of the JSON format on the event's JSON
// and returns it without its null attributes (the SDK would refuse some).
func checkStructured(data []byte) ([]byte, error) {
	l := jsonpool.Get(data, jsontext.AllowDuplicateNames(true))
	defer l.Release()
	dec := l.Decoder
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		if err == nil {
			err = fmt.Errorf("it is %s", kindOf(tok.Kind()))
		}
		return nil, ruleErr(RuleJSONObject, "a structured event is a JSON object: %v", err)
	}
	var seen attributesSeen
	var nulls []string
	var contentType *string
	var dataKind valueKind
	hasData, hasBase64 := false, false
	for dec.PeekKind() != '}' {
		raw, err := dec.ReadValue()
		if err != nil {
			return nil, ruleErr(RuleJSONObject, "the event is not valid JSON: %v", err)
		}
		name := attributeName(raw)
		if !seen.add(name) {
			return nil, ruleErr(RuleDuplicate, "attribute %s appears twice", quoteShort(name))
		}
		kind := kindOf(dec.PeekKind())
		switch name {
		case "data":
			hasData, dataKind = true, kind
			if _, err := dec.ReadValue(); err != nil {
				return nil, ruleErr(RuleJSONObject, "the event is not valid JSON: %v", err)
			}
			continue
		case "data_base64":
			hasBase64 = true
			v, err := dec.ReadToken()
			if err != nil {
				return nil, ruleErr(RuleJSONObject, "the event is not valid JSON: %v", err)
			}
			if kind != kindString {
				return nil, ruleErr(RuleDataBase64, "data_base64 is %s, not a base64 string", kind)
			}
			if _, err := base64.StdEncoding.DecodeString(v.String()); err != nil {
				return nil, ruleErr(RuleDataBase64, "data_base64 is not base64: %v", err)
			}
			continue
		}
		var s string
		if kind == kindOther {
			if err := dec.SkipValue(); err != nil {
				return nil, ruleErr(RuleJSONObject, "the event is not valid JSON: %v", err)
			}
		} else {
			v, err := dec.ReadToken()
			if err != nil {
				return nil, ruleErr(RuleJSONObject, "the event is not valid JSON: %v", err)
			}
			s = v.String()
		}
		if err := checkAttribute(name, kind, s); err != nil {
			return nil, err
		}
		switch {
		case kind == kindNull:
			nulls = append(nulls, name)
			seen.remove(name)
		case name == "datacontenttype":
			contentType = &s
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, ruleErr(RuleJSONObject, "the event is not valid JSON: %v", err)
	}
	if _, err := dec.ReadToken(); err == nil {
		return nil, ruleErr(RuleJSONObject, "the event is followed by more JSON")
	} else if !errors.Is(err, io.EOF) {
		return nil, ruleErr(RuleJSONObject, "the event is followed by something else than JSON: %v", err)
	}
	if err := checkRequired(seen.has); err != nil {
		return nil, err
	}
	if hasData && hasBase64 {
		return nil, ruleErr(RuleDataExclusive, "the event has both data and data_base64")
	}
	if hasData && dataKind != kindString && contentType != nil && !isJSONMedia(*contentType) {
		return nil, ruleErr(RuleDataString, "the data of content type %s is %s, not a string (the SDK reads as JSON only application/json, text/json and the CloudEvents types)",
			quoteShort(*contentType), dataKind)
	}
	if len(nulls) == 0 {
		return data, nil
	}
	return withoutMembers(data, nulls)
}

// coreNames are the attributes and members of the JSON format a structured
// event has; attributeName gives their names without making a string.
var coreNames = [...]string{"specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time",
	"data", "data_base64"}

// attributeName is the member name raw (a JSON string) holds: one of
// coreNames as it is, another made.
func attributeName(raw jsontext.Value) string {
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		for _, n := range coreNames {
			if string(raw[1:len(raw)-1]) == n {
				return n
			}
		}
	}
	name, _ := jsontext.AppendUnquote(nil, raw) // the decoder checked it
	return string(name)
}

// attributesSeen is the set of the attributes an event has: the core ones
// as bits, extensions in a list (an event has a few).
type attributesSeen struct {
	core       uint16
	extensions []string
}

func coreIndex(name string) int {
	for i, n := range coreNames {
		if n == name {
			return i
		}
	}
	return -1
}

// add adds name and reports whether it was not there.
func (s *attributesSeen) add(name string) bool {
	if i := coreIndex(name); i >= 0 {
		if s.core&(1<<i) != 0 {
			return false
		}
		s.core |= 1 << i
		return true
	}
	if slices.Contains(s.extensions, name) {
		return false
	}
	s.extensions = append(s.extensions, name)
	return true
}

func (s *attributesSeen) remove(name string) {
	if i := coreIndex(name); i >= 0 {
		s.core &^= 1 << i
		return
	}
	if i := slices.Index(s.extensions, name); i >= 0 {
		s.extensions = slices.Delete(s.extensions, i, i+1)
	}
}

func (s *attributesSeen) has(name string) bool {
	if i := coreIndex(name); i >= 0 {
		return s.core&(1<<i) != 0
	}
	return slices.Contains(s.extensions, name)
}

// kindOf is the kind of a JSON value from its first token's kind.
func kindOf(k jsontext.Kind) valueKind {
	switch k {
	case '"':
		return kindString
	case '0':
		return kindNumber
	case 't', 'f':
		return kindBool
	case 'n':
		return kindNull
	}
	return kindOther
}

// withoutMembers returns the JSON object data without the members named.
func withoutMembers(data []byte, names []string) ([]byte, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, ruleErr(RuleJSONObject, "the event is not valid JSON: %v", err)
	}
	for _, n := range names {
		delete(members, n)
	}
	b, err := json.Marshal(members)
	if err != nil {
		return nil, fmt.Errorf("writing the event without its nulls: %w", err)
	}
	return b, nil
}

// checkBinary checks the attributes of a binary-mode message (HTTP ce-*
// headers, SQS ce-* message attributes; datacontenttype from the
// content type), all strings: the same rules as a structured event's.
func checkBinary(attrs map[string]string) error {
	for name, v := range attrs {
		if name == "data" || name == "data_base64" {
			return ruleErr(RuleAttributeName, "%s is the event's data, not an attribute", name)
		}
		if err := checkAttribute(name, kindString, v); err != nil {
			return err
		}
	}
	return checkRequired(func(name string) bool { _, ok := attrs[name]; return ok })
}

// untrimmed gives a binary-mode event the id, type, subject and
// datacontenttype its attributes carry (attrs, as checkBinary checked them):
// the SDK's setters trim the spaces around them, its JSON decoding does
// not, and every door gives the same event.
func untrimmed(e *event.Event, attrs map[string]string) {
	ec, ok := e.Context.(*event.EventContextV1)
	if !ok {
		return
	}
	ec.ID, ec.Type = attrs["id"], attrs["type"]
	if s, ok := attrs["subject"]; ok {
		ec.Subject = &s
	}
	if ct, ok := attrs["datacontenttype"]; ok {
		ec.DataContentType = &ct
	}
}

// finishBinary sets the data of a binary-mode event, body, as the SQS and
// HTTP binary modes read it: without a content type the data is JSON, as in
// the JSON format, and data of a JSON content type must be JSON.
func finishBinary(e *event.Event, body []byte) error {
	if len(body) == 0 {
		return nil
	}
	ct := e.DataContentType()
	if ct == "" {
		ct = event.ApplicationJSON
		e.SetDataContentType(ct)
	}
	e.DataEncoded = body
	if IsJSON(ct) && !json.Valid(body) {
		return ruleErr(RuleDataJSON, "the data of content type %s is not JSON", quoteShort(ct))
	}
	return nil
}
