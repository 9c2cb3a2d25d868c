// Command nethttp is the baseline of the local-server cold start: a
// hand-written net/http server answering GET /service/test as examples/crud
// does, on $CWS_ADDR.
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /service/test", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("service test"))
	})
	log.Fatal(http.ListenAndServe(os.Getenv("CWS_ADDR"), mux))
}
