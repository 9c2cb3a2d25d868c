package admin

import (
	"context"
	"embed"
	"strings"
	"sync"
)

// static holds the dashboard: its HTML shell, style and script, served
// as one page (the style and script inlined), with nothing to fetch from
// anywhere else: it works offline.
//
//go:embed static
var static embed.FS

// shell is the dashboard's page, its style and script inlined: made on the
// first request, not at init (a cold start of a stage without the dashboard
// pays nothing for it).
var shell = sync.OnceValue(func() string {
	read := func(name string) string {
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		return string(b)
	}
	page := read("index.html")
	page = strings.Replace(page, `<link rel="stylesheet" href="admin.css">`, "<style>\n"+read("admin.css")+"</style>", 1)
	page = strings.Replace(page, `<script src="admin.js"></script>`, "<script>\n"+read("admin.js")+"</script>", 1)
	return page
})

// Get serves the dashboard (docs/admin.md). The page holds no data and
// needs no token: its script asks for the token, and reads the routes,
// invocations, reactors, workflows and dead letters with it.
func (a *Admin) Get(ctx context.Context) string { return shell() }
