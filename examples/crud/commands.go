package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/coworks-go/cws/runtime"
)

// SeedFlags are the flags of the seed command.
type SeedFlags struct {
	Count int      `flag:"count" usage:"how many items to create"`
	Name  string   `flag:"name" usage:"the items' names, numbered"`
	Price float64  `flag:"price" usage:"the price of each item"`
	Tags  []string `flag:"tag" usage:"a tag of every item (repeat the flag for more)"`
}

// Commands are the service's commands, run with its code and
// configuration by `cws do ./examples/crud NAME`:
//
//	cws do ./examples/crud seed --count 3 --tag demo
//
// seed creates items through the service's own entries (POST /, then
// GET / to count them), as the service itself: no token is needed, and
// the entries validate what it sends. The store is in memory, so the
// items live as long as the command; a service keeping its data in a
// database seeds that database the same way.
func (s *CRUD) Commands() map[string]runtime.Command {
	seed := &SeedFlags{Count: 3, Name: "item", Price: 1.5}
	return map[string]runtime.Command{
		"seed": {
			Help:  "Create items through POST / and print what the entry answered.\nEach item is named --name and its number, priced --price and tagged --tag.",
			Flags: seed,
			Run: func(ctx context.Context, env *runtime.CommandEnv) error {
				if seed.Count < 1 {
					return errors.New("--count must be at least 1")
				}
				for i := range seed.Count {
					in := ItemInput{Name: fmt.Sprintf("%s %d", seed.Name, i+1), Price: seed.Price, Tags: seed.Tags}
					var created []byte
					if err := env.Client.Call(ctx, "POST", "/", in, &created); err != nil {
						return err // the entry's problem: 422 for an item it refuses
					}
					fmt.Fprintf(env.Stdout, "created %s\n", created)
				}
				var items []Item
				if err := env.Client.Call(ctx, "GET", "/", nil, &items); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "GET / answered %d item(s) in stage %s\n", len(items), env.Stage)
				return nil
			},
		},
	}
}
