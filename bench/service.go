package bench

import (
	"context"
	"time"

	"github.com/coworks-go/cws/runtime"
)

// Query holds the keyword parameters of the benchmarked entry.
type Query struct {
	Flag bool  `json:"flag"`
	IDs  []int `json:"ids"`
	N    int   `json:"n"`
}

// Result is the answer of the benchmarked entry.
type Result struct {
	ID   int   `json:"id"`
	Flag bool  `json:"flag"`
	IDs  []int `json:"ids"`
	N    int   `json:"n"`
}

// Service is the cws side of the benchmarks.
type Service struct{}

// GetItems_ echoes its typed path and query parameters.
func (Service) GetItems_(ctx context.Context, id int, q Query) Result {
	return Result{ID: id, Flag: q.Flag, IDs: q.IDs, N: q.N}
}

// Item is the body of the load test's JSON POST, answered as it was sent.
type Item struct {
	Name  string   `json:"name"`
	Qty   int      `json:"qty"`
	Price float64  `json:"price"`
	Tags  []string `json:"tags"`
}

// PostItems answers the item it was given: a JSON body in, the same out.
func (Service) PostItems(ctx context.Context, in Item) Item {
	return in
}

// Mark is the body of the load test's events: the event's own id, which
// the entry records.
type Mark struct {
	ID string `json:"id"`
}

// Sink is the entry the load test's events invoke through the async door:
// it records when each id arrived, so that the test counts each event once
// and times it from the door's acceptance to the entry.
type Sink struct {
	// Arrived is called by PostMarks with the id and the time it ran.
	Arrived func(id string, at time.Time)
}

// PostMarks records the mark's id.
func (s Sink) PostMarks(ctx context.Context, in Mark) error {
	if in.ID == "" {
		return runtime.BadRequest("a mark without id")
	}
	s.Arrived(in.ID, time.Now())
	return nil
}
