// Command crud is the cws example service: an in-memory item store with
// create, read, update and delete entries, plus entries that show how path
// and keyword parameters are bound.
//
//	make run                                  # serves it on 127.0.0.1:8080
//	curl localhost:8080/service/test          # no token needed
//	curl -H 'Authorization: dev-token' localhost:8080/
package main

//go:generate go run github.com/coworks-go/cws/cmd/cws gen

import (
	"time"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/runtime"
)

// main serves the CRUD service to the pages of its front end, wherever it
// runs: a development server on localhost:5173 and the example.com sites.
func main() {
	cws.Main(NewCRUD(), runtime.WithCORS(runtime.CORS{
		AllowOrigins:  []string{"http://localhost:5173", "https://*.example.com"},
		ExposeHeaders: []string{"Location"},
		MaxAge:        10 * time.Minute,
	}))
}
