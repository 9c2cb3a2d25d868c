package runtime

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// entryVerbs maps the method-name prefixes that make an entry to their HTTP
// methods.
var entryVerbs = [...]struct{ prefix, method string }{
	{"Get", http.MethodGet},
	{"Post", http.MethodPost},
	{"Put", http.MethodPut},
	{"Patch", http.MethodPatch},
	{"Delete", http.MethodDelete},
	{"Options", http.MethodOptions},
	{"Head", http.MethodHead},
}

// ParseEntryName reports whether a Go method name names an entry and, if so,
// its HTTP method and the words of its path.
//
// A name is an entry name when it starts with an HTTP verb (Get, Post, Put,
// Patch, Delete, Options, Head) followed by nothing, an upper-case letter, a
// digit or an underscore: Get, GetServiceTest and Get_ are entry names, Getter
// and Headline are not. The rest of the name is split into words at case
// changes and underscores and lower-cased; an acronym stays one word
// (GetHTTPStatus gives "http", "status"). Trailing underscores only make
// distinct Go names and give no word.
func ParseEntryName(name string) (method string, words []string, ok bool) {
	for _, v := range entryVerbs {
		rest, found := strings.CutPrefix(name, v.prefix)
		if !found {
			continue
		}
		if rest != "" {
			r, _ := utf8.DecodeRuneInString(rest)
			if r != '_' && !unicode.IsUpper(r) && !unicode.IsDigit(r) {
				continue
			}
		}
		return v.method, splitWords(rest), true
	}
	return "", nil, false
}

// splitWords splits an identifier tail into lower-case words at underscores
// and case changes.
func splitWords(s string) []string {
	var words []string
	runes := []rune(s)
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, strings.ToLower(string(runes[start:end])))
		}
		start = -1
	}
	for i, r := range runes {
		if r == '_' {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		prev := runes[i-1]
		switch {
		case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
			// fooBar, v2Items: a new word starts at the upper-case letter.
			flush(i)
			start = i
		case unicode.IsUpper(r) && unicode.IsUpper(prev) && i+1 < len(runes) && unicode.IsLower(runes[i+1]):
			// HTTPStatus: the last capital of an acronym starts the next word.
			flush(i)
			start = i
		}
	}
	flush(len(runes))
	return words
}

// entryPath builds the route template of an entry from its name words and
// positional parameter names: words joined by "/", then one "{name}" segment
// per positional parameter.
func entryPath(words, params []string) string {
	var b strings.Builder
	for _, w := range words {
		b.WriteByte('/')
		b.WriteString(w)
	}
	for _, p := range params {
		b.WriteString("/{")
		b.WriteString(p)
		b.WriteByte('}')
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}
