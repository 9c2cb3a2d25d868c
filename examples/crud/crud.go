package main

import (
	"context"
	_ "embed"
	"errors"
	"slices"
	"strconv"
	"sync"

	"github.com/coworks-go/cws/runtime"
)

// Item is one stored item.
type Item struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Price float64  `json:"price"`
	Tags  []string `json:"tags"`
}

// ItemInput is the body of POST / and PUT /{id}. Its jsonschema tags
// declare to the OpenAPI document what Validate enforces.
type ItemInput struct {
	Name  string   `json:"name" jsonschema:"required,minLength=1"`
	Price float64  `json:"price" jsonschema:"minimum=0"`
	Tags  []string `json:"tags"`
}

// Validate refuses an item without a name or with a negative price (422).
func (in *ItemInput) Validate() error {
	var errs []error
	if in.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if in.Price < 0 {
		errs = append(errs, errors.New("price must not be negative"))
	}
	return errors.Join(errs...)
}

// CRUD is an in-memory store of items. Every entry but GET /service/test
// needs the token of env TOKEN in the Authorization header.
type CRUD struct {
	mu    sync.Mutex
	next  int
	items map[int]Item
}

// NewCRUD returns an empty store.
func NewCRUD() *CRUD { return &CRUD{next: 1, items: map[int]Item{}} }

// ConfigureEntries exempts the health check and the logo from the
// authorizer, declares the logo's content type, and that POST / creates
// (201).
func (s *CRUD) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*CRUD).GetServiceTest, runtime.NoAuth())
	c.Entry((*CRUD).GetLogo, runtime.NoAuth(), runtime.ContentType("image/png"))
	c.Entry((*CRUD).Post, runtime.Status(201))
}

// logo is a 16×16 PNG (logo.png, a gradient): bytes that are not text.
//
//go:embed logo.png
var logo []byte

// GetLogo answers a PNG image: bytes that are not text, as every door must
// carry them.
func (s *CRUD) GetLogo(ctx context.Context) []byte {
	return logo
}

// GetServiceTest is the health check; it needs no token.
func (s *CRUD) GetServiceTest(ctx context.Context) string {
	return "service test"
}

// Get lists the items, by id.
func (s *CRUD) Get(ctx context.Context) []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Item, 0, len(s.items))
	for _, it := range s.items {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b Item) int { return a.ID - b.ID })
	return out
}

// Get_ returns the item id.
func (s *CRUD) Get_(ctx context.Context, id int) (Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	if !ok {
		return Item{}, runtime.NotFound("no item %d", id)
	}
	return it, nil
}

// Post creates an item: 201 with the item and its Location.
func (s *CRUD) Post(ctx context.Context, in ItemInput) (Item, error) {
	s.mu.Lock()
	it := Item{ID: s.next, Name: in.Name, Price: in.Price, Tags: tags(in.Tags)}
	s.items[it.ID] = it
	s.next++
	s.mu.Unlock()
	runtime.ResponseHeader(ctx).Set("Location", "/"+strconv.Itoa(it.ID))
	return it, nil
}

// Put_ replaces the item id.
func (s *CRUD) Put_(ctx context.Context, id int, in ItemInput) (Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[id]; !ok {
		return Item{}, runtime.NotFound("no item %d", id)
	}
	it := Item{ID: id, Name: in.Name, Price: in.Price, Tags: tags(in.Tags)}
	s.items[id] = it
	return it, nil
}

// Delete_ deletes the item id: 204.
func (s *CRUD) Delete_(ctx context.Context, id int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[id]; !ok {
		return runtime.NotFound("no item %d", id)
	}
	delete(s.items, id)
	return nil
}

func tags(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}

// GetContent answers without parameters.
func (s *CRUD) GetContent(ctx context.Context) string {
	return "get content"
}

// GetContent_ answers with one path parameter.
func (s *CRUD) GetContent_(ctx context.Context, value string) string {
	return "get content with " + value
}

// GetContent__ answers with two path parameters.
func (s *CRUD) GetContent__(ctx context.Context, value, other string) string {
	return "get content with " + value + " and " + other
}

// Typed holds the typed keyword parameters of GET /typed.
type Typed struct {
	// Flag is true for true, 1 or yes, in any case.
	Flag bool `json:"flag"`
	// IDs is a list: repeat the key (?ids=1&ids=2).
	IDs []int `json:"ids"`
	// N is an integer.
	N int `json:"n"`
}

// GetTyped echoes its converted query parameters.
func (s *CRUD) GetTyped(ctx context.Context, q Typed) Typed {
	if q.IDs == nil {
		q.IDs = []int{}
	}
	return q
}

// GetKwargs echoes every query parameter: a repeated key gives a list.
func (s *CRUD) GetKwargs(ctx context.Context, kw map[string]any) map[string]any {
	return kw
}
