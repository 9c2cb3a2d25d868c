package bench

import "context"

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
