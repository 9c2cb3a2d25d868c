package async_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/runtime/cwsgen"
)

// shop is the service of the doors' tests: an item store.
type shop struct {
	mu    sync.Mutex
	items map[int]item
}

type item struct {
	ID   int      `json:"id,omitempty"`
	Name string   `json:"name"`
	Tags []string `json:"tags,omitempty"`
}

func init() {
	cwsgen.Describe((*shop)(nil), cwsgen.TypeInfo{Methods: map[string]cwsgen.MethodInfo{
		"GetItems_": {Params: []string{"id"}}, "PostItems": {Params: []string{"in"}}, "PostEcho": {Params: []string{"kw"}},
	}})
}

func newShop() *shop { return &shop{items: map[int]item{7: {ID: 7, Name: "lamp"}}} }

func (s *shop) GetItems_(ctx context.Context, id int) (item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	if !ok {
		return item{}, runtime.NotFound("no item %d", id)
	}
	return it, nil
}

func (s *shop) PostItems(ctx context.Context, in item) item {
	s.mu.Lock()
	defer s.mu.Unlock()
	in.ID = len(s.items) + 7
	s.items[in.ID] = in
	runtime.SetStatus(ctx, 201)
	return in
}

func (s *shop) PostEcho(ctx context.Context, kw map[string]any) map[string]any { return kw }

func (s *shop) GetText(ctx context.Context) string { return "text" }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// newApp is the App of s with the token tok.
func newApp(t testing.TB, s any, opts ...runtime.Option) *runtime.App {
	t.Helper()
	app, err := runtime.New(s, append([]runtime.Option{runtime.WithAuthorizer(runtime.TokenAuthorizer(testutil.Token)), runtime.WithLogger(discard)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return app
}
