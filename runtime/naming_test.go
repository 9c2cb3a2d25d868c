package runtime

import (
	"slices"
	"testing"
)

func TestParseEntryName(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		words  []string
		ok     bool
	}{
		{"Get", "GET", nil, true},
		{"Get_", "GET", nil, true},
		{"Get__", "GET", nil, true},
		{"GetServiceTest", "GET", []string{"service", "test"}, true},
		{"GetHTTPStatus", "GET", []string{"http", "status"}, true},
		{"GetContent__", "GET", []string{"content"}, true},
		{"GetV2Items", "GET", []string{"v2", "items"}, true},
		{"GetItems2", "GET", []string{"items2"}, true},
		{"Get2FA", "GET", []string{"2", "fa"}, true},
		{"GetAPIKey_", "GET", []string{"api", "key"}, true},
		{"GetService_Test", "GET", []string{"service", "test"}, true},
		{"GetA__B", "GET", []string{"a", "b"}, true},
		{"Get_Items", "GET", []string{"items"}, true},
		{"PostOrder", "POST", []string{"order"}, true},
		{"Put", "PUT", nil, true},
		{"PatchUserEmail", "PATCH", []string{"user", "email"}, true},
		{"Delete_", "DELETE", nil, true},
		{"OptionsX", "OPTIONS", []string{"x"}, true},
		{"HeadCheck", "HEAD", []string{"check"}, true},
		{"Getter", "", nil, false},
		{"Headline", "", nil, false},
		{"Poster", "", nil, false},
		{"Puts", "", nil, false},
		{"Deleted", "", nil, false},
		{"Fetch", "", nil, false},
		{"ConfigureEntries", "", nil, false},
		{"GetÉté", "GET", []string{"été"}, true},
	} {
		method, words, ok := ParseEntryName(tc.name)
		if ok != tc.ok || method != tc.method || !slices.Equal(words, tc.words) {
			t.Errorf("ParseEntryName(%q) = %q, %q, %v; want %q, %q, %v", tc.name, method, words, ok, tc.method, tc.words, tc.ok)
		}
	}
}

func TestEntryPath(t *testing.T) {
	for _, tc := range []struct {
		words, params []string
		want          string
	}{
		{nil, nil, "/"},
		{nil, []string{"id"}, "/{id}"},
		{[]string{"service", "test"}, nil, "/service/test"},
		{[]string{"content"}, []string{"value", "other"}, "/content/{value}/{other}"},
	} {
		if got := entryPath(tc.words, tc.params); got != tc.want {
			t.Errorf("entryPath(%q, %q) = %q, want %q", tc.words, tc.params, got, tc.want)
		}
	}
}
