package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/coworks-go/cws/blueprint/admin"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/runtime/cwsgen"
)

// shop is a documented service.
type shop struct{}

// GetItems_ returns <one> item.
func (shop) GetItems_(ctx context.Context, id int) int { return id }

func (shop) GetSecret(ctx context.Context) string { return "" }

func (shop) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry(shop.GetSecret, runtime.Stages("prod"))
}

func init() {
	cwsgen.Describe((*shop)(nil), cwsgen.TypeInfo{Doc: "shop sells things.", Methods: map[string]cwsgen.MethodInfo{
		"GetItems_": {Doc: "GetItems_ returns <one> item.", Params: []string{"id"}},
	}})
}

func serve(t *testing.T, app *runtime.App, path, token string) *runtime.Response {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", token)
	}
	return app.Serve(context.Background(), &runtime.Request{Method: "GET", Path: path, Header: h})
}

func TestAdmin(t *testing.T) {
	app, err := runtime.New(shop{}, runtime.WithBlueprint("/admin", admin.New()),
		runtime.WithAuthorizer(runtime.TokenAuthorizer(testutil.Token)), runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if r := serve(t, app, "/admin/routes", ""); r.Status != 401 {
		t.Errorf("routes without a token: %d", r.Status)
	}
	r := serve(t, app, "/admin/routes", testutil.Token)
	var desc runtime.Description
	if err := json.Unmarshal(r.Body, &desc); err != nil || r.Status != 200 {
		t.Fatalf("routes: %d %s %v", r.Status, r.Body, err)
	}
	if desc.Service != "shop" || desc.Doc != "shop sells things." || desc.Stage != "dev" || len(desc.Routes) != 6 {
		t.Errorf("description %+v", desc)
	}

	// The dashboard's page needs no token and holds no data of the
	// service.
	r = serve(t, app, "/admin", "")
	page := string(r.Body)
	if r.Status != 200 || r.ContentType != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %v", r.Status, r.Header)
	}
	for _, want := range []string{"<title>cws admin</title>", "<style>", "prefers-color-scheme: dark", "<script>", "/_cws/deadletters"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, leak := range []string{"shop sells things", "/items/{id}", "GetItems_", `href="admin.css"`, `src="admin.js"`} {
		if strings.Contains(page, leak) {
			t.Errorf("page holds %q", leak)
		}
	}
	// Nothing to fetch elsewhere: it works offline.
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//[^"]*"|url\((https?:)?//|@import`).FindString(page); m != "" {
		t.Errorf("page loads %s", m)
	}
}
